using TorchSharp;
using static TorchSharp.torch;

namespace BertSharp.Safetensors;

/// <summary>
/// Moves a contiguous CPU tensor's bytes to or from a stream without an intermediate managed buffer.
/// TorchSharp 0.107 exposes a tensor's storage only as <see cref="Tensor.bytes"/>, a Span over native memory,
/// and a Span cannot be longer than int.MaxValue; larger tensors go through flat views of at most that size.
/// </summary>
internal static class TensorBytes
{
    public const long DefaultMaxChunkBytes = int.MaxValue;

    private delegate void ChunkAction(Span<byte> chunk, long offset);

    /// <summary>Fills <paramref name="destination"/> from unmanaged memory: one memcpy per chunk.</summary>
    public static unsafe void ReadFrom(Tensor destination, IntPtr source, long length, long maxChunkBytes = DefaultMaxChunkBytes)
    {
        var expected = ByteLength(destination);
        if (length != expected)
            throw new InvalidOperationException($"The tensor needs {expected} bytes but the source holds {length}.");
        ForEachChunk(destination, maxChunkBytes,
            (chunk, offset) => new ReadOnlySpan<byte>((byte*)source + offset, chunk.Length).CopyTo(chunk));
    }

    public static void WriteTo(Tensor source, Stream destination, long maxChunkBytes = DefaultMaxChunkBytes) =>
        ForEachChunk(source, maxChunkBytes, (chunk, _) => destination.Write(chunk));

    public static long ByteLength(Tensor tensor) => checked(tensor.NumberOfElements * tensor.ElementSize);

    private static void ForEachChunk(Tensor tensor, long maxChunkBytes, ChunkAction action)
    {
        if (tensor.device_type != DeviceType.CPU || !tensor.is_contiguous())
            throw new ArgumentException("The tensor must be a contiguous CPU tensor.", nameof(tensor));

        var total = ByteLength(tensor);
        if (total == 0)
            return;
        if (total <= maxChunkBytes)
        {
            action(tensor.bytes, 0);
            return;
        }

        var elementSize = tensor.ElementSize;
        var elementsPerChunk = Math.Max(1, maxChunkBytes / elementSize);
        using var flat = tensor.view(-1);
        var count = flat.NumberOfElements;
        for (long start = 0; start < count; start += elementsPerChunk)
        {
            // narrow() of a contiguous 1-D view is contiguous, and its data pointer includes the offset.
            using var chunk = flat.narrow(0, start, Math.Min(elementsPerChunk, count - start));
            action(chunk.bytes, start * elementSize);
        }
    }
}
