namespace BertSharp.Training;

/// <summary>
/// The key names of the log history (trainer_state.json's <c>log_history</c>, the printed log lines, metrics.json), as
/// transformers writes them, so runs can be compared with Python's and charted by the same code.
/// </summary>
public static class LogKeys
{
    // Training log entries.
    public const string Loss = "loss";
    public const string GradNorm = "grad_norm";
    public const string LearningRate = "learning_rate";
    public const string Epoch = "epoch";
    public const string Step = "step";

    // The summary entry at the end of training.
    public const string TrainPrefix = "train";
    public const string TrainRuntime = "train_runtime";
    public const string TrainSamplesPerSecond = "train_samples_per_second";
    public const string TrainStepsPerSecond = "train_steps_per_second";
    public const string TrainLoss = "train_loss";

    // Evaluation metrics are "{prefix}_{name}": eval_accuracy during training, test_accuracy from Predict.
    public const string EvalPrefix = "eval";
    public const string Accuracy = "accuracy";
    public const string F1 = "f1";
    public const string Precision = "precision";
    public const string Recall = "recall";
    public const string Runtime = "runtime";
    public const string SamplesPerSecond = "samples_per_second";
    public const string StepsPerSecond = "steps_per_second";

    public const string EvalLoss = "eval_loss";
    public const string EvalAccuracy = "eval_accuracy";
    public const string EvalF1 = "eval_f1";
    public const string EvalPrecision = "eval_precision";
    public const string EvalRecall = "eval_recall";
    public const string EvalRuntime = "eval_runtime";
    public const string EvalSamplesPerSecond = "eval_samples_per_second";
    public const string EvalStepsPerSecond = "eval_steps_per_second";

    public static string Prefixed(string prefix, string name) => $"{prefix}_{name}";

    public static bool IsEval(string key) => key.StartsWith(EvalPrefix + "_", StringComparison.Ordinal);
}
