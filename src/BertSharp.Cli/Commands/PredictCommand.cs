using System.CommandLine;
using System.Text.Json;
using BertSharp.Inference;
using BertSharp.Modeling;
using Spectre.Console;

namespace BertSharp.Cli.Commands;

/// <summary><c>bertsharp predict</c>: the label a fine-tuned classifier gives each text, with its probabilities.</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = SharedOptions.Model();
        var text = SharedOptions.Text();
        var file = SharedOptions.File();
        var json = SharedOptions.Json();
        var maxLength = SharedOptions.MaxLength();
        var batchSize = new Option<int>("--batch-size") { Description = "Texts per forward pass.", DefaultValueFactory = _ => 32 };
        var command = new Command("predict", "Classify texts with a (fine-tuned) BERT or DistilBERT sequence classifier.")
        {
            model, text, file, json, maxLength, batchSize,
        };
        command.SetAction(parse =>
        {
            var texts = TextInputs.Read(parse.GetValue(text), parse.GetValue(file));
            if (parse.GetValue(batchSize) < 1) throw new CliUsageException("--batch-size must be at least 1");
            using var pipeline = ConsoleProgress.WithDownloads(progress => TextClassificationPipeline.FromPretrained(
                parse.GetValue(model)!,
                new PretrainedOptions { DownloadProgress = progress },
                parse.GetValue(maxLength)));
            var predictions = pipeline.Predict(texts, parse.GetValue(batchSize));
            if (parse.GetValue(json))
            {
                foreach (var p in predictions)
                    Console.Out.WriteLine(JsonSerializer.Serialize(new PredictResult(p.Label, p.Score, p.Probabilities, p.Logits, p.TokenCount, p.Truncated), CliJson.Options));
                return 0;
            }
            var labels = pipeline.Model.Config.Id2Label;
            var table = new Table().AddColumn("text").AddColumn("label").AddColumn("score");
            foreach (var l in labels.Values) table.AddColumn($"p({Markup.Escape(l)})");
            for (var i = 0; i < texts.Count; i++)
            {
                var p = predictions[i];
                var preview = texts[i].Length > 60 ? texts[i][..57] + "..." : texts[i];
                table.AddRow([Markup.Escape(preview), Markup.Escape(p.Label), p.Score.ToString("F4"), .. p.Probabilities.Select(x => x.ToString("F4"))]);
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    private sealed record PredictResult(string Label, float Score, IReadOnlyList<float> Probabilities, IReadOnlyList<float> Logits, int NumTokens, bool Truncated);
}
