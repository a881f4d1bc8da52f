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
        var explain = new Option<bool>("--explain") { Description = "Show which words made the model decide (Integrated Gradients on the embeddings): coloured text, or tokens, words, offsets and attributions with --json." };
        var steps = new Option<int>("--steps") { Description = "Integrated Gradients steps (with --explain).", DefaultValueFactory = _ => 50 };
        var targetLabel = new Option<string?>("--target-label") { Description = "Explain this label's logit instead of the predicted one's (a name from id2label, or an id)." };
        var gradientTimesInput = new Option<bool>("--gradient-x-input") { Description = "Explain with gradient × input (one backward pass, no completeness) instead of Integrated Gradients." };
        var command = new Command("predict", "Classify texts with a (fine-tuned) BERT or DistilBERT sequence classifier.")
        {
            model, text, file, json, maxLength, batchSize, explain, steps, targetLabel, gradientTimesInput,
        };
        command.SetAction(parse =>
        {
            var texts = TextInputs.Read(parse.GetValue(text), parse.GetValue(file));
            if (parse.GetValue(batchSize) < 1) throw new CliUsageException("--batch-size must be at least 1");
            var explaining = parse.GetValue(explain);
            if (!explaining && (parse.GetValue(targetLabel) is not null || parse.GetValue(gradientTimesInput) || parse.GetResult(steps) is { Implicit: false }))
                throw new CliUsageException("--steps, --target-label and --gradient-x-input only apply with --explain");
            if (explaining && parse.GetValue(steps) < 1) throw new CliUsageException($"--steps must be at least 1 (got {parse.GetValue(steps)})");
            using var pipeline = ConsoleProgress.WithDownloads(progress => TextClassificationPipeline.FromPretrained(
                parse.GetValue(model)!,
                new PretrainedOptions { DownloadProgress = progress },
                parse.GetValue(maxLength)));
            if (explaining)
            {
                var method = parse.GetValue(gradientTimesInput) ? AttributionMethod.GradientTimesInput : AttributionMethod.IntegratedGradients;
                // The label is checked before the first (slow) explanation, so a typo costs nothing.
                if (parse.GetValue(targetLabel) is { } label) pipeline.LabelId(label);
                for (var i = 0; i < texts.Count; i++)
                {
                    var explanation = pipeline.Explain(texts[i], parse.GetValue(targetLabel), parse.GetValue(steps), method);
                    if (parse.GetValue(json)) Console.Out.WriteLine(ExplainOutput.Json(explanation));
                    else
                    {
                        if (i > 0) AnsiConsole.WriteLine();
                        ExplainOutput.Write(explanation);
                    }
                }
                return 0;
            }
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
