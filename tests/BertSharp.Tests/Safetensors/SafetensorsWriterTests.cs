using System.Buffers.Binary;
using System.Text;
using BertSharp.Safetensors;
using static BertSharp.Tests.Safetensors.SafetensorsTestSupport;
using static TorchSharp.torch;

namespace BertSharp.Tests.Safetensors;

public sealed class SafetensorsWriterTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void LayoutIsLengthFieldThenCompactPaddedJsonThenAlignedDataInNameOrder()
    {
        var path = _dir.File("layout.safetensors");
        using var b = RandomTensor(ScalarType.Float32, [2], seed: 1);
        using var a = RandomTensor(ScalarType.Int64, [1], seed: 2);

        SafetensorsWriter.Save(path, [new("b", b), new("a", a)], new Dictionary<string, string> { ["format"] = "pt" });

        var bytes = File.ReadAllBytes(path);
        var headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var bufferStart = 8 + headerLength;
        Assert.Equal(0, bufferStart % 8);
        Assert.Equal(bufferStart + 8 + 8, bytes.Length);

        var header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        const string json =
            "{\"__metadata__\":{\"format\":\"pt\"}," +
            "\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}," +
            "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}";
        Assert.Equal(json, header.TrimEnd(' '));
        Assert.True(header.Length - json.Length < 8, "padding is less than the alignment");
        Assert.Equal(bytes.AsSpan(8 + json.Length, (int)headerLength - json.Length).ToArray(),
                     Enumerable.Repeat((byte)' ', (int)headerLength - json.Length).ToArray());

        Assert.Equal(Bytes(a), bytes[(int)bufferStart..(int)(bufferStart + 8)]);
        Assert.Equal(Bytes(b), bytes[(int)(bufferStart + 8)..]);
    }

    [Fact]
    public void OutputDoesNotDependOnInputOrder()
    {
        using var x = RandomTensor(ScalarType.Float32, [3], seed: 3);
        using var y = RandomTensor(ScalarType.BFloat16, [5], seed: 4);
        using var z = RandomTensor(ScalarType.Bool, [7], seed: 5);
        var meta1 = new Dictionary<string, string> { ["format"] = "pt", ["a"] = "1" };
        var meta2 = new Dictionary<string, string> { ["a"] = "1", ["format"] = "pt" };

        SafetensorsWriter.Save(_dir.File("1.safetensors"), [new("x", x), new("y", y), new("z", z)], meta1);
        SafetensorsWriter.Save(_dir.File("2.safetensors"), [new("z", z), new("x", x), new("y", y)], meta2);

        Assert.Equal(File.ReadAllBytes(_dir.File("1.safetensors")), File.ReadAllBytes(_dir.File("2.safetensors")));
    }

    [Fact]
    public void NoTensorsGivesAValidFile()
    {
        var path = _dir.File("none.safetensors");

        SafetensorsWriter.Save(path, [], new Dictionary<string, string> { ["format"] = "pt" });

        using var file = SafetensorsFile.Open(path);
        Assert.Empty(file.Tensors);
        Assert.Equal("pt", file.Metadata["format"]);
    }

    [Fact]
    public void DuplicateNamesAreRejectedByName()
    {
        using var x = RandomTensor(ScalarType.Float32, [1], seed: 6);
        var path = _dir.File("dup.safetensors");

        var ex = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Save(path, [new("w", x), new("w", x)]));

        Assert.Contains("'w'", ex.Message);
        Assert.Contains("more than once", ex.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void UnsupportedDtypeIsRejectedByName()
    {
        using var c = zeros([2], ScalarType.ComplexFloat32);
        var path = _dir.File("complex.safetensors");

        var ex = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Save(path, [new("c.weight", c)]));

        Assert.Contains("'c.weight'", ex.Message);
        Assert.Contains("ComplexFloat32", ex.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void MetadataKeyCannotNameATensor()
    {
        using var x = RandomTensor(ScalarType.Float32, [1], seed: 7);

        var ex = Assert.Throws<ArgumentException>(
            () => SafetensorsWriter.Save(_dir.File("reserved.safetensors"), [new("__metadata__", x)]));

        Assert.Contains("'__metadata__'", ex.Message);
    }

    [Fact]
    public void OverwritesAnExistingFile()
    {
        var path = _dir.File("model.safetensors");
        using var x = RandomTensor(ScalarType.Float32, [100], seed: 8);
        using var y = RandomTensor(ScalarType.Float32, [2], seed: 9);
        SafetensorsWriter.Save(path, [new("x", x)]);

        SafetensorsWriter.Save(path, [new("y", y)]);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["y"], file.Tensors.Select(t => t.Name));
        Assert.Equal(["model.safetensors"], Directory.GetFiles(_dir.DirectoryPath).Select(Path.GetFileName));
    }

    [Fact]
    public void FailingEnumerationLeavesTheExistingFileAndNoTemporaryFile()
    {
        var path = _dir.File("model.safetensors");
        using var x = RandomTensor(ScalarType.Float32, [16], seed: 10);
        SafetensorsWriter.Save(path, [new("x", x)]);
        var before = File.ReadAllBytes(path);

        IEnumerable<KeyValuePair<string, Tensor>> Failing()
        {
            yield return new("x", x);
            throw new InvalidOperationException("enumeration failed");
        }

        var ex = Assert.Throws<InvalidOperationException>(() => SafetensorsWriter.Save(path, Failing()));

        Assert.Equal("enumeration failed", ex.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.safetensors"], Directory.GetFiles(_dir.DirectoryPath).Select(Path.GetFileName));
    }

    [Fact]
    public void FailingMoveDeletesTheTemporaryFile()
    {
        // A directory at the target path makes the final move fail after the temporary file is complete.
        var path = _dir.File("occupied");
        Directory.CreateDirectory(path);
        using var x = RandomTensor(ScalarType.Float32, [16], seed: 11);

        Assert.ThrowsAny<IOException>(() => SafetensorsWriter.Save(path, [new("x", x)]));

        Assert.Empty(Directory.GetFiles(_dir.DirectoryPath));
        Assert.True(Directory.Exists(path));
    }
}
