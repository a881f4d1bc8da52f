using System.Diagnostics;
using BertSharp.Data;
using BertSharp.Inference;
using BertSharp.Modeling;
using BertSharp.Training;
using static TorchSharp.torch;

namespace BertSharp.Evaluation;

/// <summary>Per-example outputs of an evaluation, in the dataset's order, with metrics and a confusion matrix.</summary>
public sealed record PredictionOutput(
    float[][] Logits,
    int[] Predictions,
    int[] Labels,
    ClassificationMetrics Classification,
    IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// transformers' <c>Trainer.evaluate</c> / <c>predict</c> without a Trainer: logits for a labelled dataset, then the loss,
/// accuracy, F1, precision, recall and speed under the log history's key names (<c>eval_loss</c>, <c>eval_accuracy</c>, …).
/// </summary>
public static class Evaluator
{
    public static PredictionOutput Evaluate(SequenceClassificationModel model, TokenizedDataset dataset, DataCollatorWithPadding collator,
        int batchSize, Device device, string metricKeyPrefix = LogKeys.EvalPrefix, Action<int, int>? progress = null)
    {
        dataset.EnsureLabeled();
        ModelInputChecks.EnsureFits(model, dataset);
        var clock = Stopwatch.StartNew();
        var output = PredictionLoop.Run(model, dataset, collator, batchSize, device, progress);
        clock.Stop();
        var predictions = output.Logits.Select(l => Array.IndexOf(l, l.Max())).ToArray();
        var labels = dataset.Select(e => e.Label!.Value).ToArray();
        var classification = ClassificationMetrics.Compute(labels, predictions, model.Config.NumLabels);
        var seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        string Key(string name) => LogKeys.Prefixed(metricKeyPrefix, name);
        var metrics = new Dictionary<string, double>
        {
            [Key(LogKeys.Loss)] = output.MeanLoss!.Value,
            [Key(LogKeys.Accuracy)] = classification.Accuracy,
            [Key(LogKeys.F1)] = classification.F1,
            [Key(LogKeys.Precision)] = classification.Precision,
            [Key(LogKeys.Recall)] = classification.Recall,
            [Key(LogKeys.Runtime)] = Math.Round(seconds, 4),
            [Key(LogKeys.SamplesPerSecond)] = Math.Round(dataset.Count / seconds, 3),
            [Key(LogKeys.StepsPerSecond)] = Math.Round(output.Batches / seconds, 3),
        };
        return new PredictionOutput(output.Logits, predictions, labels, classification, metrics);
    }
}
