using System.Text.Json;
using System.Text.Json.Nodes;
using BertSharp.Evaluation;
using BertSharp.IO;

namespace BertSharp.Training;

/// <summary>
/// The files a run leaves beside its model — <c>metrics.json</c>, <c>log_history.json</c> and <c>confusion_matrix.json</c> —
/// written by <see cref="Trainer.SaveMetrics"/> and read back by <c>bertsharp charts</c>.
/// </summary>
public static class RunFiles
{
    public const string MetricsFile = "metrics.json";
    public const string LogHistoryFile = "log_history.json";
    public const string ConfusionMatrixFile = "confusion_matrix.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void SaveMetrics(string directory, IReadOnlyDictionary<string, double> metrics) =>
        AtomicFile.WriteAllText(Path.Combine(directory, MetricsFile), JsonSerializer.Serialize(metrics, Indented) + "\n");

    public static void SaveLogHistory(string directory, IEnumerable<Dictionary<string, double>> history) =>
        AtomicFile.WriteAllText(Path.Combine(directory, LogHistoryFile), TrainerState.LogHistoryJson(history).ToJsonString(Indented) + "\n");

    /// <summary>Rows are true labels, columns predicted ones, as in <see cref="ConfusionMatrix"/>.</summary>
    public static void SaveConfusionMatrix(string directory, IReadOnlyList<string> labels, ConfusionMatrix matrix) =>
        AtomicFile.WriteAllText(Path.Combine(directory, ConfusionMatrixFile),
            JsonSerializer.Serialize(new { labels, matrix = matrix.ToArray() }, Indented) + "\n");

    public static List<IReadOnlyDictionary<string, double>> ReadLogHistory(string directory)
    {
        var path = Path.Combine(directory, LogHistoryFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} does not exist: is this the output folder of a training run?", path);
        try
        {
            var entries = JsonText.ParseNode(File.ReadAllText(path))?.AsArray()
                ?? throw new InvalidOperationException("the file holds null");
            return entries.Select(entry => (IReadOnlyDictionary<string, double>)TrainerState.LogEntryFromJson(entry?.AsObject()
                ?? throw new InvalidOperationException("an entry is null"))).ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: not a log history (a JSON list of objects): {e.Message}", e);
        }
    }

    /// <summary>The run's confusion matrix and label names, or nulls when the run saved none (it never evaluated).</summary>
    public static (ConfusionMatrix? Matrix, IReadOnlyList<string>? Labels) ReadConfusionMatrix(string directory)
    {
        var path = Path.Combine(directory, ConfusionMatrixFile);
        if (!File.Exists(path)) return (null, null);
        try
        {
            using var doc = JsonText.ParseDocument(File.ReadAllText(path));
            var labels = doc.RootElement.GetProperty("labels").EnumerateArray().Select(l => l.GetString()!).ToList();
            var rows = doc.RootElement.GetProperty("matrix").EnumerateArray()
                .Select(r => (IReadOnlyList<long>)r.EnumerateArray().Select(c => c.GetInt64()).ToList()).ToList();
            return (ConfusionMatrix.FromCounts(rows), labels);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: not a confusion matrix ({{\"labels\": [...], \"matrix\": [[...]]}}): {e.Message}", e);
        }
    }
}
