using System.CommandLine;
using System.Text.Json;
using BertSharp.Data;
using BertSharp.Evaluation;
using BertSharp.Hub;
using BertSharp.Modeling;
using BertSharp.Tokenization;
using BertSharp.Training;
using Spectre.Console;

namespace BertSharp.Cli.Commands;

/// <summary><c>bertsharp evaluate</c>: accuracy, F1, precision, recall, loss and a confusion matrix of a fine-tuned model.</summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var model = SharedOptions.Model();
        var dataset = SharedOptions.Dataset();
        var split = new Option<string>("--split") { Description = "The split to evaluate on.", DefaultValueFactory = _ => "test" };
        var samples = new Option<int>("--samples") { Description = "Examples taken in the --data-seed shuffle order; 0 = the whole split.", DefaultValueFactory = _ => 0 };
        var dataSeed = SharedOptions.DataSeed();
        var batchSize = new Option<int>("--batch-size") { Description = "Examples per forward pass.", DefaultValueFactory = _ => 64 };
        var maxLength = SharedOptions.MaxLength();
        var device = new Option<DeviceChoice>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => DeviceChoice.Auto };
        var bf16 = new Option<bool>("--bf16") { Description = "bfloat16 matrix multiplications (CUDA only)." };
        var json = SharedOptions.Json();
        var command = new Command("evaluate", "Evaluate a fine-tuned classifier on a dataset split.")
        {
            model, dataset, split, samples, dataSeed, batchSize, maxLength, device, bf16, json,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            using var hub = new HubClient();
            var (tokenizer, bert, data) = ConsoleProgress.WithDownloads(progress =>
            {
                var data = TrainCommand.Subset(DatasetLoader.Load(parse.GetValue(dataset)!, parse.GetValue(split)!, hub, progress),
                    parse.GetValue(samples), parse.GetValue(dataSeed), "--samples");
                var tokenizer = AutoTokenizer.FromPretrained(parse.GetValue(model)!, hub, progress);
                var bert = AutoModelForSequenceClassification.FromPretrained(parse.GetValue(model)!, options: new PretrainedOptions { Hub = hub, DownloadProgress = progress });
                return (tokenizer, bert, data);
            });
            using var _ = bert;
            // Names in the data mean the model's classes of those names, not their position in sorted order.
            data = data.WithLabelIds(bert.Config.Label2Id, TrainCommand.Warn);
            data.EnsureClassificationLabels(bert.Config.NumLabels, training: false);
            if (parse.GetValue(batchSize) < 1) throw new CliUsageException($"--batch-size must be at least 1, got {parse.GetValue(batchSize)}");
            var target = TrainingDevice.Prepare(bert, parse.GetValue(device), parse.GetValue(bf16));
            var tokens = TrainingProgress.Tokenize(data, tokenizer, ModelInputChecks.MaxLength(tokenizer, bert.Config, parse.GetValue(maxLength)), "the evaluation set");
            var output = TrainingProgress.Evaluate(progress => Evaluator.Evaluate(bert, tokens, new DataCollatorWithPadding(tokenizer.PadTokenId),
                parse.GetValue(batchSize), target, LogKeys.EvalPrefix, progress));
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { metrics = output.Metrics, confusion_matrix = output.Classification.ConfusionMatrix.ToArray() }));
                return Task.FromResult(0);
            }
            Console.WriteLine(LogFormat.Format(output.Metrics));
            var names = bert.Config.Id2Label;
            var table = new Table().Title("confusion matrix (rows: true label, columns: predicted)").AddColumn("");
            foreach (var name in names.Values) table.AddColumn(Markup.Escape(name));
            var matrix = output.Classification.ConfusionMatrix;
            for (var row = 0; row < matrix.NumLabels; row++)
                table.AddRow([Markup.Escape(names[row]), .. Enumerable.Range(0, matrix.NumLabels).Select(c => matrix[row, c].ToString("N0"))]);
            AnsiConsole.Write(table);
            return Task.FromResult(0);
        });
        return command;
    }
}
