namespace BertSharp.IO;

/// <summary>Checks on a folder that a long job will write into, made before the job starts rather than when it ends.</summary>
public static class OutputDirectory
{
    /// <summary>
    /// Creates <paramref name="directory"/> if needed and writes and deletes a probe file in it, so that a folder that
    /// cannot be written fails now, with nothing lost, instead of after hours of training.
    /// </summary>
    public static void EnsureWritable(string directory)
    {
        var full = Path.GetFullPath(directory);
        try
        {
            Directory.CreateDirectory(full);
            var probe = Path.Combine(full, $".bertsharp-write-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"The output folder '{full}' cannot be written ({e.Message}); nothing was started. Choose another output folder.", e);
        }
    }
}
