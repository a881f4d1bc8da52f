using System.CommandLine;
using System.Text.Json;
using BertSharp.Data;
using BertSharp.Hub;
using BertSharp.Modeling;
using BertSharp.Tokenization;
using BertSharp.Training;

namespace BertSharp.Cli.Commands;

/// <summary>
/// <c>bertsharp bench</c>: throughput on real IMDb text with dynamic padding, printed as one JSON object.
/// Tasks: <c>train</c> (optimizer steps), <c>eval</c> (forward passes), <c>tokenize</c> (single-threaded tokenizer),
/// <c>serve</c> (the web app under concurrent HTTP load on loopback, see <see cref="ServeBench"/>), <c>explain</c>
/// (faithfulness of token attributions, see <see cref="ExplainBench"/>). Train and eval also report the process's peak
/// and current resident memory, the figures compared with PyTorch doing the same work.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var task = new Argument<string>("task") { Description = "train, eval, tokenize, serve or explain." };
        task.AcceptOnlyFromAmong("train", "eval", "tokenize", "serve", "explain");
        var model = SharedOptions.Model("bert-base-uncased");
        var config = new Option<FileInfo?>("--config") { Description = "A config.json to build a model with random weights (e.g. bert-base-uncased's shape) instead of loading --model's weights; the tokenizer still comes from --model." };
        var dataset = SharedOptions.Dataset();
        var split = new Option<string?>("--split") { Description = "Dataset split (default: train for train, test otherwise)." };
        var samples = new Option<int>("--samples") { Description = "Reviews to use; 0 = the whole split.", DefaultValueFactory = _ => 0 };
        var batchSize = new Option<int>("--batch-size") { Description = "Texts per forward pass (serve: the server's --max-batch-size).", DefaultValueFactory = _ => 32 };
        var maxLength = SharedOptions.MaxLength();
        var epochs = new Option<double>("--epochs") { Description = "Training epochs over the samples.", DefaultValueFactory = _ => 1 };
        var steps = new Option<int?>("--steps") { Description = "Training: stop after this many optimizer steps (overrides --epochs); each step's time is reported." };
        var device = new Option<DeviceChoice>("--device") { DefaultValueFactory = _ => DeviceChoice.Auto };
        var bf16 = new Option<bool>("--bf16") { Description = "bfloat16 mixed precision (CUDA only)." };
        var fp16 = new Option<bool>("--fp16") { Description = "float16 mixed precision with loss scaling (CUDA only)." };
        var tf32 = new Option<bool?>("--tf32") { Description = "TensorFloat-32 float32 matmuls: true or false (CUDA only); unset leaves libtorch's default." };
        var groupByLength = new Option<bool>("--group-by-length") { Description = "Batch similar lengths together (less padding)." };
        var threads = new Option<int?>("--threads") { Description = "CPU threads for tensor operations." };
        var command = new Command("bench", "Measure training, evaluation or tokenisation throughput; prints JSON.")
        {
            task, model, config, dataset, split, samples, batchSize, maxLength, epochs, steps, device, bf16, fp16, tf32, groupByLength, threads,
        };
#if !SLIM
        var serve = new ServeBench(command);
#endif
        var explain = new ExplainBench(command);
        command.SetAction(parse =>
        {
            var what = parse.GetValue(task)!;
#if SLIM
            if (what == "serve") throw new CliUsageException("bench serve is not in this build of bertsharp (built with -p:Slim=true, without the web app)");
#endif
            // A device or precision this machine lacks fails before any download or tokenisation.
            if (what is "train" or "eval")
                TrainingDevice.Resolve(parse.GetValue(device), parse.GetValue(bf16), parse.GetValue(fp16), parse.GetValue(tf32) == true);
            using var hub = new HubClient();
            var data = DatasetLoader.Load(parse.GetValue(dataset)!, parse.GetValue(split) ?? (what == "train" ? "train" : "test"), hub);
            if (what == "explain" && parse.GetValue(samples) == 0)
                throw new CliUsageException("bench explain needs --samples (e.g. 200): Integrated Gradients on a whole split takes hours");
            data = TrainCommand.Subset(data, parse.GetValue(samples), 42, "--samples");
            if (what == "explain")
            {
                if (parse.GetValue(threads) is { } explainThreads) TorchSharp.torch.set_num_threads(explainThreads);
                Print(explain.Run(parse, parse.GetValue(model)!, data, parse.GetValue(maxLength), hub));
                return 0;
            }
#if !SLIM
            if (what == "serve")
            {
                if (parse.GetValue(threads) is { } serveThreads) TorchSharp.torch.set_num_threads(serveThreads);
                Print(serve.Run(parse, parse.GetValue(model)!, data, parse.GetValue(batchSize), parse.GetValue(maxLength), hub));
                return 0;
            }
#endif
            var tokenizer = AutoTokenizer.FromPretrained(parse.GetValue(model)!, hub);
            if (what == "tokenize")
            {
                var (reviews, seconds, perSecond, tokenCount) = TokenizerBenchmark.Run(tokenizer, data.Select(e => e.Text).ToList(), parse.GetValue(maxLength) ?? tokenizer.ModelMaxLength);
                Print(new { task = what, reviews, seconds, reviews_per_second = perSecond, tokens = tokenCount, threads = 1 });
                return 0;
            }

            if (parse.GetValue(threads) is { } n) TorchSharp.torch.set_num_threads(n);
            TorchSharp.torch.manual_seed(42);
            using var bert = parse.GetValue(config) is { } configFile
                ? AutoModelForSequenceClassification.FromConfig(AutoConfig.FromFile(configFile.FullName))
                : AutoModelForSequenceClassification.FromPretrained(parse.GetValue(model)!, data.NumLabels, new PretrainedOptions { Hub = hub, Log = _ => { } });
            var args = new TrainingArguments
            {
                OutputDir = Path.Combine(Path.GetTempPath(), "bertsharp-bench"), SaveStrategy = IntervalStrategy.No, LoggingSteps = int.MaxValue,
                PerDeviceTrainBatchSize = parse.GetValue(batchSize), PerDeviceEvalBatchSize = parse.GetValue(batchSize),
                NumTrainEpochs = parse.GetValue(epochs), MaxSteps = parse.GetValue(steps) ?? -1, Device = parse.GetValue(device),
                Bf16 = parse.GetValue(bf16), Fp16 = parse.GetValue(fp16), Tf32 = parse.GetValue(tf32), GroupByLength = parse.GetValue(groupByLength), LearningRate = 2e-5, WeightDecay = 0.01,
            };
            var length = ModelInputChecks.MaxLength(tokenizer, bert.Config, parse.GetValue(maxLength));
            var tokens = data.Tokenize(tokenizer, length);
            using var trainer = new Trainer(bert, args, what == "train" ? tokens : null, tokenizer: tokenizer);
            var common = new
            {
                task = what,
                model = parse.GetValue(config)?.FullName ?? parse.GetValue(model),
                parameters = bert.parameters().Sum(p => p.numel()),
                device = trainer.Device.type.ToString().ToLowerInvariant(),
                precision = TrainCommand.PrecisionLabel(args),
                batch_size = args.PerDeviceTrainBatchSize,
                max_length = length,
                samples = data.Count,
                threads = TorchSharp.torch.get_num_threads(),
            };
            if (what == "train")
            {
                var stepSeconds = new List<double>();
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var onGpu = trainer.Device.type == TorchSharp.DeviceType.CUDA;
                trainer.StepCompleted += _ =>
                {
                    // CUDA queues kernels and returns: without waiting for them a step's time would be its launch time.
                    if (onGpu) TorchSharp.torch.cuda.synchronize();
                    stepSeconds.Add(Math.Round(clock.Elapsed.TotalSeconds, 4));
                    clock.Restart();
                };
                var output = trainer.Train();
                Print(new { common, train = output.Metrics, step_seconds = stepSeconds, memory = Memory() });
            }
            else
            {
                var warmup = new TokenizedDataset(tokens.Take(Math.Min(tokens.Count, args.PerDeviceEvalBatchSize * 2)).ToList(), tokens.Source, length, tokens.LabelNames, tokens.NumLabels);
                trainer.Predict(warmup, "warmup");
                var output = trainer.Predict(tokens, "eval");
                Print(new { common, eval = output.Metrics, memory = Memory() });
            }
            return 0;
        });
        return command;
    }

    /// <summary>Whole-process resident memory: the peak so far and now, in MiB; null where /proc is missing.</summary>
    private static object? Memory() => ResidentMemory.Read() is { } m
        ? new { peak_rss_mib = Math.Round(m.PeakMiB, 1), rss_mib = Math.Round(m.CurrentMiB, 1), native_in_use_mib = NativeAllocator.BytesInUse() is { } b ? Math.Round(b / 1048576.0, 1) : (double?)null }
        : null;

    private static void Print(object value) =>
        Console.WriteLine(JsonSerializer.Serialize(value, new JsonSerializerOptions { WriteIndented = true }));
}
