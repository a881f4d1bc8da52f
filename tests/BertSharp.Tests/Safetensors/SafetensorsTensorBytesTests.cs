using System.Runtime.InteropServices;
using BertSharp.Safetensors;
using static BertSharp.Tests.Safetensors.SafetensorsTestSupport;
using static TorchSharp.torch;

namespace BertSharp.Tests.Safetensors;

/// <summary>
/// Tensors over 2 GiB must go through several spans; small chunk sizes exercise that path without 2 GiB of memory.
/// </summary>
public sealed class SafetensorsTensorBytesTests
{
    [Theory]
    [InlineData(12)]  // whole elements per chunk, uneven last chunk
    [InlineData(7)]   // not a multiple of the element size
    [InlineData(1)]   // smaller than one element
    public void ChunkedWriteAndReadMatchTheWholeTensor(long maxChunkBytes)
    {
        using var tensor = RandomTensor(ScalarType.Float32, [5, 2], seed: 1);
        using var written = new MemoryStream();

        TensorBytes.WriteTo(tensor, written, maxChunkBytes);

        Assert.Equal(Bytes(tensor), written.ToArray());

        using var read = empty([5, 2], ScalarType.Float32);
        var source = GCHandle.Alloc(written.ToArray(), GCHandleType.Pinned);
        try
        {
            TensorBytes.ReadFrom(read, source.AddrOfPinnedObject(), written.Length, maxChunkBytes);
        }
        finally
        {
            source.Free();
        }
        AssertSameTensor(tensor, read);
    }

    [Fact]
    public void ReadRefusesASourceOfTheWrongLength()
    {
        using var tensor = empty([4], ScalarType.Float32);

        Assert.Throws<InvalidOperationException>(() => TensorBytes.ReadFrom(tensor, IntPtr.Zero, 15));
    }
}
