using BertSharp.Training;
using System.Globalization;

namespace BertSharp.Charts;

/// <summary>One logged value and where it was logged.</summary>
internal readonly record struct LogPoint(double X, double Value, double? Step, double? Epoch);

/// <summary>Pulls one metric out of a Hugging Face style log history (training, evaluation and summary entries mixed).</summary>
internal static class LogSeries
{
    public static List<IReadOnlyDictionary<string, double>> Materialize(IEnumerable<IReadOnlyDictionary<string, double>> logHistory, string paramName = "logHistory")
    {
        ArgumentNullException.ThrowIfNull(logHistory, paramName);
        var list = new List<IReadOnlyDictionary<string, double>>();
        foreach (var entry in logHistory)
            list.Add(entry ?? throw new ArgumentException("The log history contains a null entry.", paramName));
        return list;
    }

    /// <summary>
    /// The entries that have <paramref name="key"/>, as (x, value) points sorted by x (a stable sort, so a resumed
    /// run's order is kept for equal steps). Throws an ArgumentException naming the key when no entry has it (and
    /// <paramref name="required"/>), or naming <paramref name="xKey"/> when an entry with the key lacks it.
    /// </summary>
    public static List<LogPoint> Points(
        IReadOnlyList<IReadOnlyDictionary<string, double>> history, string key, string xKey, bool required = true, string paramName = "logHistory")
    {
        var points = new List<LogPoint>();
        foreach (var entry in history)
        {
            if (!entry.TryGetValue(key, out var value)) continue;
            if (!entry.TryGetValue(xKey, out var x))
                throw new ArgumentException($"A log entry with '{key}' has no '{xKey}' to plot it against: {Describe(entry)}.", paramName);
            if (!double.IsFinite(x)) continue;
            points.Add(new LogPoint(x, value, Get(entry, LogKeys.Step), Get(entry, LogKeys.Epoch)));
        }
        if (points.Count == 0 && required) throw Missing(history, key, paramName);
        return points.OrderBy(p => p.X).ToList();
    }

    /// <summary>"The log history has no 'a' or 'b' entries to plot (…what it has instead…)."</summary>
    public static ArgumentException Missing(IReadOnlyList<IReadOnlyDictionary<string, double>> history, string key, string paramName = "logHistory") =>
        Missing(history, [key], paramName);

    public static ArgumentException Missing(IReadOnlyList<IReadOnlyDictionary<string, double>> history, string[] keys, string paramName = "logHistory")
    {
        var seen = history.SelectMany(e => e.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var what = history.Count == 0
            ? "it is empty"
            : $"its {history.Count} entries have only {string.Join(", ", seen.Select(k => $"'{k}'"))}";
        return new ArgumentException($"The log history has no {string.Join(" or ", keys.Select(k => $"'{k}'"))} entries to plot ({what}).", paramName);
    }

    private static double? Get(IReadOnlyDictionary<string, double> entry, string key) => entry.TryGetValue(key, out var v) ? v : null;

    private static string Describe(IReadOnlyDictionary<string, double> entry) =>
        "{" + string.Join(", ", entry.Select(kv => $"{kv.Key}: {kv.Value.ToString("G6", CultureInfo.InvariantCulture)}")) + "}";
}
