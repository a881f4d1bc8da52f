using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;

namespace BertSharp.IO;

/// <summary>
/// JSON parsing that treats a string which is not text as malformed JSON. System.Text.Json accepts an escape naming half
/// a UTF-16 surrogate pair (<c>"\ud800"</c>) and bytes that are not UTF-8 inside strings, and throws
/// <see cref="InvalidOperationException"/> only when such a string or property name is read: past every reader's
/// <see cref="JsonException"/> handling, so a hostile file crashed the program instead of getting its clear error.
/// </summary>
public static class JsonText
{
    /// <summary>Parses like <see cref="JsonDocument.Parse(ReadOnlyMemory{byte}, JsonDocumentOptions)"/>, after <see cref="EnsureStringsAreText"/>.</summary>
    /// <exception cref="JsonException">Malformed JSON, or a string or property name that is not text; the message names it and where it is.</exception>
    public static JsonDocument ParseDocument(ReadOnlyMemory<byte> utf8Json, JsonDocumentOptions options = default)
    {
        EnsureStringsAreText(utf8Json.Span, options);
        return JsonDocument.Parse(utf8Json, options);
    }

    /// <inheritdoc cref="ParseDocument(ReadOnlyMemory{byte}, JsonDocumentOptions)"/>
    public static JsonDocument ParseDocument(string json, JsonDocumentOptions options = default) =>
        ParseDocument(Encoding.UTF8.GetBytes(json), options);

    /// <summary>Parses like <see cref="JsonNode.Parse(string, JsonNodeOptions?, JsonDocumentOptions)"/>, after <see cref="EnsureStringsAreText"/>.</summary>
    /// <exception cref="JsonException">Malformed JSON, or a string or property name that is not text.</exception>
    public static JsonNode? ParseNode(string json, JsonDocumentOptions options = default)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        EnsureStringsAreText(bytes, options);
        return JsonNode.Parse(bytes, documentOptions: options);
    }

    /// <summary>
    /// Reads every property name and string of <paramref name="utf8Json"/> once and throws at the first that does not
    /// decode to valid text, naming it by its path (e.g. <c>'texts[1]'</c>) and position.
    /// </summary>
    /// <exception cref="JsonException">As described, or the JSON is malformed (the reader's own message).</exception>
    public static void EnsureStringsAreText(ReadOnlySpan<byte> utf8Json, JsonDocumentOptions options = default)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions
        {
            AllowTrailingCommas = options.AllowTrailingCommas,
            CommentHandling = options.CommentHandling,
            MaxDepth = options.MaxDepth,
        });
        var path = new List<Frame>();
        while (reader.Read())
        {
            var token = reader.TokenType;
            if (token is JsonTokenType.EndObject or JsonTokenType.EndArray)
            {
                path.RemoveAt(path.Count - 1);
                continue;
            }
            if (token == JsonTokenType.PropertyName)
            {
                path[^1].Name = Decode(ref reader, out var name) ? name : throw Error(utf8Json, reader,
                    $"a property name{(path.Count > 1 ? $" in '{Describe(path, path.Count - 1)}'" : "")}");
                continue;
            }
            if (token is JsonTokenType.Comment or JsonTokenType.None) continue;
            // A value: it advances the index of the array that holds it.
            if (path.Count > 0 && path[^1].IsArray) path[^1].Index++;
            if (token == JsonTokenType.String && !Decode(ref reader, out _))
                throw Error(utf8Json, reader, path.Count == 0 ? "the JSON string" : $"'{Describe(path, path.Count)}'");
            if (token is JsonTokenType.StartObject or JsonTokenType.StartArray)
                path.Add(new Frame { IsArray = token == JsonTokenType.StartArray });
        }
    }

    private sealed class Frame
    {
        public bool IsArray;
        public int Index = -1;
        public string? Name;
    }

    private static string Describe(List<Frame> path, int depth)
    {
        var text = new StringBuilder();
        for (var i = 0; i < depth; i++)
        {
            var frame = path[i];
            if (frame.IsArray) text.Append('[').Append(frame.Index).Append(']');
            else if (frame.Name is not null) text.Append(text.Length == 0 ? "" : ".").Append(frame.Name);
        }
        return text.Length == 0 ? "the JSON value" : text.ToString();
    }

    private static bool Decode(ref Utf8JsonReader reader, out string? value)
    {
        value = null;
        if (!reader.ValueIsEscaped && !Utf8.IsValid(reader.ValueSpan)) return false;
        try
        {
            value = reader.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static JsonException Error(ReadOnlySpan<byte> json, Utf8JsonReader reader, string what)
    {
        var start = (int)reader.TokenStartIndex;
        var before = json[..start];
        var line = before.Count((byte)'\n');
        var column = start - (before.LastIndexOf((byte)'\n') + 1);
        var where = line == 0 ? $"byte {column + 1}" : $"line {line + 1}, byte {column + 1}";
        var reason = reader.ValueIsEscaped ? "it has an unpaired UTF-16 surrogate escape" : "it is not valid UTF-8";
        return new JsonException($"{what} is not valid text: {reason} ({where}).", path: null, lineNumber: line, bytePositionInLine: column);
    }
}
