using BertSharp.Training;
using Spectre.Console;

namespace BertSharp.Cli;

/// <summary>
/// Progress bars for tokenisation, training and evaluation, with the Hugging Face-style log lines printed above them.
/// Without a terminal (CI, pipes) only the log lines are printed.
/// </summary>
internal static class TrainingProgress
{
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
                ProgressTask? tokenize = null, train = null, evaluate = null;
                trainer.TokenizationProgressed += (done, total) =>
                {
                    tokenize ??= ctx.AddTask("tokenising", maxValue: total);
                    tokenize.MaxValue = total;
                    tokenize.Value = done;
                };
                trainer.StepCompleted += step =>
                {
                    train ??= ctx.AddTask("training", maxValue: step.MaxSteps);
                    train.Value = step.GlobalStep;
                    train.Description = $"training (epoch {step.Epoch:F2}, loss {step.Loss:F4})";
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
