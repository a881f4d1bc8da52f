using BertSharp.Data;
using BertSharp.IO;
using BertSharp.Tokenization;
using BertSharp.Training;
using Spectre.Console;

namespace BertSharp.Cli;

/// <summary>
/// Progress bars for tokenisation, training and evaluation, with the Hugging Face-style log lines printed above them.
/// Without a terminal (CI, pipes) only the log lines are printed.
/// </summary>
internal static class TrainingProgress
{
    /// <summary><see cref="TextClassificationDataset.Tokenize"/> with a progress bar named <paramref name="what"/>.</summary>
    public static TokenizedDataset Tokenize(TextClassificationDataset dataset, BertTokenizer tokenizer, int maxLength, string what)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive) return dataset.Tokenize(tokenizer, maxLength);
        TokenizedDataset result = null!;
        AnsiConsole.Progress().AutoClear(true).Start(ctx =>
        {
            var task = ctx.AddTask($"tokenising {what}", maxValue: dataset.Count);
            result = dataset.Tokenize(tokenizer, maxLength, new SynchronousProgress<int>(done => task.Value = done));
        });
        return result;
    }

    /// <summary>Runs <paramref name="work"/> with a bar that follows its forward passes.</summary>
    public static T Evaluate<T>(Func<Action<int, int>, T> work)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive) return work((_, _) => { });
        T result = default!;
        AnsiConsole.Progress().AutoClear(true).Start(ctx =>
        {
            ProgressTask? task = null;
            result = work((done, total) =>
            {
                task ??= ctx.AddTask("evaluating", maxValue: total);
                task.Value = done;
            });
        });
        return result;
    }

    public static T Run<T>(Trainer trainer, Func<Trainer, T> work)
    {
        trainer.Logged += entry => Console.WriteLine(LogFormat.Format(entry));
        if (!AnsiConsole.Profile.Capabilities.Interactive) return work(trainer);

        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                ProgressTask? train = null, evaluate = null;
                double? lastLoss = null;
                trainer.StepCompleted += step =>
                {
                    train ??= ctx.AddTask("training", maxValue: step.MaxSteps);
                    train.Value = step.GlobalStep;
                    // On a GPU the loss is read back only at logging steps; the last one read stays on show.
                    if (step.Loss is { } loss) lastLoss = loss;
                    train.Description = lastLoss is { } shown ? $"training (epoch {step.Epoch:F2}, loss {shown:F4})" : $"training (epoch {step.Epoch:F2})";
                };
                trainer.EvaluationProgressed += e =>
                {
                    if (evaluate is null || evaluate.IsFinished) evaluate = ctx.AddTask("evaluating", maxValue: e.TotalBatches);
                    evaluate.Value = e.BatchesDone;
                };
                result = work(trainer);
            });
        return result;
    }
}
