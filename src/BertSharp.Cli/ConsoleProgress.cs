using BertSharp.Hub;
using BertSharp.IO;
using Spectre.Console;

namespace BertSharp.Cli;

/// <summary>
/// Spectre.Console on standard error, so progress bars and reports never mix with the JSON a command prints
/// on standard output.
/// </summary>
public static class ConsoleProgress
{
    public static IAnsiConsole Error { get; } = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    /// <summary>Runs <paramref name="work"/> with a download progress bar per file it fetches from the Hub.</summary>
    public static T WithDownloads<T>(Func<IProgress<DownloadProgress>, T> work)
    {
        if (!Error.Profile.Capabilities.Interactive)
            return work(new Progress<DownloadProgress>(_ => { }));
        T result = default!;
        Error.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new DownloadedColumn(), new TransferSpeedColumn())
            .Start(ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                var reporter = new SynchronousProgress<DownloadProgress>(p =>
                {
                    if (p.FromCache) return;
                    if (!tasks.TryGetValue(p.FileName, out var task))
                        tasks[p.FileName] = task = ctx.AddTask($"{p.RepoId}/{p.FileName}", maxValue: p.TotalBytes ?? 1);
                    if (p.TotalBytes is { } total) task.MaxValue = total;
                    task.Value = p.BytesDownloaded;
                });
                result = work(reporter);
                foreach (var task in tasks.Values) task.StopTask();
            });
        return result;
    }
}
