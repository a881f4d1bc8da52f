using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BertSharp.Data;
using BertSharp.Evaluation;
using BertSharp.IO;
using BertSharp.Modeling;
using BertSharp.Safetensors;
using BertSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace BertSharp.Training;

/// <summary>
/// Hugging Face's <c>Trainer</c> for sequence classification: AdamW with a warm-up schedule, gradient clipping and
/// accumulation, evaluation and checkpoints on the strategies of <see cref="TrainingArguments"/>, and a log history
/// with transformers' key names. The loop is in <see cref="Train"/>; one optimizer step is <see cref="TrainingStep"/>.
/// </summary>
public sealed class Trainer : IDisposable
{
    private const string OptimizerFile = "optimizer.safetensors";
    private const string RngFile = "rng_state.safetensors";
    private const string ArgsFile = "training_args.json";

    private readonly DataCollatorWithPadding _collator;
    private readonly Dictionary<TextClassificationDataset, TokenizedDataset> _tokenized = new(ReferenceEqualityComparer.Instance);
    private AdamW? _optimizer;

    public Trainer(BertForSequenceClassification model, TrainingArguments args, BertTokenizer tokenizer,
        TextClassificationDataset? trainDataset = null, TextClassificationDataset? evalDataset = null)
    {
        args.Validate();
        Model = model;
        Args = args;
        Tokenizer = tokenizer;
        TrainDataset = trainDataset;
        EvalDataset = evalDataset;
        if (args.EvalStrategy != IntervalStrategy.No && evalDataset is null)
            throw new ArgumentException($"TrainingArguments: EvalStrategy is {args.EvalStrategy} but no evaluation dataset was given.");
        if (args.NumThreads is { } threads) set_num_threads(threads);
        Device = TrainingDevice.Resolve(args.Device, args.Bf16);
        if (Device.type == TorchSharp.DeviceType.CPU) NativeAllocator.KeepFreedMemoryForReuse();
        Model.to(Device);
        Model.Precision.ComputeDtype = args.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        _collator = new DataCollatorWithPadding(tokenizer.PadTokenId);
    }

    public BertForSequenceClassification Model { get; }
    public TrainingArguments Args { get; }
    public BertTokenizer Tokenizer { get; }
    public TextClassificationDataset? TrainDataset { get; }
    public TextClassificationDataset? EvalDataset { get; }
    public Device Device { get; }
    public TrainerState State { get; private set; } = new();

    /// <summary>The outputs of the latest <see cref="Evaluate"/>, with its confusion matrix.</summary>
    public PredictionOutput? LastEvaluation { get; private set; }

    /// <summary>Every entry added to the log history: training logs, evaluations, the final summary.</summary>
    public event Action<IReadOnlyDictionary<string, double>>? Logged;
    public event Action<StepProgress>? StepCompleted;
    public event Action<EvaluationProgress>? EvaluationProgressed;
    public event Action<string>? CheckpointSaved;
    /// <summary>Examples tokenised so far and the total, while a dataset is prepared.</summary>
    public event Action<int, int>? TokenizationProgressed;

    /// <summary>Trains from scratch, or continues exactly where <paramref name="resumeFromCheckpoint"/> stopped.</summary>
    public TrainOutput Train(string? resumeFromCheckpoint = null, CancellationToken cancellationToken = default)
    {
        var trainDataset = TrainDataset ?? throw new InvalidOperationException("Trainer.Train needs a training dataset.");
        trainDataset.EnsureLabeled();
        CheckLabels(trainDataset);
        manual_seed(Args.Seed);
        if (Device.type == TorchSharp.DeviceType.CUDA) cuda.manual_seed_all(Args.Seed);

        var train = Tokenized(trainDataset);
        var updatesPerEpoch = Args.UpdateStepsPerEpoch(train.Count);
        var maxSteps = Args.TotalOptimizerSteps(train.Count);
        var numEpochs = (int)Math.Ceiling((double)maxSteps / updatesPerEpoch);
        var schedule = LearningRateSchedule.FromArguments(Args, maxSteps);

        _optimizer?.Dispose();
        _optimizer = CreateOptimizer();
        State = new TrainerState
        {
            MaxSteps = maxSteps, NumTrainEpochs = numEpochs, LoggingSteps = Args.LoggingSteps,
            EvalSteps = Args.EvalStrategy == IntervalStrategy.Steps ? Args.EvalSteps ?? Args.LoggingSteps : null,
            SaveSteps = Args.SaveSteps, TrainBatchSize = Args.PerDeviceTrainBatchSize,
        };
        if (resumeFromCheckpoint is not null) LoadCheckpoint(resumeFromCheckpoint);
        var (startEpoch, updatesToSkip) = (State.GlobalStep / updatesPerEpoch, State.GlobalStep % updatesPerEpoch);

        Model.train();
        var clock = Stopwatch.StartNew();
        double lossSinceLog = 0, runLoss = 0;
        var (lastLoggedStep, firstStep, samplesSeen) = (State.GlobalStep, State.GlobalStep, 0L);
        var stop = State.GlobalStep >= maxSteps;
        for (var epoch = startEpoch; epoch < numEpochs && !stop; epoch++)
        {
            var batches = BatchSampler.TrainingBatches(train, Args.PerDeviceTrainBatchSize, Args.Seed, epoch, Args.GroupByLength);
            var updates = batches.Chunk(Args.GradientAccumulationSteps).ToList();
            for (var u = epoch == startEpoch ? updatesToSkip : 0; u < updates.Count && !stop; u++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var learningRate = schedule.LearningRateAt(State.GlobalStep);
                var (loss, gradNorm) = TrainingStep(updates[u].Select(b => b.Select(i => train[i]).ToList()).ToList(), learningRate);
                State.GlobalStep++;
                State.Epoch = epoch + (double)(u + 1) / updates.Count;
                (lossSinceLog, runLoss) = (lossSinceLog + loss, runLoss + loss);
                samplesSeen += updates[u].Sum(b => b.Length);
                StepCompleted?.Invoke(new StepProgress(State.GlobalStep, maxSteps, State.Epoch, loss, gradNorm, learningRate));

                if (State.GlobalStep % Args.LoggingSteps == 0 || (Args.LoggingFirstStep && State.GlobalStep == 1) || State.GlobalStep == maxSteps)
                {
                    Log(new Dictionary<string, double>
                    {
                        ["loss"] = lossSinceLog / (State.GlobalStep - lastLoggedStep),
                        ["grad_norm"] = gradNorm,
                        // Like transformers, the rate the scheduler has moved on to after this step.
                        ["learning_rate"] = schedule.LearningRateAt(State.GlobalStep),
                        ["epoch"] = State.Epoch,
                        ["step"] = State.GlobalStep,
                    });
                    (lossSinceLog, lastLoggedStep) = (0, State.GlobalStep);
                }
                stop = State.GlobalStep >= maxSteps;
                var evaluate = Args.EvalStrategy == IntervalStrategy.Steps && State.GlobalStep % State.EvalSteps!.Value == 0;
                var save = Args.SaveStrategy == IntervalStrategy.Steps && State.GlobalStep % Args.SaveSteps == 0;
                stop |= EvaluateAndSave(evaluate, save);
            }
            stop |= EvaluateAndSave(Args.EvalStrategy == IntervalStrategy.Epoch, Args.SaveStrategy == IntervalStrategy.Epoch);
        }
        clock.Stop();

        if (Args.LoadBestModelAtEnd && State.BestModelCheckpoint is { } best && Directory.Exists(best))
            PretrainedLoader.LoadInto(Model, best);
        var runSteps = State.GlobalStep - firstStep;
        var seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        var summary = new Dictionary<string, double>
        {
            ["train_runtime"] = Math.Round(seconds, 4),
            ["train_samples_per_second"] = Math.Round(samplesSeen / seconds, 3),
            ["train_steps_per_second"] = Math.Round(runSteps / seconds, 3),
            ["train_loss"] = runSteps == 0 ? 0 : runLoss / runSteps,
            ["epoch"] = State.Epoch,
            ["step"] = State.GlobalStep,
        };
        Log(summary);
        return new TrainOutput(State.GlobalStep, summary["train_loss"], summary);
    }

    /// <summary>
    /// One optimizer step over one or more micro-batches (gradient accumulation): forward, loss, backward for each,
    /// then clip the summed gradients, update the weights and clear the gradients. Returns the mean loss and the
    /// gradient norm before clipping.
    /// </summary>
    public (double Loss, double GradNorm) TrainingStep(IReadOnlyList<IReadOnlyList<TokenizedExample>> microBatches, double learningRate)
    {
        _optimizer ??= CreateOptimizer();
        double loss = 0;
        foreach (var examples in microBatches)
        {
            using var scope = NewDisposeScope();
            var batch = _collator.Collate(examples, Device);
            var output = Model.Forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds, batch.Labels);
            var scaled = output.Loss! / microBatches.Count;
            var value = scaled.item<float>();
            if (!float.IsFinite(value)) throw Diverged("loss", value * microBatches.Count, learningRate);
            scaled.backward();
            loss += value;
        }
        double gradNorm;
        using (var scope = NewDisposeScope())
        {
            // max_norm = +inf computes the norm without rescaling anything.
            gradNorm = nn.utils.clip_grad_norm_(_optimizer.Parameters, Args.MaxGradNorm > 0 ? Args.MaxGradNorm : double.PositiveInfinity);
        }
        if (!double.IsFinite(gradNorm)) throw Diverged("gradient norm", gradNorm, learningRate);
        _optimizer.Step(learningRate);
        _optimizer.ZeroGrad();
        return (loss, gradNorm);
    }

    private AdamW CreateOptimizer() =>
        new(Model.named_parameters().Select(p => (p.name, p.parameter)), Args.WeightDecay, Args.AdamBeta1, Args.AdamBeta2, Args.AdamEpsilon);

    private TrainingDivergedException Diverged(string what, double value, double learningRate)
    {
        var last = LatestCheckpoint(Args.OutputDir);
        return new TrainingDivergedException(
            $"The {what} became {value.ToString(CultureInfo.InvariantCulture)} at step {State.GlobalStep + 1} (epoch {State.Epoch:F2}, " +
            $"learning rate {learningRate:G3}); training stopped. Try a lower LearningRate, more WarmupSteps, or MaxGradNorm = 1. " +
            (last is null ? "No checkpoint was saved before this step." : $"The last good checkpoint is {last}."));
    }

    /// <summary>Evaluates and/or saves as the strategies ask; returns true when early stopping says to stop.</summary>
    private bool EvaluateAndSave(bool evaluate, bool save)
    {
        Dictionary<string, double>? metrics = null;
        if (evaluate) metrics = Evaluate();
        var improved = metrics is not null && UpdateBestMetric(metrics);
        if (save) SaveCheckpoint(improved);
        return metrics is not null && Args.EarlyStoppingPatience is { } patience && State.EarlyStoppingPatienceCounter >= patience;
    }

    private bool UpdateBestMetric(Dictionary<string, double> metrics)
    {
        var key = Args.BestMetricKey;
        if (!metrics.TryGetValue(key, out var value))
            throw new ArgumentException($"TrainingArguments: MetricForBestModel '{Args.MetricForBestModel}' is not among the evaluation metrics ({string.Join(", ", metrics.Keys)}).");
        var improved = State.BestMetric is not { } best || (Args.BestMetricGreaterIsBetter ? value > best : value < best);
        if (improved)
        {
            State.BestMetric = value;
            State.EarlyStoppingPatienceCounter = 0;
        }
        else
        {
            State.EarlyStoppingPatienceCounter++;
        }
        return improved;
    }

    /// <summary>Evaluates on <paramref name="dataset"/> (default: the trainer's evaluation dataset) and logs eval_* metrics.</summary>
    public Dictionary<string, double> Evaluate(TextClassificationDataset? dataset = null, string metricKeyPrefix = "eval")
    {
        var output = Predict(dataset ?? EvalDataset ?? throw new InvalidOperationException("No evaluation dataset: pass one to Evaluate."), metricKeyPrefix);
        LastEvaluation = output;
        var metrics = new Dictionary<string, double>(output.Metrics) { ["epoch"] = State.Epoch, ["step"] = State.GlobalStep };
        Log(metrics);
        return metrics;
    }

    /// <summary>Logits, predictions and metrics for every example, in the dataset's order; the model is left as it was.</summary>
    public PredictionOutput Predict(TextClassificationDataset dataset, string metricKeyPrefix = "test")
    {
        dataset.EnsureLabeled();
        CheckLabels(dataset);
        var data = Tokenized(dataset);
        var wasTraining = Model.training;
        Model.eval();
        var clock = Stopwatch.StartNew();
        var numLabels = Model.Config.NumLabels;
        var logits = new float[data.Count][];
        double lossSum = 0;
        // Sorting by length puts similar lengths in a batch (little padding); results are stored by original index.
        var order = Enumerable.Range(0, data.Count).OrderBy(i => data[i].InputIds.Length).ToArray();
        var batches = order.Chunk(Args.PerDeviceEvalBatchSize).ToList();
        try
        {
            using var noGrad = no_grad();
            for (var b = 0; b < batches.Count; b++)
            {
                using var scope = NewDisposeScope();
                var batch = _collator.Collate(batches[b].Select(i => data[i]).ToList(), Device);
                var output = Model.Forward(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds, batch.Labels);
                lossSum += output.Loss!.item<float>() * batch.Size;
                var values = output.Logits.to(ScalarType.Float32).cpu().data<float>().ToArray();
                for (var row = 0; row < batches[b].Length; row++)
                    logits[batches[b][row]] = values.AsSpan(row * numLabels, numLabels).ToArray();
                EvaluationProgressed?.Invoke(new EvaluationProgress(metricKeyPrefix, b + 1, batches.Count));
            }
        }
        finally
        {
            if (wasTraining) Model.train();
        }
        clock.Stop();
        var predictions = logits.Select(l => Array.IndexOf(l, l.Max())).ToArray();
        var labels = data.Select(e => e.Label).ToArray();
        var classification = ClassificationMetrics.Compute(labels, predictions, numLabels);
        var seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        var metrics = new Dictionary<string, double>
        {
            [$"{metricKeyPrefix}_loss"] = lossSum / data.Count,
            [$"{metricKeyPrefix}_accuracy"] = classification.Accuracy,
            [$"{metricKeyPrefix}_f1"] = classification.F1,
            [$"{metricKeyPrefix}_precision"] = classification.Precision,
            [$"{metricKeyPrefix}_recall"] = classification.Recall,
            [$"{metricKeyPrefix}_runtime"] = Math.Round(seconds, 4),
            [$"{metricKeyPrefix}_samples_per_second"] = Math.Round(data.Count / seconds, 3),
            [$"{metricKeyPrefix}_steps_per_second"] = Math.Round(batches.Count / seconds, 3),
        };
        return new PredictionOutput(logits, predictions, labels, classification, metrics);
    }

    /// <summary>Saves the model and tokenizer (SavePretrained layout) to <paramref name="directory"/> (default OutputDir).</summary>
    public void SaveModel(string? directory = null)
    {
        directory ??= Args.OutputDir;
        Model.SavePretrained(directory);
        Tokenizer.SavePretrained(directory);
    }

    /// <summary>
    /// Writes metrics.json (the given final metrics), log_history.json (every log entry) and, after an evaluation,
    /// confusion_matrix.json (rows: true label, columns: predicted) to OutputDir.
    /// </summary>
    public void SaveMetrics(IReadOnlyDictionary<string, double> metrics)
    {
        var options = new JsonSerializerOptions { WriteIndented = true };
        AtomicFile.WriteAllText(Path.Combine(Args.OutputDir, "metrics.json"), JsonSerializer.Serialize(metrics, options) + "\n");
        AtomicFile.WriteAllText(Path.Combine(Args.OutputDir, "log_history.json"), TrainerState.LogHistoryJson(State.LogHistory).ToJsonString(options) + "\n");
        if (LastEvaluation is { } evaluation)
            AtomicFile.WriteAllText(Path.Combine(Args.OutputDir, "confusion_matrix.json"), JsonSerializer.Serialize(new
            {
                labels = Enumerable.Range(0, Model.Config.NumLabels).Select(i => Model.Config.Id2Label[i]).ToArray(),
                matrix = evaluation.Classification.ConfusionMatrix.ToArray(),
            }, options) + "\n");
    }

    private void Log(Dictionary<string, double> entry)
    {
        State.LogHistory.Add(entry);
        Logged?.Invoke(entry);
    }

    private TokenizedDataset Tokenized(TextClassificationDataset dataset)
    {
        if (!_tokenized.TryGetValue(dataset, out var tokenized))
        {
            var progress = new SynchronousProgress<int>(done => TokenizationProgressed?.Invoke(done, dataset.Count));
            _tokenized[dataset] = tokenized = TokenizedDataset.Tokenize(dataset, Tokenizer, Math.Min(Args.MaxLength, Model.Config.MaxPositionEmbeddings), progress);
        }
        return tokenized;
    }

    private void CheckLabels(TextClassificationDataset dataset)
    {
        var bad = dataset.LabelCounts().Keys.Where(l => l >= Model.Config.NumLabels).ToList();
        if (bad.Count > 0)
            throw new InvalidDataException(
                $"{dataset.Source}: labels [{string.Join(", ", bad)}] are outside the model's {Model.Config.NumLabels} classes; load the model with numLabels: {dataset.NumLabels}.");
    }

    // ---- checkpoints ----

    private void SaveCheckpoint(bool isBest)
    {
        var name = $"checkpoint-{State.GlobalStep}";
        var final = Path.GetFullPath(Path.Combine(Args.OutputDir, name));
        if (isBest) State.BestModelCheckpoint = final;
        Directory.CreateDirectory(Args.OutputDir);
        // Everything is written into a hidden folder first and renamed in one move, so a crash mid-save never
        // leaves a checkpoint-N folder that looks complete, and never touches the previous good checkpoint.
        var temp = Path.Combine(Args.OutputDir, $".{name}.tmp-{Guid.NewGuid():N}");
        try
        {
            SaveModel(temp);
            _optimizer!.Save(Path.Combine(temp, OptimizerFile));
            using (var rng = get_rng_state())
                SafetensorsWriter.Save(Path.Combine(temp, RngFile), [KeyValuePair.Create("cpu", rng)]);
            AtomicFile.WriteAllText(Path.Combine(temp, ArgsFile), Args.ToJson() + "\n");
            State.Save(Path.Combine(temp, TrainerState.FileName));
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
            Directory.Move(temp, final);
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
        CheckpointSaved?.Invoke(final);
        RotateCheckpoints();
    }

    private void RotateCheckpoints()
    {
        if (Args.SaveTotalLimit is not { } limit) return;
        var checkpoints = ListCheckpoints(Args.OutputDir);
        var best = State.BestModelCheckpoint;
        // The best checkpoint is never deleted; with a limit of 1 the latest is kept beside it.
        var keep = limit == 1 && best is not null && checkpoints.Count > 0 && checkpoints[^1] != best ? 2 : limit;
        foreach (var old in checkpoints.Where(c => c != best).Take(Math.Max(0, checkpoints.Count - keep)))
            Directory.Delete(old, recursive: true);
    }

    /// <summary>checkpoint-N folders of <paramref name="outputDir"/>, oldest (smallest N) first.</summary>
    public static IReadOnlyList<string> ListCheckpoints(string outputDir) =>
        !Directory.Exists(outputDir) ? [] :
        Directory.GetDirectories(outputDir, "checkpoint-*")
            .Select(d => (Dir: Path.GetFullPath(d), Ok: int.TryParse(Path.GetFileName(d)["checkpoint-".Length..], out var step), Step: step))
            .Where(c => c.Ok).OrderBy(c => c.Step).Select(c => c.Dir).ToList();

    public static string? LatestCheckpoint(string outputDir) => ListCheckpoints(outputDir) is { Count: > 0 } list ? list[^1] : null;

    private void LoadCheckpoint(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"Checkpoint folder '{directory}' does not exist.");
        var state = TrainerState.Load(Path.Combine(directory, TrainerState.FileName));
        PretrainedLoader.LoadInto(Model, directory);
        _optimizer!.Load(Path.Combine(directory, OptimizerFile));
        var rngPath = Path.Combine(directory, RngFile);
        if (File.Exists(rngPath))
        {
            using var file = SafetensorsFile.Open(rngPath);
            using var rng = file.ReadTensor("cpu");
            set_rng_state(rng);
        }
        if (state.MaxSteps != State.MaxSteps)
            throw new ArgumentException(
                $"{directory}: the checkpoint was made for {state.MaxSteps} steps but these arguments give {State.MaxSteps}; resume with the same epochs, batch size and dataset.");
        foreach (var entry in state.LogHistory) State.LogHistory.Add(entry);
        State.GlobalStep = state.GlobalStep;
        State.Epoch = state.Epoch;
        State.BestMetric = state.BestMetric;
        State.BestModelCheckpoint = state.BestModelCheckpoint;
        State.EarlyStoppingPatienceCounter = state.EarlyStoppingPatienceCounter;
    }

    public void Dispose() => _optimizer?.Dispose();
}
