using System.Buffers;
using System.Text;

namespace BertSharp.IO;

/// <summary>
/// Reads text files that must be UTF-8. .NET's readers replace every invalid byte with U+FFFD without a word, so a
/// Latin-1 review silently became different text (and different tokens); here it is an error naming the line.
/// A UTF-8 byte order mark is skipped, as File.ReadAllText does.
/// </summary>
public static class Utf8TextFile
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <exception cref="InvalidDataException">The file is not valid UTF-8; the message names the file, line and byte.</exception>
    public static string ReadAllText(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var span = bytes.AsSpan();
        if (span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) span = span[3..];
        if (!System.Text.Unicode.Utf8.IsValid(span)) throw Invalid(path, bytes);
        return Encoding.UTF8.GetString(span);
    }

    /// <summary>Lines as <see cref="File.ReadLines(string)"/> splits them (at \n, \r\n or \r), read lazily.</summary>
    /// <exception cref="InvalidDataException">The file is not valid UTF-8; thrown before the lines around the bad byte are returned.</exception>
    public static IEnumerable<string> ReadLines(string path)
    {
        // A strict decoder throws on the first bad byte; only then is the file read again to say where it is.
        using var reader = new StreamReader(path, Strict, detectEncodingFromByteOrderMarks: true);
        while (true)
        {
            string? line;
            try
            {
                line = reader.ReadLine();
            }
            catch (DecoderFallbackException)
            {
                throw Invalid(path, File.ReadAllBytes(path));
            }
            if (line is null) yield break;
            yield return line;
        }
    }

    private static InvalidDataException Invalid(string path, byte[] bytes)
    {
        var (line, column, value) = FirstInvalid(bytes);
        return new InvalidDataException(
            $"{path}: line {line}: not valid UTF-8 (byte 0x{value:X2} at byte {column} of the line); save the file as UTF-8.");
    }

    /// <summary>The 1-based line and byte-in-line of the first byte that does not start a valid UTF-8 sequence.</summary>
    internal static (int Line, int Column, byte Value) FirstInvalid(ReadOnlySpan<byte> bytes)
    {
        var line = 1;
        var lineStart = 0;
        var offset = 0;
        while (offset < bytes.Length)
        {
            var b = bytes[offset];
            if (b < 0x80)
            {
                if (b == '\n' || (b == '\r' && (offset + 1 == bytes.Length || bytes[offset + 1] != '\n')))
                {
                    line++;
                    lineStart = offset + 1;
                }
                offset++;
                continue;
            }
            if (Rune.DecodeFromUtf8(bytes[offset..], out _, out var consumed) != OperationStatus.Done)
                return (line, offset - lineStart + 1, b);
            offset += consumed;
        }
        return (line, offset - lineStart + 1, 0);
    }
}
