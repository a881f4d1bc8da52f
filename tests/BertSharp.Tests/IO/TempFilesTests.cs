using System.Diagnostics;
using BertSharp.IO;
using BertSharp.Modeling;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.IO;

/// <summary>
/// Hidden temporary files of interrupted saves (a killed process leaves them: ~50 MB each for the stand-in) are
/// removed by the next save into the same folder, and only when no live writer can still own them.
/// </summary>
public class TempFilesTests
{
    private static readonly PretrainedOptions Quiet = new() { Log = _ => { } };

    private static string Hex() => Guid.NewGuid().ToString("N");

    private static string Touch(string path, TimeSpan age)
    {
        File.WriteAllBytes(path, new byte[16]);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow - age);
        return path;
    }

    [Fact]
    public void SavingAModelRemovesHiddenTempFilesOlderThanADayThatEarlierVersionsLeft()
    {
        using var dir = new TempDirectory();
        var old = TimeSpan.FromDays(2);
        var stale = new[]
        {
            Touch(dir.File($".model.safetensors.pending-{Hex()}"), old),
            Touch(dir.File($"..model.safetensors.pending-{Hex()}.tmp-{Hex()}"), old),
            Touch(dir.File($".config.json.tmp-{Hex()}"), old),
        };
        var kept = new[]
        {
            // Unknown owner and recent: another process may be writing it right now.
            Touch(dir.File($".config.json.tmp-{Hex()}"), TimeSpan.FromMinutes(1)),
            // Not ours at all.
            Touch(dir.File(".keep"), old),
            Touch(dir.File("notes.tmp-1"), old),
            Touch(dir.File($"model.safetensors.pending-{Hex()}"), old),
        };

        using (var model = BertForSequenceClassification.FromPretrained(SharedFiles.TinyClsDir, options: Quiet))
            model.SavePretrained(dir.Path);

        foreach (var path in stale) Assert.False(File.Exists(path), path);
        foreach (var path in kept) Assert.True(File.Exists(path), path);
        Assert.True(File.Exists(dir.File("model.safetensors")));
    }

    /// <summary>A name as <see cref="TempFiles.Name"/> makes it, with another writer's process id.</summary>
    private static string NameWithPid(string target, int pid)
    {
        var parts = TempFiles.Name(target).Split('-');
        // ".{target}.tmp", host, pid, random
        parts[^2] = pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return string.Join('-', parts);
    }

    private static int ExitedProcessId()
    {
        using var done = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        done.WaitForExit();
        return done.Id;
    }

    [Fact]
    public void ANameRecordsItsWriterAndIsNotStaleWhileItsWriterRuns()
    {
        var name = TempFiles.Name("model.safetensors", "pending");
        Assert.Matches(@"^\.model\.safetensors\.pending-[0-9a-f]{8}-[0-9]+-[0-9a-f]{32}$", name);
        Assert.Contains($"-{Environment.ProcessId}-", name);
        Assert.NotEqual(name, TempFiles.Name("model.safetensors", "pending"));
        Assert.Throws<ArgumentException>(() => TempFiles.Name("x", "Tmp"));

        using var dir = new TempDirectory();
        var mine = Touch(dir.File(name), TimeSpan.Zero);
        Assert.False(TempFiles.IsStale(mine));
        Assert.Empty(TempFiles.RemoveStale(dir.Path));
        // Even this process's own entries go once nothing has touched them for the maximum age.
        File.SetLastWriteTimeUtc(mine, DateTime.UtcNow - TimeSpan.FromDays(2));
        Assert.Equal([mine], TempFiles.RemoveStale(dir.Path));
    }

    [Fact]
    public void AnEntryOfAProcessThatIsGoneIsRemovedAtOnceAndOneOfALiveProcessIsKept()
    {
        using var dir = new TempDirectory();
        var dead = Touch(dir.File(NameWithPid("model.safetensors", ExitedProcessId())), TimeSpan.Zero);
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            var alive = Touch(dir.File(NameWithPid("config.json", sleeper.Id)), TimeSpan.FromHours(2));
            // A checkpoint folder of a killed run: a folder, removed with what is in it.
            var folder = dir.File(NameWithPid("checkpoint-8", ExitedProcessId()));
            Directory.CreateDirectory(folder);
            Touch(System.IO.Path.Combine(folder, "model.safetensors"), TimeSpan.Zero);

            var removed = TempFiles.RemoveStale(dir.Path);

            Assert.Equal(new[] { dead, folder }.Order(), removed.Order());
            Assert.False(File.Exists(dead));
            Assert.False(Directory.Exists(folder));
            Assert.True(File.Exists(alive));
        }
        finally
        {
            sleeper.Kill();
            sleeper.WaitForExit();
        }
    }

    [Fact]
    public void AFolderIsAsOldAsTheNewestFileInIt()
    {
        using var dir = new TempDirectory();
        var folder = dir.File($".checkpoint-16.tmp-{Hex()}");
        Directory.CreateDirectory(folder);
        var inside = Touch(System.IO.Path.Combine(folder, "optimizer.safetensors"), TimeSpan.FromMinutes(1));
        Directory.SetLastWriteTimeUtc(folder, DateTime.UtcNow - TimeSpan.FromDays(3));
        Assert.False(TempFiles.IsStale(folder));
        File.SetLastWriteTimeUtc(inside, DateTime.UtcNow - TimeSpan.FromDays(3));
        Assert.True(TempFiles.IsStale(folder));
    }

    [Fact]
    public void AtomicWritesUseNamesTheCleanupRecognises()
    {
        using var dir = new TempDirectory();
        string? seen = null;
        Assert.Throws<IOException>(() => AtomicFile.Write(dir.File("config.json"), stream =>
        {
            seen = Directory.GetFiles(dir.Path).Single();
            throw new IOException("disk full");
        }));
        Assert.Matches(@"/\.config\.json\.tmp-[0-9a-f]{8}-[0-9]+-[0-9a-f]{32}$", seen!);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
