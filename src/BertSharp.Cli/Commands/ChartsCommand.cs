using System.CommandLine;
using BertSharp.Charts;
using BertSharp.Evaluation;
using BertSharp.Training;
using Spectre.Console;

namespace BertSharp.Cli.Commands;

/// <summary>
/// <c>bertsharp charts</c>: the pictures of a finished run (loss, learning rate, grad norm, eval metrics, confusion
/// matrix, training log) from the log_history.json and confusion_matrix.json that <c>train</c> wrote.
/// </summary>
internal static class ChartsCommand
{
    public static Command Create()
    {
        var run = new Option<DirectoryInfo>("--run") { Description = "The --output-dir of a bertsharp train run.", Required = true };
        var output = new Option<DirectoryInfo?>("--output", "-o") { Description = "Where to write the files (default: the run folder)." };
        var png = new Option<bool>("--png") { Description = "PNG images via headless Chromium instead of HTML." };
        var title = new Option<string?>("--title") { Description = "Heading of the training-log picture." };
        var command = new Command("charts", "Draw a training run's charts as offline HTML or PNG.") { run, output, png, title };
        command.SetAction(parse =>
        {
            var runDir = parse.GetValue(run)!;
            var history = RunFiles.ReadLogHistory(runDir.FullName);
            var (matrix, labels) = RunFiles.ReadConfusionMatrix(runDir.FullName);
            var target = (parse.GetValue(output) ?? runDir).FullName;
            Directory.CreateDirectory(target);
            var files = parse.GetValue(png)
                ? TrainingReport.SavePngAsync(target, history, matrix, labels, parse.GetValue(title)).GetAwaiter().GetResult()
                : TrainingReport.SaveHtml(target, history, matrix, labels);
            foreach (var file in files) AnsiConsole.MarkupLine($"wrote {Markup.Escape(file)}");
            return 0;
        });
        return command;
    }
}
