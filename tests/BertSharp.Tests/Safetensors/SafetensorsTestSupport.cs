using System.Buffers.Binary;
using System.Text;
using BertSharp.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace BertSharp.Tests.Safetensors;

/// <summary>A fresh directory under the system temp folder, deleted with everything in it on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        DirectoryPath = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "bertsharp-safetensors-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(DirectoryPath);
    }

    public string DirectoryPath { get; }

    public string File(string name) => System.IO.Path.Combine(DirectoryPath, name);

    public void Dispose()
    {
        if (Directory.Exists(DirectoryPath))
            Directory.Delete(DirectoryPath, recursive: true);
    }
}

internal static class SafetensorsTestSupport
{
    /// <summary>Writes a length field, the header bytes as given, and <paramref name="bufferBytes"/> bytes of data.</summary>
    public static string WriteRaw(string path, byte[] header, long bufferBytes, ulong? declaredHeaderLength = null)
    {
        using var stream = System.IO.File.Create(path);
        Span<byte> lengthField = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(lengthField, declaredHeaderLength ?? (ulong)header.Length);
        stream.Write(lengthField);
        stream.Write(header);
        var data = new byte[bufferBytes];
        for (var i = 0; i < data.Length; i++)
            data[i] = (byte)i;
        stream.Write(data);
        return path;
    }

    public static string WriteRaw(string path, string headerJson, long bufferBytes) =>
        WriteRaw(path, Encoding.UTF8.GetBytes(headerJson), bufferBytes);

    /// <summary>A tensor whose bytes are random, so a round trip must preserve every bit (NaN payloads included).</summary>
    public static Tensor RandomTensor(ScalarType dtype, long[] shape, int seed)
    {
        var tensor = empty(shape, dtype);
        if (tensor.NumberOfElements == 0)
            return tensor;
        var bytes = tensor.bytes;
        new Random(seed).NextBytes(bytes);
        if (dtype == ScalarType.Bool)
        {
            // Bytes other than 0 and 1 are not valid bools for libtorch.
            for (var i = 0; i < bytes.Length; i++)
                bytes[i] &= 1;
        }
        return tensor;
    }

    public static byte[] Bytes(Tensor tensor)
    {
        if (tensor.NumberOfElements == 0)
            return [];
        using var contiguous = tensor.contiguous();
        return contiguous.bytes.ToArray();
    }

    public static void AssertSameTensor(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(DeviceType.CPU, actual.device_type);
        Assert.Equal(Bytes(expected), Bytes(actual));
    }

    /// <summary>The exception must name the file (as its full path, leading the message) and the problem.</summary>
    public static SafetensorsFormatException AssertFormatError(string path, string phrase)
    {
        var ex = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path).Dispose());
        var fullPath = System.IO.Path.GetFullPath(path);
        Assert.Equal(fullPath, ex.FilePath);
        Assert.StartsWith(fullPath + ": ", ex.Message);
        Assert.Contains(System.IO.Path.GetFileName(path), ex.Message);
        Assert.Contains(phrase, ex.Message);
        return ex;
    }
}
