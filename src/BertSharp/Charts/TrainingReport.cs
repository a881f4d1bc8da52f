using System.Net;
using BertSharp.Evaluation;
using BertSharp.IO;
using BertSharp.Training;

namespace BertSharp.Charts;

/// <summary>
/// The pictures of one training run, from its log history (and final confusion matrix): loss, learning rate,
/// grad norm, evaluation metrics, confusion matrix, and the log itself as the Trainer printed it. Saved as offline
/// HTML next to the run's output, or as PNG (headless Chromium) for the README and the notebooks.
/// </summary>
public static class TrainingReport
{
    public static IReadOnlyList<(string Name, PlotlyChart Chart)> Charts(
        IReadOnlyList<IReadOnlyDictionary<string, double>> logHistory, ConfusionMatrix? confusionMatrix = null, IReadOnlyList<string>? labelNames = null)
    {
        var charts = new List<(string, PlotlyChart)>();
        bool Has(string key) => logHistory.Any(e => e.ContainsKey(key));
        if (Has(LogKeys.Loss)) charts.Add(("loss", TrainingCharts.Loss(logHistory, smoothingWindow: 5)));
        if (Has(LogKeys.LearningRate)) charts.Add(("learning-rate", TrainingCharts.LearningRate(logHistory)));
        if (Has(LogKeys.GradNorm)) charts.Add(("grad-norm", TrainingCharts.GradNorm(logHistory)));
        if (Has(LogKeys.EvalAccuracy)) charts.Add(("eval-metrics", TrainingCharts.EvalMetrics(logHistory)));
        if (confusionMatrix is not null) charts.Add(("confusion-matrix", TrainingCharts.ConfusionMatrix(confusionMatrix, labelNames)));
        if (charts.Count == 0) throw new ArgumentException("The log history has no loss, learning_rate, grad_norm or eval_accuracy entries to chart.", nameof(logHistory));
        return charts;
    }

    /// <summary>Writes {name}.html for every chart; returns the paths.</summary>
    public static IReadOnlyList<string> SaveHtml(string directory, IReadOnlyList<IReadOnlyDictionary<string, double>> logHistory,
        ConfusionMatrix? confusionMatrix = null, IReadOnlyList<string>? labelNames = null)
    {
        var paths = new List<string>();
        foreach (var (name, chart) in Charts(logHistory, confusionMatrix, labelNames))
        {
            var path = Path.Combine(directory, $"{name}.html");
            ChartRenderer.SaveHtml(chart, path);
            paths.Add(path);
        }
        return paths;
    }

    /// <summary>Writes {name}.png for every chart and training-log.png; returns the paths.</summary>
    public static async Task<IReadOnlyList<string>> SavePngAsync(string directory, IReadOnlyList<IReadOnlyDictionary<string, double>> logHistory,
        ConfusionMatrix? confusionMatrix = null, IReadOnlyList<string>? labelNames = null, string? title = null, CancellationToken cancellationToken = default)
    {
        var paths = new List<string>();
        foreach (var (name, chart) in Charts(logHistory, confusionMatrix, labelNames))
        {
            var path = Path.Combine(directory, $"{name}.png");
            await ChartRenderer.SavePngAsync(chart, path, name == "confusion-matrix" ? 560 : 900, 500, cancellationToken: cancellationToken).ConfigureAwait(false);
            paths.Add(path);
        }
        // Long evaluation lines wrap at about 150 characters of 13 px monospace in 1,100 px.
        var rows = Shown(logHistory).Sum(e => (LogFormat.Format(e).Length + 149) / 150);
        var log = Path.Combine(directory, "training-log.png");
        await ChartRenderer.HtmlToPngAsync(LogHtml(logHistory, title), log, 1100, 60 + 19 * rows, cancellationToken: cancellationToken).ConfigureAwait(false);
        paths.Add(log);
        return paths;
    }

    private static IEnumerable<IReadOnlyDictionary<string, double>> Shown(IReadOnlyList<IReadOnlyDictionary<string, double>> logHistory) =>
        logHistory.Skip(Math.Max(0, logHistory.Count - 40));

    /// <summary>The log lines as the Trainer prints them, on a terminal-like page (the last 40 when there are more).</summary>
    public static string LogHtml(IReadOnlyList<IReadOnlyDictionary<string, double>> logHistory, string? title = null)
    {
        var lines = Shown(logHistory).Select(entry =>
        {
            var css = entry.ContainsKey(LogKeys.EvalLoss) ? "eval" : entry.ContainsKey(LogKeys.TrainRuntime) ? "summary" : "train";
            return $"<div class=\"{css}\">{WebUtility.HtmlEncode(LogFormat.Format(entry))}</div>";
        });
        return $$"""
            <!DOCTYPE html><html><head><meta charset="utf-8"><style>
            body { margin: 0; background: #1e1e1e; color: #d4d4d4; font: 13px/19px "DejaVu Sans Mono", "Liberation Mono", monospace; }
            header { padding: 10px 14px 6px; color: #9cdcfe; font-weight: bold; }
            main { padding: 0 14px 10px; white-space: pre-wrap; word-break: break-all; }
            .eval { color: #b5cea8; } .summary { color: #ce9178; }
            </style></head><body><header>{{WebUtility.HtmlEncode(title ?? "bertsharp train")}}</header><main>{{string.Concat(lines)}}</main></body></html>
            """;
    }
}
