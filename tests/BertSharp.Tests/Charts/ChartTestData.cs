namespace BertSharp.Tests.Charts;

/// <summary>Synthetic log histories shaped like the Trainer's (Hugging Face keys).</summary>
internal static class ChartTestData
{
    public static readonly int[] TrainSteps = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    public static readonly double[] Losses = [0.69, 0.66, 0.61, 0.55, 0.48, 0.44, 0.41, 0.37, 0.36, 0.33];
    public static readonly double[] GradNorms = [3.1, 4.2, 3.7, 2.9, 2.5, 2.6, 2.2, 2.0, 2.1, 1.9];
    public static readonly int[] EvalSteps = [50, 100];
    public static readonly double[] EvalEpochs = [1, 2];
    public static readonly double[] EvalLosses = [0.41, 0.35];
    public static readonly double[] EvalAccuracies = [0.861, 0.892];
    public static readonly double[] EvalF1s = [0.857, 0.889];

    public static double LearningRate(int step) => step < 20 ? 2e-5 * step / 20 : 2e-5 * (100 - step) / 80.0;

    /// <summary>Training logs every 10 steps, an evaluation at the end of each of 2 epochs (50 steps each), a summary.</summary>
    public static List<Dictionary<string, double>> History()
    {
        var history = new List<Dictionary<string, double>>();
        for (var i = 0; i < TrainSteps.Length; i++)
        {
            var step = TrainSteps[i];
            history.Add(new Dictionary<string, double>
            {
                ["loss"] = Losses[i], ["grad_norm"] = GradNorms[i], ["learning_rate"] = LearningRate(step),
                ["epoch"] = step / 50.0, ["step"] = step,
            });
            var e = Array.IndexOf(EvalSteps, step);
            if (e >= 0)
            {
                history.Add(new Dictionary<string, double>
                {
                    ["eval_loss"] = EvalLosses[e], ["eval_accuracy"] = EvalAccuracies[e], ["eval_f1"] = EvalF1s[e],
                    ["eval_precision"] = EvalF1s[e] - 0.01, ["eval_recall"] = EvalF1s[e] + 0.01,
                    ["eval_runtime"] = 3.2, ["eval_samples_per_second"] = 312.5, ["eval_steps_per_second"] = 9.8,
                    ["epoch"] = EvalEpochs[e], ["step"] = step,
                });
            }
        }
        history.Add(new Dictionary<string, double>
        {
            ["train_runtime"] = 61.5, ["train_samples_per_second"] = 52.0, ["train_steps_per_second"] = 1.6,
            ["train_loss"] = 0.49, ["epoch"] = 2, ["step"] = 100,
        });
        return history;
    }

    /// <summary>The history with <paramref name="key"/> taken out of every entry.</summary>
    public static List<Dictionary<string, double>> Removing(string key)
    {
        var history = History();
        foreach (var entry in history) entry.Remove(key);
        return history;
    }

    /// <summary>The history without the entries that have <paramref name="key"/>.</summary>
    public static List<Dictionary<string, double>> Without(string key) => History().Where(e => !e.ContainsKey(key)).ToList();
}
