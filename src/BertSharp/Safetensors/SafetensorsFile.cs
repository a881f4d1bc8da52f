using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using static TorchSharp.torch;

namespace BertSharp.Safetensors;

/// <summary>
/// A safetensors file opened for reading. The whole header is validated by <see cref="Open"/>, so a file that
/// opens can be read tensor by tensor without further format errors. Data is memory-mapped and copied once per
/// tensor, straight into the new tensor's storage.
/// </summary>
/// <remarks>
/// Assumes a little-endian host, as safetensors data is little-endian and is copied without byte swapping.
/// Reads may run concurrently; <see cref="Dispose"/> must not race them. On Unix, replacing the file with
/// <see cref="SafetensorsWriter.Save"/> while it is open is safe (the mapping keeps the old file's data), but
/// truncating it in place is not: touching pages past the new end kills the process.
/// </remarks>
public sealed class SafetensorsFile : IDisposable
{
    private readonly MemoryMappedFile _mapping;
    private readonly long _bufferStart;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;
    private bool _disposed;

    private SafetensorsFile(string filePath, MemoryMappedFile mapping, long bufferStart, SafetensorsHeader header)
    {
        FilePath = filePath;
        _mapping = mapping;
        _bufferStart = bufferStart;
        Tensors = header.Tensors.AsReadOnly();
        Metadata = header.Metadata.AsReadOnly();
        _byName = header.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The full path of the file.</summary>
    public string FilePath { get; }

    /// <summary>The <c>__metadata__</c> entries; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>All tensors, in data-offset order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="SafetensorsFormatException">The file is not a well-formed safetensors file.</exception>
    public static SafetensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        EnsureLittleEndianHost();
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
            throw new FileNotFoundException($"Safetensors file not found: {fullPath}", fullPath);

        var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        try
        {
            var (header, bufferStart) = ReadHeader(stream, fullPath);
            var mapping = MemoryMappedFile.CreateFromFile(
                stream, mapName: null, capacity: 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            return new SafetensorsFile(fullPath, mapping, bufferStart, header);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <exception cref="KeyNotFoundException">The file has no tensor of that name.</exception>
    public SafetensorsTensorInfo GetInfo(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.TryGetValue(name, out var info)
            ? info
            : throw new KeyNotFoundException($"{FilePath}: no tensor named '{name}' (the file has {_byName.Count} tensors)");
    }

    /// <summary>
    /// A new CPU tensor with the file's dtype and shape. It owns its memory, so it outlives this object.
    /// </summary>
    public Tensor ReadTensor(string name)
    {
        var info = GetInfo(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var tensor = empty(info.Shape, info.Dtype.ToScalarType(), CPU);
        try
        {
            using var view = new MappedView(_mapping, _bufferStart, info);
            TensorBytes.ReadFrom(tensor, view.Pointer, info.ByteLength);
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>Copies a tensor's raw little-endian bytes; <paramref name="destination"/> must be exactly <see cref="SafetensorsTensorInfo.ByteLength"/> long.</summary>
    public unsafe void CopyBytes(string name, Span<byte> destination)
    {
        var info = GetInfo(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (destination.Length != info.ByteLength)
            throw new ArgumentException(
                $"Tensor '{name}' has {info.ByteLength} bytes but the destination holds {destination.Length}.", nameof(destination));
        using var view = new MappedView(_mapping, _bufferStart, info);
        new ReadOnlySpan<byte>((void*)view.Pointer, destination.Length).CopyTo(destination);
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _mapping.Dispose();
    }

    /// <summary>
    /// One tensor's bytes mapped into memory. A view per read keeps address space proportional to what is being
    /// read, and disposing it (with 'using', so also on exceptions) unmaps it. Pointer access rather than a view
    /// stream because MemoryMappedViewStream reads into a Span through a pooled managed array: a second copy.
    /// </summary>
    private sealed unsafe class MappedView : IDisposable
    {
        private readonly MemoryMappedViewAccessor? _accessor;
        private bool _acquired;

        public MappedView(MemoryMappedFile mapping, long bufferStart, SafetensorsTensorInfo info)
        {
            // Size 0 would mean "to the end of the file" to CreateViewAccessor, and there is nothing to map.
            if (info.ByteLength == 0)
                return;
            _accessor = mapping.CreateViewAccessor(bufferStart + info.Begin, info.ByteLength, MemoryMappedFileAccess.Read);
            try
            {
                byte* start = null;
                _accessor.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
                _acquired = true;
                // The view begins at an allocation-granularity boundary at or before the requested offset.
                Pointer = (IntPtr)(start + _accessor.PointerOffset);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public IntPtr Pointer { get; }

        public void Dispose()
        {
            if (_acquired)
            {
                _accessor!.SafeMemoryMappedViewHandle.ReleasePointer();
                _acquired = false;
            }
            _accessor?.Dispose();
        }
    }

    private static (SafetensorsHeader Header, long BufferStart) ReadHeader(FileStream stream, string path)
    {
        var fileLength = stream.Length;
        if (fileLength < sizeof(ulong))
            throw new SafetensorsFormatException(path, $"file is {fileLength} bytes, shorter than the 8-byte header length field");

        Span<byte> lengthField = stackalloc byte[sizeof(ulong)];
        stream.ReadExactly(lengthField);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthField);
        if (headerLength > SafetensorsHeader.MaxHeaderBytes)
            throw new SafetensorsFormatException(path,
                $"header length {headerLength} exceeds the limit of {SafetensorsHeader.MaxHeaderBytes} bytes");
        var afterLengthField = fileLength - sizeof(ulong);
        if ((long)headerLength > afterLengthField)
            throw new SafetensorsFormatException(path,
                $"header length {headerLength} runs past the end of the file ({afterLengthField} bytes follow the length field)");

        var json = new byte[headerLength];
        stream.ReadExactly(json);
        var bufferStart = sizeof(ulong) + (long)headerLength;
        var header = SafetensorsHeader.Parse(json, fileLength - bufferStart, path);
        return (header, bufferStart);
    }

    internal static void EnsureLittleEndianHost()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Safetensors data is little-endian and BertSharp copies it without byte swapping.");
    }
}
