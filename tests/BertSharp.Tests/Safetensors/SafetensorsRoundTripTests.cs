using BertSharp.Safetensors;
using static BertSharp.Tests.Safetensors.SafetensorsTestSupport;
using static TorchSharp.torch;

namespace BertSharp.Tests.Safetensors;

public sealed class SafetensorsRoundTripTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<SafetensorsDtype> AllDtypes() => new(Enum.GetValues<SafetensorsDtype>());

    [Theory]
    [MemberData(nameof(AllDtypes))]
    public void EveryDtypeRoundTripsBitForBit(SafetensorsDtype dtype)
    {
        var path = _dir.File("t.safetensors");
        using var original = RandomTensor(dtype.ToScalarType(), [3, 5, 2], seed: (int)dtype);

        SafetensorsWriter.Save(path, [new("x", original)]);

        using var file = SafetensorsFile.Open(path);
        var info = file.GetInfo("x");
        Assert.Equal(dtype, info.Dtype);
        Assert.Equal([3L, 5, 2], info.Shape);
        Assert.Equal(30L * dtype.ElementSize(), info.ByteLength);
        using var read = file.ReadTensor("x");
        AssertSameTensor(original, read);

        var raw = new byte[info.ByteLength];
        file.CopyBytes("x", raw);
        Assert.Equal(Bytes(original), raw);
    }

    [Theory]
    [InlineData(SafetensorsDtype.F32)]
    [InlineData(SafetensorsDtype.I64)]
    [InlineData(SafetensorsDtype.BOOL)]
    public void ScalarsHaveAnEmptyShape(SafetensorsDtype dtype)
    {
        var path = _dir.File("scalar.safetensors");
        using var scalar = RandomTensor(dtype.ToScalarType(), [], seed: 7);

        SafetensorsWriter.Save(path, [new("s", scalar)]);

        using var file = SafetensorsFile.Open(path);
        Assert.Empty(file.GetInfo("s").Shape);
        using var read = file.ReadTensor("s");
        Assert.Equal(0, read.Dimensions);
        AssertSameTensor(scalar, read);
    }

    [Fact]
    public void ZeroSizeTensorsTakeNoBytesAndMayShareAnOffset()
    {
        var path = _dir.File("empty.safetensors");
        using var a = RandomTensor(ScalarType.Float32, [2], seed: 1);
        using var b = empty([0], ScalarType.Float32);
        using var c = empty([3, 0, 2], ScalarType.Int64);
        using var d = RandomTensor(ScalarType.Int16, [3], seed: 2);

        SafetensorsWriter.Save(path, [new("a", a), new("b", b), new("c", c), new("d", d)]);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["a", "b", "c", "d"], file.Tensors.Select(t => t.Name));
        Assert.Equal((8L, 8L), (file.GetInfo("b").Begin, file.GetInfo("b").End));
        Assert.Equal((8L, 8L), (file.GetInfo("c").Begin, file.GetInfo("c").End));
        using var readB = file.ReadTensor("b");
        using var readC = file.ReadTensor("c");
        using var readD = file.ReadTensor("d");
        AssertSameTensor(b, readB);
        AssertSameTensor(c, readC);
        AssertSameTensor(d, readD);
    }

    [Fact]
    public void NonContiguousInputIsWrittenInLogicalOrder()
    {
        var path = _dir.File("transposed.safetensors");
        using var matrix = arange(12, ScalarType.Int32).reshape(3, 4);
        using var transposed = matrix.t();
        Assert.False(transposed.is_contiguous());

        SafetensorsWriter.Save(path, [new("t", transposed)]);

        using var file = SafetensorsFile.Open(path);
        using var read = file.ReadTensor("t");
        Assert.Equal([4L, 3], read.shape);
        Assert.Equal([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], read.data<int>().ToArray());
    }

    [Fact]
    public void MetadataRoundTrips()
    {
        var path = _dir.File("meta.safetensors");
        using var x = RandomTensor(ScalarType.Float32, [2], seed: 4);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["note"] = "quotes \" backslash \\ newline \n tab \t unicode é 日本 <tag> +1",
            ["empty"] = "",
        };

        SafetensorsWriter.Save(path, [new("x", x)], metadata);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(metadata.OrderBy(kv => kv.Key), file.Metadata.OrderBy(kv => kv.Key));
    }

    [Fact]
    public void MetadataIsEmptyWhenAbsent()
    {
        var path = _dir.File("nometa.safetensors");
        using var x = RandomTensor(ScalarType.Float32, [2], seed: 5);

        SafetensorsWriter.Save(path, [new("x", x)]);

        using var file = SafetensorsFile.Open(path);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void NamesAreKeptExactly()
    {
        var path = _dir.File("names.safetensors");
        string[] names = ["bert.encoder.layer.0.attention.self.query.weight", "ü+<>\"\\ name", ""];
        var tensors = names.Select((n, i) => new KeyValuePair<string, Tensor>(n, RandomTensor(ScalarType.Float32, [1], i))).ToList();

        SafetensorsWriter.Save(path, tensors);

        using var file = SafetensorsFile.Open(path);
        foreach (var (name, tensor) in tensors)
        {
            Assert.True(file.Contains(name));
            using var read = file.ReadTensor(name);
            AssertSameTensor(tensor, read);
            tensor.Dispose();
        }
    }

    [Fact]
    public void TensorsStayValidAfterTheFileIsDisposed()
    {
        var path = _dir.File("owned.safetensors");
        using var x = RandomTensor(ScalarType.Float64, [64], seed: 6);
        SafetensorsWriter.Save(path, [new("x", x)]);

        Tensor read;
        using (var file = SafetensorsFile.Open(path))
        {
            read = file.ReadTensor("x");
            file.Dispose();
            Assert.Throws<ObjectDisposedException>(() => file.ReadTensor("x"));
        }
        File.Delete(path);

        using (read)
            AssertSameTensor(x, read);
    }

    [Fact]
    public void ReadTensorIsIndependentOfTheMappedFile()
    {
        var path = _dir.File("independent.safetensors");
        using var x = RandomTensor(ScalarType.Float32, [4], seed: 8);
        SafetensorsWriter.Save(path, [new("x", x)]);

        using var file = SafetensorsFile.Open(path);
        using var first = file.ReadTensor("x");
        first.bytes.Clear();
        using var second = file.ReadTensor("x");
        AssertSameTensor(x, second);
    }

    [Fact]
    public void LargeTensorsMoveWithoutManagedCopies()
    {
        // 64 MiB each way: a managed byte[] of the data would show up as at least that much allocation.
        const long elements = 16L << 20;
        const long managedBudget = 1L << 20;
        var path = _dir.File("large.safetensors");
        using var large = RandomTensor(ScalarType.Float32, [elements], seed: 11);

        var before = GC.GetAllocatedBytesForCurrentThread();
        SafetensorsWriter.Save(path, [new("large", large)]);
        var afterSave = GC.GetAllocatedBytesForCurrentThread();
        using var file = SafetensorsFile.Open(path);
        using var read = file.ReadTensor("large");
        var afterRead = GC.GetAllocatedBytesForCurrentThread();

        Assert.InRange(afterSave - before, 0, managedBudget);
        Assert.InRange(afterRead - afterSave, 0, managedBudget);
        Assert.True(large.bytes.SequenceEqual(read.bytes));
    }

    [Fact]
    public void MissingTensorNamesTheTensorAndTheFile()
    {
        var path = _dir.File("lookup.safetensors");
        using var x = RandomTensor(ScalarType.Float32, [1], seed: 9);
        SafetensorsWriter.Save(path, [new("x", x)]);

        using var file = SafetensorsFile.Open(path);
        Assert.False(file.Contains("y"));
        var ex = Assert.Throws<KeyNotFoundException>(() => file.GetInfo("y"));
        Assert.Contains("'y'", ex.Message);
        Assert.Contains("lookup.safetensors", ex.Message);
        Assert.Throws<KeyNotFoundException>(() => file.ReadTensor("y"));
    }

    [Fact]
    public void MissingFileIsFileNotFound()
    {
        var path = _dir.File("absent.safetensors");
        var ex = Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Open(path));
        Assert.Equal(path, ex.FileName);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void CopyBytesRejectsAWrongSizedDestination()
    {
        var path = _dir.File("copy.safetensors");
        using var x = RandomTensor(ScalarType.Float32, [4], seed: 10);
        SafetensorsWriter.Save(path, [new("x", x)]);

        using var file = SafetensorsFile.Open(path);
        Assert.Throws<ArgumentException>(() => file.CopyBytes("x", new byte[15]));
    }
}
