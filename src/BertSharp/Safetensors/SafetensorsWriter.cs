using System.Buffers;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using BertSharp.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace BertSharp.Safetensors;

/// <summary>
/// Writes safetensors files that the Rust crate and Python's safetensors/transformers read: compact header JSON
/// padded with spaces so the data buffer starts 8-byte aligned, data in ordinal name order so that the same
/// tensors always give the same bytes.
/// </summary>
/// <remarks>Assumes a little-endian host: tensor bytes are written as they lie in memory.</remarks>
public static class SafetensorsWriter
{
    private const int Alignment = 8;

    // The default encoder escapes '+', '<', non-ASCII and more as \uXXXX; that is valid but makes tensor names
    // unreadable in the header. Relaxed escaping still escapes quotes, backslashes and control characters,
    // and "unsafe" only concerns embedding the JSON in HTML.
    private static readonly JsonWriterOptions JsonOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
    };

    private sealed record Entry(string Name, Tensor Tensor, SafetensorsDtype Dtype, long[] Shape, long Begin, long End);

    /// <summary>
    /// Writes the tensors (any device, any layout) to <paramref name="path"/> atomically: the file is written to
    /// a hidden temporary file beside it (<see cref="AtomicFile"/>), flushed to disk and moved over <paramref name="path"/>; on any failure the
    /// temporary file is deleted and an existing file at <paramref name="path"/> is left untouched.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="tensors">Named tensors; the order does not matter, the file is ordered by name.</param>
    /// <param name="metadata">The <c>__metadata__</c> entries; transformers needs <c>{"format": "pt"}</c>.</param>
    /// <exception cref="ArgumentException">A duplicate or reserved name, or a dtype safetensors cannot store.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors,
                            IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        SafetensorsFile.EnsureLittleEndianHost();

        // Everything that can be rejected is checked before the first byte is written.
        var entries = Plan(tensors);
        var header = BuildHeader(entries, metadata);

        // A crash mid-write leaves the previous file untouched: the bytes go to a temporary file, reach the disk,
        // and only then replace the target.
        AtomicFile.Write(path, stream =>
        {
            Span<byte> lengthField = stackalloc byte[sizeof(ulong)];
            BinaryPrimitives.WriteUInt64LittleEndian(lengthField, (ulong)header.Length);
            stream.Write(lengthField);
            stream.Write(header);
            foreach (var entry in entries)
                WriteData(entry, stream);
        });
    }

    private static List<Entry> Plan(IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        var byName = new SortedDictionary<string, (Tensor Tensor, SafetensorsDtype Dtype)>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (name is null)
                throw new ArgumentException("A tensor name is null.", nameof(tensors));
            if (name == SafetensorsHeader.MetadataKey)
                throw new ArgumentException($"'{name}' is reserved for metadata and cannot name a tensor.", nameof(tensors));
            if (tensor is null)
                throw new ArgumentException($"Tensor '{name}' is null.", nameof(tensors));
            if (tensor.is_sparse)
                throw new ArgumentException($"Tensor '{name}' is sparse; safetensors stores dense tensors only.", nameof(tensors));
            if (!SafetensorsDtypeExtensions.TryFromScalarType(tensor.dtype, out var dtype))
                throw new ArgumentException(
                    $"Tensor '{name}' has dtype {tensor.dtype}, which safetensors cannot store here " +
                    $"(supported: {string.Join(", ", Enum.GetNames<SafetensorsDtype>())}).", nameof(tensors));
            if (!byName.TryAdd(name, (tensor, dtype)))
                throw new ArgumentException($"Tensor name '{name}' appears more than once.", nameof(tensors));
        }

        var entries = new List<Entry>(byName.Count);
        long offset = 0;
        foreach (var (name, (tensor, dtype)) in byName)
        {
            var byteLength = TensorBytes.ByteLength(tensor);
            entries.Add(new Entry(name, tensor, dtype, tensor.shape, offset, offset + byteLength));
            offset += byteLength;
        }
        return entries;
    }

    private static byte[] BuildHeader(List<Entry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafetensorsHeader.MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    if (value is null)
                        throw new ArgumentException($"Metadata value for '{key}' is null.", nameof(metadata));
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            foreach (var entry in entries)
            {
                json.WriteStartObject(entry.Name);
                json.WriteString("dtype", entry.Dtype.ToString());
                json.WriteStartArray("shape");
                foreach (var dim in entry.Shape)
                    json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(entry.Begin);
                json.WriteNumberValue(entry.End);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }

        // The length field is 8 bytes, so padding the header to a multiple of 8 aligns the data buffer.
        var padded = (buffer.WrittenCount + Alignment - 1) / Alignment * Alignment;
        if (padded > SafetensorsHeader.MaxHeaderBytes)
            throw new ArgumentException(
                $"The header would be {padded} bytes, more than readers accept ({SafetensorsHeader.MaxHeaderBytes}).", "tensors");
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static void WriteData(Entry entry, Stream stream)
    {
        // Only copies made here are disposed: the caller's tensor stays theirs.
        Tensor? copy = null;
        try
        {
            var source = entry.Tensor;
            if (source.device_type != DeviceType.CPU)
                source = copy = source.cpu();
            if (!source.is_contiguous())
            {
                var contiguous = source.contiguous();
                copy?.Dispose();
                source = copy = contiguous;
            }
            if (TensorBytes.ByteLength(source) != entry.End - entry.Begin)
                throw new InvalidOperationException($"Tensor '{entry.Name}' changed size while it was being saved.");
            TensorBytes.WriteTo(source, stream);
        }
        finally
        {
            copy?.Dispose();
        }
    }
}
