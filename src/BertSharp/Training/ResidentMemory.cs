namespace BertSharp.Training;

/// <summary>
/// This process's resident memory as the kernel counts it (Linux <c>/proc/self/status</c>): the peak since the process
/// started (VmHWM) and now (VmRSS). What benchmarks report beside times, and what "memory" means when comparing with
/// a Python process doing the same work; null where /proc is not available.
/// </summary>
public static class ResidentMemory
{
    public readonly record struct Snapshot(long PeakBytes, long CurrentBytes)
    {
        public double PeakMiB => PeakBytes / 1048576.0;
        public double CurrentMiB => CurrentBytes / 1048576.0;
    }

    public static Snapshot? Read()
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return null;
        long? peak = null, current = null;
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kilobytes(line);
            else if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) current = Kilobytes(line);
        }
        return peak is { } p && current is { } c ? new Snapshot(p * 1024, c * 1024) : null;
    }

    // "VmHWM:	 1234567 kB"
    private static long? Kilobytes(string line) =>
        long.TryParse(line.AsSpan(line.IndexOf(':') + 1).Trim().TrimEnd("kB").Trim(), out var kb) ? kb : null;
}
