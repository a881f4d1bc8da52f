using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace BertSharp.Safetensors;

/// <summary>
/// Parses and validates a header as strictly as the Rust safetensors crate, so that a file BertSharp accepts
/// is one every other reader accepts too. Utf8JsonReader rather than JsonDocument because JsonDocument
/// silently keeps duplicate property names, and a duplicate tensor name would make "which one wins"
/// depend on the reader.
/// </summary>
internal sealed class SafetensorsHeader
{
    /// <summary>The Rust crate's limit: anything larger is a corrupt length field, not a real header.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    private readonly string _filePath;

    private SafetensorsHeader(string filePath) => _filePath = filePath;

    /// <summary>Tensors sorted by their data offsets.</summary>
    public List<SafetensorsTensorInfo> Tensors { get; } = [];

    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    public static SafetensorsHeader Parse(ReadOnlySpan<byte> json, long bufferLength, string filePath)
    {
        var header = new SafetensorsHeader(filePath);
        if (!Utf8.IsValid(json))
            throw header.Error("header is not valid UTF-8");
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            header.ReadRoot(ref reader);
        }
        catch (JsonException ex)
        {
            throw header.Error($"header is not valid JSON ({ex.Message})", ex);
        }
        header.CheckTiling(bufferLength);
        return header;
    }

    private void ReadRoot(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw Error("header is not a JSON object");

        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            if (!seen.Add(name))
                throw Error($"header has duplicate entry '{name}'");
            reader.Read();
            if (name == MetadataKey)
                ReadMetadata(ref reader);
            else
                Tensors.Add(ReadTensorEntry(ref reader, name));
        }
        // Reading past the root object makes the reader reject anything but whitespace after it.
        if (reader.Read())
            throw Error("header has content after its JSON object");
    }

    private void ReadMetadata(ref Utf8JsonReader reader)
    {
        // The Rust crate models metadata as Option<HashMap<String, String>>, so null means absent.
        if (reader.TokenType == JsonTokenType.Null)
            return;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Error($"{MetadataKey} is not a JSON object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
                throw Error($"{MetadataKey} value for '{key}' is not a string (found {Describe(reader.TokenType)})");
            if (!Metadata.TryAdd(key, reader.GetString()!))
                throw Error($"{MetadataKey} has duplicate key '{key}'");
        }
    }

    private SafetensorsTensorInfo ReadTensorEntry(ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Error($"entry '{name}' is not a JSON object (found {Describe(reader.TokenType)})");

        SafetensorsDtype? dtype = null;
        long[]? shape = null;
        long[]? offsets = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = reader.GetString()!;
            reader.Read();
            switch (field)
            {
                case "dtype" when dtype is null:
                    dtype = ReadDtype(ref reader, name);
                    break;
                case "shape" when shape is null:
                    shape = ReadIntegers(ref reader, name, "shape");
                    break;
                case "data_offsets" when offsets is null:
                    offsets = ReadIntegers(ref reader, name, "data_offsets");
                    if (offsets.Length != 2)
                        throw Error($"tensor '{name}' has data_offsets with {offsets.Length} values instead of two non-negative integers");
                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw Error($"tensor '{name}' has field '{field}' more than once");
                default:
                    // Unknown fields are ignored, as serde does for the Rust crate's TensorInfo.
                    reader.Skip();
                    break;
            }
        }

        if (dtype is null) throw Error($"tensor '{name}' is missing 'dtype'");
        if (shape is null) throw Error($"tensor '{name}' is missing 'shape'");
        if (offsets is null) throw Error($"tensor '{name}' is missing 'data_offsets'");

        var (begin, end) = (offsets[0], offsets[1]);
        if (begin > end)
            throw Error($"tensor '{name}' has data_offsets [{begin},{end}] with begin after end");
        var info = new SafetensorsTensorInfo(name, dtype.Value, shape, begin, end);
        CheckByteLength(info);
        return info;
    }

    private SafetensorsDtype ReadDtype(ref Utf8JsonReader reader, string name)
    {
        if (reader.TokenType != JsonTokenType.String)
            throw Error($"tensor '{name}' has a dtype that is not a string (found {Describe(reader.TokenType)})");
        var text = reader.GetString()!;
        if (!SafetensorsDtypeExtensions.TryParseHeaderName(text, out var dtype))
            throw Error($"tensor '{name}' has unknown dtype '{text}' (supported: {string.Join(", ", Enum.GetNames<SafetensorsDtype>())})");
        return dtype;
    }

    private long[] ReadIntegers(ref Utf8JsonReader reader, string name, string field)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw Error($"tensor '{name}' has {field} that is not an array of non-negative integers (found {Describe(reader.TokenType)})");
        var values = new List<long>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            // TryGetInt64 refuses fractions, exponents and values past long.MaxValue, all of which are corrupt here.
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value) || value < 0)
                throw Error($"tensor '{name}' has {field} value {RawText(ref reader)} that is not a non-negative integer");
            values.Add(value);
        }
        return [.. values];
    }

    private void CheckByteLength(SafetensorsTensorInfo info)
    {
        long expected;
        try
        {
            expected = info.Dtype.ElementSize();
            foreach (var dim in info.Shape)
                expected = checked(expected * dim);
        }
        catch (OverflowException)
        {
            throw Error($"tensor '{info.Name}' has shape {FormatShape(info.Shape)} whose byte size overflows a 64-bit integer");
        }
        if (expected != info.ByteLength)
            throw Error($"tensor '{info.Name}' has shape {FormatShape(info.Shape)} of {info.Dtype} = {expected} bytes " +
                        $"but its data_offsets span {info.ByteLength} bytes");
    }

    /// <summary>Sorted by begin, the spans must cover [0, bufferLength) exactly once: no overlap, no gap, no tail.</summary>
    private void CheckTiling(long bufferLength)
    {
        foreach (var info in Tensors)
        {
            if (info.End > bufferLength)
                throw Error($"tensor '{info.Name}' has data_offsets end {info.End} beyond the data buffer of {bufferLength} bytes");
        }

        // Zero-length tensors may share an offset with a neighbour; ordering by end keeps them first.
        Tensors.Sort((a, b) =>
        {
            var byBegin = a.Begin.CompareTo(b.Begin);
            if (byBegin != 0) return byBegin;
            var byEnd = a.End.CompareTo(b.End);
            return byEnd != 0 ? byEnd : string.CompareOrdinal(a.Name, b.Name);
        });

        long covered = 0;
        SafetensorsTensorInfo? previous = null;
        foreach (var info in Tensors)
        {
            if (info.Begin < covered)
                throw Error($"tensors '{previous!.Name}' [{previous.Begin},{previous.End}) and '{info.Name}' [{info.Begin},{info.End}) overlap");
            if (info.Begin > covered)
                throw Error($"data buffer has a gap: bytes [{covered},{info.Begin}) before tensor '{info.Name}' belong to no tensor");
            covered = info.End;
            previous = info;
        }
        if (covered != bufferLength)
            throw Error($"data buffer has {bufferLength - covered} trailing bytes after the last tensor (tensors cover {covered} of {bufferLength} bytes)");
    }

    private SafetensorsFormatException Error(string problem, Exception? inner = null) => new(_filePath, problem, inner);

    private static string FormatShape(long[] shape) => $"[{string.Join(",", shape)}]";

    private static string RawText(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
        JsonTokenType.String => $"\"{reader.GetString()}\"",
        _ => Describe(reader.TokenType),
    };

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };
}
