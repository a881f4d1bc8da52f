using BertSharp.IO;
using System.Text.RegularExpressions;

namespace BertSharp.Hub;

/// <summary>
/// The on-disk layout of huggingface_hub's cache (<c>models--org--name/{blobs,refs,snapshots,.no_exist}</c>).
/// Kept in one place because Python reads what we write and we read what Python writes: any drift breaks both.
/// </summary>
internal static partial class HubCache
{
    internal enum Lookup { Missing, Found, KnownMissing, RevisionCachedFileMissing }

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitHashRegex();

    // What a server-sent commit or etag must look like before it becomes a folder or file name: anything else
    // (slashes, "..") would let a hostile server write outside the cache.
    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex SafeNameRegex();

    internal static bool IsCommitHash(string revision) => CommitHashRegex().IsMatch(revision);

    internal static bool IsSafeName(string? value) => value is not null && value != "." && value != ".." && SafeNameRegex().IsMatch(value);

    /// <summary>A '/'-separated relative path with no empty, "." or ".." segment, so it stays inside its folder.</summary>
    internal static bool IsSafeRelativePath(string value) =>
        !string.IsNullOrEmpty(value) && !value.Contains('\\') && !value.Contains('\0') &&
        value.Split('/').All(s => s.Length > 0 && s != "." && s != "..");

    internal static string RepoFolderName(string repoId, RepoType repoType) =>
        (repoType == RepoType.Dataset ? "datasets--" : "models--") + repoId.Replace("/", "--", StringComparison.Ordinal);

    private static string Under(string directory, string relativePath) =>
        Path.Combine([directory, .. relativePath.Split('/')]);

    internal static string SnapshotPath(string repoDir, string commit, string filename) =>
        Under(Path.Combine(repoDir, "snapshots", commit), filename);

    internal static string BlobPath(string repoDir, string blobName) => Path.Combine(repoDir, "blobs", blobName);

    internal static string RefPath(string repoDir, string revision) => Under(Path.Combine(repoDir, "refs"), revision);

    internal static string NoExistPath(string repoDir, string commit, string filename) =>
        Under(Path.Combine(repoDir, ".no_exist", commit), filename);

    /// <summary>huggingface_hub's <c>try_to_load_from_cache</c>: refs/{revision} names the snapshot, else the revision does.</summary>
    internal static (Lookup State, string? Path) Find(string repoDir, string filename, string revision)
    {
        var commit = ReadRef(repoDir, revision) ?? revision;
        if (!IsSafeRelativePath(commit))
            return (Lookup.Missing, null);
        var pointer = SnapshotPath(repoDir, commit, filename);
        if (File.Exists(pointer))
            return (Lookup.Found, pointer);
        if (File.Exists(NoExistPath(repoDir, commit, filename)))
            return (Lookup.KnownMissing, null);
        return Directory.Exists(Path.Combine(repoDir, "snapshots", commit))
            ? (Lookup.RevisionCachedFileMissing, null)
            : (Lookup.Missing, null);
    }

    internal static string? ReadRef(string repoDir, string revision)
    {
        var refPath = RefPath(repoDir, revision);
        try
        {
            if (!File.Exists(refPath))
                return null;
            // Python writes the hash without a newline; a hand-edited file may have one.
            var commit = File.ReadAllText(refPath).Trim();
            return commit.Length == 0 ? null : commit;
        }
        catch (IOException)
        {
            return null;
        }
    }

    internal static void WriteRef(string repoDir, string revision, string commit)
    {
        if (ReadRef(repoDir, revision) == commit)
            return;
        var refPath = RefPath(repoDir, revision);
        Directory.CreateDirectory(Path.GetDirectoryName(refPath)!);
        // Written beside and renamed so a concurrent reader (or Python) never sees an empty ref.
        AtomicFile.WriteAllText(refPath, commit);
    }

    internal static void MarkMissing(string repoDir, string revision, string commit, string filename)
    {
        try
        {
            var marker = NoExistPath(repoDir, commit, filename);
            Directory.CreateDirectory(Path.GetDirectoryName(marker)!);
            using (File.Create(marker)) { }
            // The marker is found through refs/{revision}, as huggingface_hub does for its .no_exist entries.
            if (commit != revision)
                WriteRef(repoDir, revision, commit);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The marker only saves a later offline lookup; failing to write it must not fail the caller.
        }
    }

    /// <summary>
    /// Makes <paramref name="pointer"/> a relative symlink to <paramref name="blob"/>, as huggingface_hub does, so
    /// the cache folder can be moved as a whole; copies where the file system or OS refuses symlinks.
    /// </summary>
    internal static void LinkSnapshot(string blob, string pointer)
    {
        var dir = Path.GetDirectoryName(pointer)!;
        Directory.CreateDirectory(dir);
        var relative = Path.GetRelativePath(dir, blob);
        // Built under a temporary name and renamed over the pointer, so two downloads of one file racing each
        // other both end with a valid pointer instead of one failing on "file exists".
        var temp = Path.Combine(dir, "." + Path.GetFileName(pointer) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            try
            {
                File.CreateSymbolicLink(temp, relative);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
            {
                TryDelete(temp);
                File.Copy(blob, temp, overwrite: true);
            }
            File.Move(temp, pointer, overwrite: true);
        }
        finally
        {
            TryDelete(temp);
        }
    }

    internal static void TryDelete(string path)
    {
        try
        {
            // File.Exists follows links; a dangling temporary link must go too.
            if (File.Exists(path) || new FileInfo(path).LinkTarget is not null)
                File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
