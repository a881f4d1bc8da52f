using System.Buffers.Binary;
using System.IO.Compression;

namespace BertSharp.Tests.Charts;

/// <summary>
/// Just enough of a PNG decoder to check screenshots: 8-bit RGB or RGBA, not interlaced (what Chromium writes).
/// Checks the signature, reads IHDR, inflates the IDAT stream with ZLibStream and undoes the per-row filters.
/// </summary>
internal sealed class PngImage
{
    private static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly byte[] _pixels;
    private readonly int _channels;

    private PngImage(int width, int height, int channels, byte[] pixels) => (Width, Height, _channels, _pixels) = (width, height, channels, pixels);

    public int Width { get; }
    public int Height { get; }

    public (byte R, byte G, byte B) this[int x, int y]
    {
        get
        {
            var i = (y * Width + x) * _channels;
            return (_pixels[i], _pixels[i + 1], _pixels[i + 2]);
        }
    }

    public static PngImage Read(string path) => Decode(File.ReadAllBytes(path));

    public static PngImage Decode(byte[] file)
    {
        if (file.Length < 8 || !file.AsSpan(0, 8).SequenceEqual(Signature)) throw new InvalidDataException("Not a PNG: bad signature.");
        int width = 0, height = 0, bitDepth = 0, colorType = -1, interlace = 0;
        using var idat = new MemoryStream();
        var offset = 8;
        var sawEnd = false;
        while (offset + 12 <= file.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(offset));
            var type = System.Text.Encoding.ASCII.GetString(file, offset + 4, 4);
            var data = file.AsSpan(offset + 8, length);
            switch (type)
            {
                case "IHDR":
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    (bitDepth, colorType, interlace) = (data[8], data[9], data[12]);
                    break;
                case "IDAT":
                    idat.Write(data);
                    break;
                case "IEND":
                    sawEnd = true;
                    break;
            }
            offset += 12 + length;
            if (sawEnd) break;
        }
        if (!sawEnd) throw new InvalidDataException("Truncated PNG: no IEND chunk.");
        if (bitDepth != 8 || colorType is not (2 or 6) || interlace != 0)
            throw new NotSupportedException($"PNG with bit depth {bitDepth}, colour type {colorType}, interlace {interlace}.");
        var channels = colorType == 6 ? 4 : 3;
        var stride = width * channels;

        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.CopyTo(inflated);
        var raw = inflated.ToArray();
        if (raw.Length != height * (stride + 1)) throw new InvalidDataException($"Expected {height * (stride + 1)} bytes of scanlines, got {raw.Length}.");

        var pixels = new byte[height * stride];
        for (var y = 0; y < height; y++)
        {
            var filter = raw[y * (stride + 1)];
            var source = raw.AsSpan(y * (stride + 1) + 1, stride);
            var row = pixels.AsSpan(y * stride, stride);
            var previous = y == 0 ? new byte[stride] : pixels.AsSpan((y - 1) * stride, stride);
            for (var i = 0; i < stride; i++)
            {
                int a = i >= channels ? row[i - channels] : 0, b = previous[i], c = i >= channels ? previous[i - channels] : 0;
                row[i] = (byte)(source[i] + filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"Unknown PNG filter {filter} in row {y}."),
                });
            }
        }
        return new PngImage(width, height, channels, pixels);
    }

    public int DistinctColours()
    {
        var seen = new HashSet<int>();
        for (var y = 0; y < Height; y++)
            for (var x = 0; x < Width; x++)
            {
                var (r, g, b) = this[x, y];
                seen.Add(r << 16 | g << 8 | b);
            }
        return seen.Count;
    }

    /// <summary>Pixels within <paramref name="tolerance"/> (per channel) of the colour "#rrggbb".</summary>
    public int CountNear(string hex, int tolerance = 10)
    {
        var (r0, g0, b0) = (Convert.ToInt32(hex[1..3], 16), Convert.ToInt32(hex[3..5], 16), Convert.ToInt32(hex[5..7], 16));
        var count = 0;
        for (var y = 0; y < Height; y++)
            for (var x = 0; x < Width; x++)
            {
                var (r, g, b) = this[x, y];
                if (Math.Abs(r - r0) <= tolerance && Math.Abs(g - g0) <= tolerance && Math.Abs(b - b0) <= tolerance) count++;
            }
        return count;
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
