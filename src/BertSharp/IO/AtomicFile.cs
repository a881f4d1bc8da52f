using System.Text;

namespace BertSharp.IO;

/// <summary>
/// Writes a file so that readers see either the old content or the complete new content, never a torn write:
/// the bytes go to a temporary file in the same directory (same file system, so the rename is atomic),
/// are flushed to disk, and only then replace the target. A process killed mid-write leaves the hidden temporary file
/// (named by <see cref="TempFiles"/>, which can tell when its writer is gone and remove it).
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, TempFiles.Name(Path.GetFileName(fullPath)));
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, s => s.Write(new UTF8Encoding(false).GetBytes(text)));

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
