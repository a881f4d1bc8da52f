using BertSharp.Safetensors;
using static BertSharp.Tests.Safetensors.SafetensorsTestSupport;

namespace BertSharp.Tests.Safetensors;

/// <summary>Each malformed file is built byte by byte and must fail in Open with the file and the problem named.</summary>
public sealed class SafetensorsMalformedFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Raw(string json, long bufferBytes) => WriteRaw(_dir.File("bad.safetensors"), json, bufferBytes);

    [Fact]
    public void EmptyFile()
    {
        var path = _dir.File("bad.safetensors");
        File.WriteAllBytes(path, []);
        AssertFormatError(path, "file is 0 bytes, shorter than the 8-byte header length field");
    }

    [Fact]
    public void FileShorterThanTheLengthField()
    {
        var path = _dir.File("bad.safetensors");
        File.WriteAllBytes(path, [1, 0, 0, 0, 0]);
        AssertFormatError(path, "file is 5 bytes, shorter than the 8-byte header length field");
    }

    [Fact]
    public void HeaderLengthBeyondTheFile()
    {
        // The length field says 1000 bytes of header; only 10 bytes follow it.
        var path = WriteRaw(_dir.File("bad.safetensors"), new byte[10], bufferBytes: 0, declaredHeaderLength: 1000);
        AssertFormatError(path, "header length 1000 runs past the end of the file (10 bytes follow the length field)");
    }

    [Theory]
    [InlineData(100_000_001UL)]
    [InlineData(ulong.MaxValue)]
    public void HeaderLengthAbsurdlyLarge(ulong declared)
    {
        var path = WriteRaw(_dir.File("bad.safetensors"), "{}"u8.ToArray(), bufferBytes: 0, declaredHeaderLength: declared);
        AssertFormatError(path, $"header length {declared} exceeds the limit of 100000000 bytes");
    }

    [Fact]
    public void HeaderNotUtf8()
    {
        var path = WriteRaw(_dir.File("bad.safetensors"), [(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}'], 0);
        AssertFormatError(path, "header is not valid UTF-8");
    }

    [Theory]
    [InlineData("""{"a": {"dtype": "F32",""")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}} trailing""")]
    [InlineData("""{'a': 1}""")]
    [InlineData("")]
    public void HeaderNotValidJson(string json)
    {
        AssertFormatError(Raw(json, 4), "header is not valid JSON");
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("\"a string\"")]
    [InlineData("42")]
    public void HeaderNotAnObject(string json)
    {
        AssertFormatError(Raw(json, 0), "header is not a JSON object");
    }

    [Theory]
    [InlineData("5")]
    [InlineData("[0, 4]")]
    [InlineData("null")]
    public void EntryNotAnObject(string entry)
    {
        AssertFormatError(Raw($$"""{"a.weight": {{entry}}}""", 4), "entry 'a.weight' is not a JSON object");
    }

    [Theory]
    [InlineData("dtype", """{"a": {"shape": [1], "data_offsets": [0, 4]}}""")]
    [InlineData("shape", """{"a": {"dtype": "F32", "data_offsets": [0, 4]}}""")]
    [InlineData("data_offsets", """{"a": {"dtype": "F32", "shape": [1]}}""")]
    public void EntryMissingAField(string field, string json)
    {
        AssertFormatError(Raw(json, 4), $"tensor 'a' is missing '{field}'");
    }

    [Fact]
    public void UnknownDtype()
    {
        AssertFormatError(Raw("""{"a": {"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}}""", 4),
                          "tensor 'a' has unknown dtype 'F8_E4M3'");
    }

    [Fact]
    public void DtypeIsCaseSensitive()
    {
        AssertFormatError(Raw("""{"a": {"dtype": "f32", "shape": [1], "data_offsets": [0, 4]}}""", 4),
                          "tensor 'a' has unknown dtype 'f32'");
    }

    [Fact]
    public void DtypeNotAString()
    {
        AssertFormatError(Raw("""{"a": {"dtype": 4, "shape": [1], "data_offsets": [0, 4]}}""", 4),
                          "tensor 'a' has a dtype that is not a string");
    }

    [Theory]
    [InlineData("-1", "shape value -1 that is not a non-negative integer")]
    [InlineData("1.5", "shape value 1.5 that is not a non-negative integer")]
    [InlineData("1e2", "shape value 1e2 that is not a non-negative integer")]
    [InlineData("\"4\"", "shape value \"4\" that is not a non-negative integer")]
    [InlineData("99999999999999999999", "shape value 99999999999999999999 that is not a non-negative integer")]
    public void ShapeDimensionNotANonNegativeInteger(string dim, string phrase)
    {
        AssertFormatError(Raw("""{"a": {"dtype": "U8", "shape": [""" + dim + """], "data_offsets": [0, 4]}}""", 4), $"tensor 'a' has {phrase}");
    }

    [Fact]
    public void ShapeNotAnArray()
    {
        AssertFormatError(Raw("""{"a": {"dtype": "U8", "shape": 4, "data_offsets": [0, 4]}}""", 4),
                          "tensor 'a' has shape that is not an array of non-negative integers");
    }

    [Theory]
    [InlineData("[0]", "data_offsets with 1 values instead of two non-negative integers")]
    [InlineData("[0, 4, 8]", "data_offsets with 3 values instead of two non-negative integers")]
    [InlineData("[-4, 4]", "data_offsets value -4 that is not a non-negative integer")]
    [InlineData("[0, 4.0]", "data_offsets value 4.0 that is not a non-negative integer")]
    [InlineData("[\"0\", 4]", "data_offsets value \"0\" that is not a non-negative integer")]
    [InlineData("{\"begin\": 0}", "data_offsets that is not an array of non-negative integers")]
    public void DataOffsetsNotTwoNonNegativeIntegers(string offsets, string phrase)
    {
        AssertFormatError(Raw("""{"a": {"dtype": "U8", "shape": [4], "data_offsets": """ + offsets + "}}", 4), $"tensor 'a' has {phrase}");
    }

    [Fact]
    public void BeginAfterEnd()
    {
        AssertFormatError(Raw("""{"a": {"dtype": "U8", "shape": [4], "data_offsets": [8, 4]}}""", 8),
                          "tensor 'a' has data_offsets [8,4] with begin after end");
    }

    [Fact]
    public void EndBeyondTheBuffer()
    {
        AssertFormatError(Raw("""{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}""", 8),
                          "tensor 'a' has data_offsets end 16 beyond the data buffer of 8 bytes");
    }

    [Fact]
    public void OverlappingTensors()
    {
        const string json = """
            {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
             "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}
            """;
        AssertFormatError(Raw(json, 12), "tensors 'a' [0,8) and 'b' [4,12) overlap");
    }

    [Fact]
    public void ZeroSizeTensorInsideAnotherOverlaps()
    {
        const string json = """
            {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
             "e": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}}
            """;
        AssertFormatError(Raw(json, 8), "tensors 'a' [0,8) and 'e' [4,4) overlap");
    }

    [Fact]
    public void SameSpanTwice()
    {
        const string json = """
            {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
             "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
            """;
        AssertFormatError(Raw(json, 8), "tensors 'a' [0,8) and 'b' [0,8) overlap");
    }

    [Fact]
    public void GapBetweenTensors()
    {
        const string json = """
            {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
             "b": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]}}
            """;
        AssertFormatError(Raw(json, 20), "data buffer has a gap: bytes [8,12) before tensor 'b' belong to no tensor");
    }

    [Fact]
    public void GapBeforeTheFirstTensor()
    {
        AssertFormatError(Raw("""{"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}""", 12),
                          "data buffer has a gap: bytes [0,4) before tensor 'a' belong to no tensor");
    }

    [Fact]
    public void TrailingBytesAfterTheLastTensor()
    {
        AssertFormatError(Raw("""{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}""", 12),
                          "data buffer has 4 trailing bytes after the last tensor");
    }

    [Fact]
    public void TrailingBytesWithNoTensors()
    {
        AssertFormatError(Raw("""{"__metadata__": {"format": "pt"}}""", 3),
                          "data buffer has 3 trailing bytes after the last tensor");
    }

    [Fact]
    public void ShapeDoesNotMatchTheByteSpan()
    {
        AssertFormatError(Raw("""{"a.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}}""", 20),
                          "tensor 'a.weight' has shape [2,3] of F32 = 24 bytes but its data_offsets span 20 bytes");
    }

    [Fact]
    public void ShapeWhoseByteSizeOverflows()
    {
        // 2^32 * 2^32 * 4 wraps to 0 in unchecked arithmetic, which would match the empty span.
        AssertFormatError(Raw("""{"a": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}}""", 0),
                          "tensor 'a' has shape [4294967296,4294967296] whose byte size overflows a 64-bit integer");
    }

    [Fact]
    public void DuplicateTensorName()
    {
        const string json = """
            {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
             "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}
            """;
        AssertFormatError(Raw(json, 8), "header has duplicate entry 'a'");
    }

    [Fact]
    public void DuplicateFieldInAnEntry()
    {
        AssertFormatError(Raw("""{"a": {"dtype": "F32", "dtype": "I32", "shape": [1], "data_offsets": [0, 4]}}""", 4),
                          "tensor 'a' has field 'dtype' more than once");
    }

    [Theory]
    [InlineData("1", "number")]
    [InlineData("true", "boolean")]
    [InlineData("null", "null")]
    [InlineData("[\"pt\"]", "array")]
    [InlineData("{\"x\": \"y\"}", "object")]
    public void MetadataValueNotAString(string value, string found)
    {
        var ex = AssertFormatError(Raw("""{"__metadata__": {"format": """ + value + "}}", 0),
                                   "__metadata__ value for 'format' is not a string");
        Assert.Contains(found, ex.Message);
    }

    [Fact]
    public void MetadataNotAnObject()
    {
        AssertFormatError(Raw("""{"__metadata__": ["format", "pt"]}""", 0), "__metadata__ is not a JSON object");
    }

    [Fact]
    public void DuplicateMetadataKey()
    {
        AssertFormatError(Raw("""{"__metadata__": {"format": "pt", "format": "np"}}""", 0), "__metadata__ has duplicate key 'format'");
    }

    [Fact]
    public void SpacePaddedHeaderAndUnknownFieldsAreAccepted()
    {
        var path = Raw("""{"a": {"dtype": "U8", "shape": [2, 2], "data_offsets": [0, 4], "note": {"x": [1]}}, "__metadata__": null}     """, 4);

        using var file = SafetensorsFile.Open(path);

        Assert.Empty(file.Metadata);
        using var a = file.ReadTensor("a");
        Assert.Equal([0, 1, 2, 3], a.bytes.ToArray());
    }
}
