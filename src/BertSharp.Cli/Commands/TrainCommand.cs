using System.CommandLine;
using BertSharp.Charts;
using BertSharp.Data;
using BertSharp.Hub;
using BertSharp.Modeling;
using BertSharp.Tokenization;
using BertSharp.Training;
using Spectre.Console;

namespace BertSharp.Cli.Commands;

/// <summary>
/// <c>bertsharp train</c>: the seeds' fine-tuning run (bert-base-uncased on 2,000 / 500 IMDb reviews, 3 epochs, batch 16,
/// learning rate 2e-5, weight decay 0.01, evaluation and a checkpoint each epoch) with every TrainingArguments field
/// available as a flag; batches are grouped by length unless --group-by-length false.
/// </summary>
internal static class TrainCommand
{
    public static readonly TrainingArguments SeedDefaults = new()
    {
        OutputDir = "results",
        EvalStrategy = IntervalStrategy.Epoch,
        SaveStrategy = IntervalStrategy.Epoch,
        LearningRate = 2e-5,
        PerDeviceTrainBatchSize = 16,
        PerDeviceEvalBatchSize = 16,
        NumTrainEpochs = 3,
        WeightDecay = 0.01,
        LoggingSteps = 10,
        // Not a transformers default, but it is what makes the CLI faster than the Python workflow on the same data:
        // batches of similar lengths carry little padding (on 2 CPU threads: 129 s instead of 299 s for the stand-in
        // run). --group-by-length false reproduces the Trainer's batches exactly.
        GroupByLength = true,
    };

    public static Command Create()
    {
        var model = SharedOptions.Model("bert-base-uncased");
        var dataset = SharedOptions.Dataset();
        var trainSamples = new Option<int>("--train-samples") { Description = "Training reviews, taken in the order of dataset.shuffle(seed=--data-seed) like the Python tutorial; 0 = all.", DefaultValueFactory = _ => 2000 };
        var evalSamples = new Option<int>("--eval-samples") { Description = "Evaluation reviews from the test split, same order; 0 = all.", DefaultValueFactory = _ => 500 };
        var dataSeed = SharedOptions.DataSeed();
        var resume = new Option<string?>("--resume-from-checkpoint") { Description = "A checkpoint-N folder to continue from, or 'last' for the newest in --output-dir." };
        var maxLength = SharedOptions.MaxLength();
        var training = new TrainingArgumentOptions(SeedDefaults);
        var command = new Command("train", "Fine-tune a BERT model for text classification (defaults: the seeds' IMDb setup).")
        {
            model, dataset, trainSamples, evalSamples, dataSeed, resume, maxLength,
        };
        foreach (var option in training.Options) command.Options.Add(option);
        command.SetAction((parse, cancellationToken) =>
        {
            var args = training.Bind(parse);
            args.Validate();
            TrainingDevice.Resolve(args); // before any download: a wrong device should fail at once
            var resumeFrom = parse.GetValue(resume);
            if (resumeFrom == "last")
                resumeFrom = Checkpoint.Latest(args.OutputDir)?.Directory ?? throw new CliUsageException($"--resume-from-checkpoint last: no checkpoint in {args.OutputDir}");
            // Before anything is downloaded or loaded: the output folder must take the run, and a resume must continue its checkpoint's.
            Checkpoint.PrepareOutputDir(args.OutputDir, resuming: resumeFrom is not null, args.OverwriteOutputDir);
            if (resumeFrom is not null) ResumeCheck.EnsureResumable(Checkpoint.Open(resumeFrom), args, currentInputs: null);

            using var hub = new HubClient();
            var (tokenizer, bert, train, eval) = ConsoleProgress.WithDownloads(progress =>
            {
                var train = Subset(DatasetLoader.Load(parse.GetValue(dataset)!, "train", hub, progress), parse.GetValue(trainSamples), parse.GetValue(dataSeed), "--train-samples");
                var eval = args.EvalStrategy == IntervalStrategy.No && parse.GetValue(evalSamples) == 0 ? null
                    : Subset(DatasetLoader.Load(parse.GetValue(dataset)!, "test", hub, progress), parse.GetValue(evalSamples), parse.GetValue(dataSeed), "--eval-samples");
                // A training set of one class, or labels that are not classes, would still "train": refuse before the model loads.
                train.EnsureClassificationLabels(train.NumLabels);
                var tokenizer = AutoTokenizer.FromPretrained(parse.GetValue(model)!, hub, progress);
                var labels = train.LabelNames is { } names ? names.Select((n, i) => (n, i)).ToDictionary(x => x.i, x => x.n) : null;
                // New layers (the classifier) are initialised from the seed, so the same flags give the same run.
                TorchSharp.torch.manual_seed(args.Seed);
                var bert = AutoModelForSequenceClassification.FromPretrained(parse.GetValue(model)!, train.NumLabels,
                    new PretrainedOptions { Hub = hub, DownloadProgress = progress, Id2Label = labels });
                return (tokenizer, bert, train, eval);
            });
            using var _ = bert;
            // Names in the data mean the model's classes of those names, not their position in sorted order.
            train = train.WithLabelIds(bert.Config.Label2Id, Warn);
            eval = eval?.WithLabelIds(bert.Config.Label2Id, Warn);
            // dataset.map(tokenize): once, up front, at the length the model can read.
            var length = ModelInputChecks.MaxLength(tokenizer, bert.Config, parse.GetValue(maxLength));
            var trainTokens = TrainingProgress.Tokenize(train, tokenizer, length, "the training set");
            var evalTokens = eval is null ? null : TrainingProgress.Tokenize(eval, tokenizer, length, "the evaluation set");
            using var trainer = new Trainer(bert, args, trainTokens, evalTokens, tokenizer);
            AnsiConsole.MarkupLine($"[grey]device {trainer.Device.type.ToString().ToLowerInvariant()}, {PrecisionLabel(args)}; {train.Count:N0} training and {eval?.Count ?? 0:N0} evaluation examples; output in {Markup.Escape(Path.GetFullPath(args.OutputDir))}[/]");

            var output = TrainingProgress.Run(trainer, t => t.Train(resumeFrom, cancellationToken));
            if (output.StepsRun == 0)
            {
                // The checkpoint already ended this run: what the run saved stays as it was, rather than figures of no work.
                AnsiConsole.MarkupLine($"Nothing is left to train: the model and metrics in {Markup.Escape(Path.GetFullPath(args.OutputDir))} are left as they are.");
                return Task.FromResult(0);
            }
            // The final evaluation, as the tutorial's trainer.evaluate() prints it (the Logged handler prints it).
            var final = eval is null ? new Dictionary<string, double>() : trainer.Evaluate();
            trainer.SaveModel();
            trainer.SaveMetrics(final.Concat(output.Metrics.Where(kv => kv.Key.StartsWith(LogKeys.TrainPrefix + "_", StringComparison.Ordinal))).ToDictionary());
            var charts = TrainingReport.SaveHtml(args.OutputDir, trainer.State.LogHistory, trainer.LastEvaluation?.Classification.ConfusionMatrix,
                bert.Config.Id2Label.Values.ToList());
            AnsiConsole.MarkupLine($"[green]Saved[/] the model, metrics.json, log_history.json and {charts.Count} charts (HTML) to {Markup.Escape(Path.GetFullPath(args.OutputDir))}");
            return Task.FromResult(0);
        });
        return command;
    }

    internal static void Warn(string message) => ConsoleProgress.Error.MarkupLine($"[yellow]warning:[/] {Markup.Escape(message)}");

    internal static TextClassificationDataset Subset(TextClassificationDataset data, int samples, int seed, string option)
    {
        if (samples < 0) throw new CliUsageException($"{option} must be 0 (all) or positive, got {samples}");
        if (samples > data.Count) throw new CliUsageException($"{option} {samples} is more than the {data.Count:N0} rows of {data.Source}");
        var shuffled = data.Shuffle((ulong)seed);
        return samples == 0 ? shuffled : shuffled.SelectRange(samples);
    }

    internal static string PrecisionLabel(TrainingArguments args) =>
        (args.Bf16 ? "bf16" : args.Fp16 ? "fp16 with loss scaling" : "fp32") + (args.Tf32 == true ? ", tf32 matmuls" : "");
}
