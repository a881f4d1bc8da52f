using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
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
            var history = ReadLogHistory(Path.Combine(runDir.FullName, "log_history.json"));
            var (matrix, labels) = ReadConfusionMatrix(Path.Combine(runDir.FullName, "confusion_matrix.json"));
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

    internal static List<IReadOnlyDictionary<string, double>> ReadLogHistory(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} does not exist: is --run the output folder of bertsharp train?", path);
        try
        {
            var entries = JsonNode.Parse(File.ReadAllText(path))?.AsArray()
                ?? throw new InvalidOperationException("the file holds null");
            return entries.Select(entry => (IReadOnlyDictionary<string, double>)TrainerState.LogEntryFromJson(entry?.AsObject()
                ?? throw new InvalidOperationException("an entry is null"))).ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"{path}: not a log history (a JSON list of objects): {e.Message}", e);
        }
    }

    private static (ConfusionMatrix?, IReadOnlyList<string>?) ReadConfusionMatrix(string path)
    {
        if (!File.Exists(path)) return (null, null);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
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
