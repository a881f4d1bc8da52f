using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace BertSharp.IO;

/// <summary>
/// The hidden temporary files and folders that saves write beside their target and then rename into place
/// (<c>.config.json.tmp-…</c>, <c>.model.safetensors.pending-…</c>, a trainer's <c>.checkpoint-8.tmp-…</c>), and the
/// removal of those that a killed process left behind: a model's weights each time, so they add up.
/// </summary>
/// <remarks>
/// A name records its writer: <c>.{target}.{kind}-{host}-{pid}-{random}</c>. Another process may be writing into
/// the same folder at the same moment, so an entry is stale only when its writer is known to be gone — written on
/// this machine by a process that no longer runs — or when nothing in it has changed for <see cref="DefaultMaxAge"/>
/// (the writer ran elsewhere, its id was reused, or the name is from a version that did not record it). An entry of
/// this process is never removed by the first rule: another thread may still be writing it.
/// </remarks>
public static class TempFiles
{
    /// <summary>How long an entry whose writer cannot be checked must sit unchanged before it counts as abandoned.</summary>
    public static readonly TimeSpan DefaultMaxAge = TimeSpan.FromDays(1);

    private static readonly Regex Pattern = new(
        @"^\..+\.[a-z]+-(?:(?<host>[0-9a-f]{8})-(?<pid>[0-9]{1,10})-)?[0-9a-f]{32}$",
        RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture);

    // Hashed so the name carries no machine name, and fixed-width so the pattern is strict.
    private static readonly Lazy<string> HostTag = new(() =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Environment.MachineName.ToLowerInvariant())))[..8]);

    /// <summary>A fresh hidden name for a temporary version of <paramref name="targetName"/> in the same folder.</summary>
    /// <param name="targetName">The file or folder name the temporary entry will be renamed to, e.g. <c>model.safetensors</c>.</param>
    /// <param name="kind">A lowercase word saying what it is, e.g. <c>tmp</c> or <c>pending</c>.</param>
    public static string Name(string targetName, string kind = "tmp")
    {
        ArgumentException.ThrowIfNullOrEmpty(targetName);
        if (kind.Length == 0 || !kind.All(char.IsAsciiLetterLower))
            throw new ArgumentException($"The kind '{kind}' must be a lowercase word.", nameof(kind));
        return $".{targetName}.{kind}-{HostTag.Value}-{Environment.ProcessId}-{Guid.NewGuid():N}";
    }

    /// <summary><see cref="Name"/> beside <paramref name="targetPath"/>.</summary>
    public static string PathFor(string targetPath, string kind = "tmp")
    {
        var full = Path.GetFullPath(targetPath);
        return Path.Combine(Path.GetDirectoryName(full)!, Name(Path.GetFileName(full), kind));
    }

    /// <summary>
    /// Removes the stale temporary entries directly inside <paramref name="directory"/> (see the remarks) and returns
    /// their paths. Best effort: an entry that cannot be removed is left, and a missing folder has none.
    /// </summary>
    public static IReadOnlyList<string> RemoveStale(string directory, TimeSpan? maxAge = null)
    {
        var removed = new List<string>();
        if (!Directory.Exists(directory)) return removed;
        IEnumerable<string> entries;
        try { entries = Directory.EnumerateFileSystemEntries(directory, ".*").ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return removed; }
        foreach (var entry in entries)
        {
            try
            {
                if (!IsStale(entry, maxAge)) continue;
                if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
                else File.Delete(entry);
                removed.Add(entry);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another process removed it first, or it is not ours to remove: either way, leave it.
            }
        }
        return removed;
    }

    /// <summary>Whether <paramref name="path"/> is a temporary entry of this naming scheme whose writer is gone.</summary>
    public static bool IsStale(string path, TimeSpan? maxAge = null)
    {
        var match = Pattern.Match(Path.GetFileName(path));
        if (!match.Success) return false;
        if (match.Groups["pid"].Success && match.Groups["host"].Value == HostTag.Value
            && int.TryParse(match.Groups["pid"].ValueSpan, out var pid) && pid != Environment.ProcessId && !IsRunning(pid))
            return true;
        return DateTime.UtcNow - LastWrite(path) > (maxAge ?? DefaultMaxAge);
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or NotSupportedException or UnauthorizedAccessException)
        {
            return true; // cannot tell: assume it runs, so the age rule decides
        }
    }

    /// <summary>The newest write time of a file, or of a folder and everything in it (a save in progress touches its newest file).</summary>
    private static DateTime LastWrite(string path)
    {
        if (!Directory.Exists(path)) return File.GetLastWriteTimeUtc(path);
        var newest = Directory.GetLastWriteTimeUtc(path);
        foreach (var entry in Directory.EnumerateFileSystemEntries(path, "*", SearchOption.AllDirectories))
        {
            var time = File.GetLastWriteTimeUtc(entry);
            if (time > newest) newest = time;
        }
        return newest;
    }
}
