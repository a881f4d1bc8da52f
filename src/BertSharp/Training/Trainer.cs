using System.Diagnostics;
using System.Globalization;
using BertSharp.Data;
using BertSharp.Evaluation;
using BertSharp.Modeling;
using BertSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace BertSharp.Training;

/// <summary>
/// Hugging Face's <c>Trainer</c> for sequence classification, over datasets tokenised beforehand
/// (<see cref="TextClassificationDataset.Tokenize"/>): AdamW with a warm-up schedule, gradient clipping and
/// accumulation, evaluation and checkpoints on the strategies of <see cref="TrainingArguments"/>, and a log history
/// with transformers' key names. The loop is <see cref="Train"/>; one optimizer step is <see cref="TrainingStep"/>.
/// </summary>
public sealed class Trainer : IDisposable
{
    private AdamW? _optimizer;
    private GradScaler? _scaler;

    /// <param name="tokenizer">Saved beside the model by <see cref="SaveModel"/> and in checkpoints; its [PAD] id pads batches.</param>
    /// <param name="dataCollator">Pads batches; default: <see cref="DataCollatorWithPadding"/> with the tokenizer's (else the model's) [PAD] id.</param>
    public Trainer(SequenceClassificationModel model, TrainingArguments args, TokenizedDataset? trainDataset = null,
        TokenizedDataset? evalDataset = null, BertTokenizer? tokenizer = null, DataCollatorWithPadding? dataCollator = null)
    {
        args.Validate();
        if (args.EvalStrategy != IntervalStrategy.No && evalDataset is null)
            throw new ArgumentException($"TrainingArguments: EvalStrategy is {args.EvalStrategy} but no evaluation dataset was given.");
        // Everything that can be checked about the data is checked now, before any step runs.
        if (tokenizer is not null) TokenizerCompatibility.Ensure(tokenizer, model.Config, model.LoadingInfo?.Source ?? "the model");
        if (trainDataset is not null)
        {
            trainDataset.EnsureLabeled();
            ModelInputChecks.EnsureFits(model, trainDataset);
            ModelInputChecks.EnsureSeveralClasses(model, trainDataset);
        }
        if (evalDataset is not null)
        {
            evalDataset.EnsureLabeled();
            ModelInputChecks.EnsureFits(model, evalDataset);
        }
        Model = model;
        Args = args;
        TrainDataset = trainDataset;
        EvalDataset = evalDataset;
        Tokenizer = tokenizer;
        DataCollator = dataCollator ?? new DataCollatorWithPadding(tokenizer?.PadTokenId ?? model.Config.PadTokenId);
        if (args.NumThreads is { } threads) set_num_threads(threads);
        Device = TrainingDevice.Prepare(model, args);
    }

    public SequenceClassificationModel Model { get; }
    public TrainingArguments Args { get; }
    public TokenizedDataset? TrainDataset { get; }
    public TokenizedDataset? EvalDataset { get; }
    public BertTokenizer? Tokenizer { get; }
    public DataCollatorWithPadding DataCollator { get; }
    public Device Device { get; }
    public TrainerState State { get; private set; } = new();

    /// <summary>The outputs of the latest <see cref="Evaluate"/>, with its confusion matrix.</summary>
    public PredictionOutput? LastEvaluation { get; private set; }

    /// <summary>Every entry added to the log history: training logs, evaluations, the final summary.</summary>
    public event Action<IReadOnlyDictionary<string, double>>? Logged;
    public event Action<StepProgress>? StepCompleted;
    public event Action<EvaluationProgress>? EvaluationProgressed;
    public event Action<string>? CheckpointSaved;

    /// <summary>
    /// Things worth a user's attention that do not stop training (e.g. arguments changed on resume). With no handler
    /// they go to standard error, as transformers' logger warnings do.
    /// </summary>
    public event Action<string>? Warning;

    /// <summary>Trains from scratch, or continues exactly where <paramref name="resumeFromCheckpoint"/> stopped.</summary>
    public TrainOutput Train(string? resumeFromCheckpoint = null, CancellationToken cancellationToken = default)
    {
        var train = TrainDataset ?? throw new InvalidOperationException("Trainer.Train needs a training dataset.");
        Checkpoint.PrepareOutputDir(Args.OutputDir, resuming: resumeFromCheckpoint is not null, Args.OverwriteOutputDir);
        var inputs = RunInputs.Of(Model, train);
        manual_seed(Args.Seed);
        if (Device.type == TorchSharp.DeviceType.CUDA) cuda.manual_seed_all(Args.Seed);

        var updatesPerEpoch = Args.UpdateStepsPerEpoch(train.Count);
        var maxSteps = Args.TotalOptimizerSteps(train.Count);
        var numEpochs = (int)Math.Ceiling((double)maxSteps / updatesPerEpoch);
        var schedule = LearningRateSchedule.FromArguments(Args, maxSteps);
        _optimizer?.Dispose();
        _optimizer = CreateOptimizer();
        _scaler = CreateScaler();
        State = TrainerState.Start(Args, maxSteps, numEpochs);
        if (resumeFromCheckpoint is not null) Resume(resumeFromCheckpoint, inputs);
        var (startEpoch, updatesToSkip) = (State.GlobalStep / updatesPerEpoch, State.GlobalStep % updatesPerEpoch);

        Model.train();
        // Evaluations between epochs keep what they free: the next steps reuse it (all of it is given back at the end).
        using var holdFreedMemory = NativeAllocator.HoldFreedMemory();
        var clock = Stopwatch.StartNew();
        using var losses = new LossAccumulator(Device, State.GlobalStep, readEveryStep: Device.type != TorchSharp.DeviceType.CUDA);
        var (firstStep, samplesSeen) = (State.GlobalStep, 0L);
        var stop = State.GlobalStep >= maxSteps;
        for (var epoch = startEpoch; epoch < numEpochs && !stop; epoch++)
        {
            var batches = BatchSampler.TrainingBatches(train.Lengths, Args.PerDeviceTrainBatchSize, Args.Seed, epoch, Args.GroupByLength);
            var updates = batches.Chunk(Args.GradientAccumulationSteps).ToList();
            for (var u = epoch == startEpoch ? updatesToSkip : 0; u < updates.Count && !stop; u++)
            {
                cancellationToken.ThrowIfCancellationRequested();

                // forward, backward, clip and step the optimizer at this step's learning rate; the loss and gradient
                // norm stay on the device until they are logged (see LossAccumulator)
                var learningRate = schedule.LearningRateAt(State.GlobalStep - State.SkippedSteps);
                var microBatches = updates[u].Select(b => (IReadOnlyList<TokenizedExample>)b.Select(i => train[i]).ToList()).ToList();
                var step = RunStep(microBatches, learningRate);
                State.GlobalStep++;
                if (!step.Stepped) State.SkippedSteps++;
                State.Epoch = epoch + (double)(u + 1) / updates.Count;
                samplesSeen += updates[u].Sum(b => b.Length);
                var (loss, gradNorm) = losses.Add(step.Loss, step.GradNorm, step.Stepped);
                if (losses.ReadEveryStep) EnsureFinite(losses, learningRate);
                StepCompleted?.Invoke(new StepProgress(State.GlobalStep, maxSteps, State.Epoch, loss, gradNorm, learningRate));

                // log the mean loss since the last log, the gradient norm and the learning rate
                if (State.GlobalStep % Args.LoggingSteps == 0 || (Args.LoggingFirstStep && State.GlobalStep == 1) || State.GlobalStep == maxSteps)
                {
                    EnsureFinite(losses, learningRate);
                    var (meanLoss, lastGradNorm) = losses.TakeSinceLog();
                    var entry = new Dictionary<string, double> { [LogKeys.Loss] = meanLoss };
                    // A step fp16 skipped has an overflowed norm (inf or NaN), which JSON cannot hold: it is left out
                    // (transformers writes a non-standard Infinity into trainer_state.json instead).
                    if (double.IsFinite(lastGradNorm)) entry[LogKeys.GradNorm] = lastGradNorm;
                    // Like transformers, the rate the scheduler has moved on to after this step.
                    entry[LogKeys.LearningRate] = schedule.LearningRateAt(State.GlobalStep - State.SkippedSteps);
                    entry[LogKeys.Epoch] = State.Epoch;
                    entry[LogKeys.Step] = State.GlobalStep;
                    Log(entry);
                }

                // evaluate and save on the "steps" strategies (never a checkpoint of a diverged run)
                stop = State.GlobalStep >= maxSteps;
                var evaluate = Args.EvalStrategy == IntervalStrategy.Steps && State.GlobalStep % State.EvalSteps!.Value == 0;
                var save = Args.SaveStrategy == IntervalStrategy.Steps && State.GlobalStep % Args.SaveSteps == 0;
                if (evaluate || save) EnsureFinite(losses, learningRate);
                stop |= EvaluateAndSave(evaluate, save, inputs);
            }
            // evaluate and save on the "epoch" strategies
            var epochEnd = (Args.EvalStrategy == IntervalStrategy.Epoch, Args.SaveStrategy == IntervalStrategy.Epoch);
            if (epochEnd.Item1 || epochEnd.Item2) EnsureFinite(losses, schedule.LearningRateAt(State.GlobalStep - State.SkippedSteps));
            stop |= EvaluateAndSave(epochEnd.Item1, epochEnd.Item2, inputs);
        }
        // reading the run's loss back waits for the device to finish, so the clock stops after it
        EnsureFinite(losses, schedule.LearningRateAt(State.GlobalStep - State.SkippedSteps));
        var runLoss = losses.RunTotal();
        clock.Stop();
        // The CPU heap kept every step's freed blocks for the next step; a notebook kernel or server that trained goes on
        // without them (they would otherwise stay resident at the training peak for the life of the process).
        if (Device.type == TorchSharp.DeviceType.CPU) NativeAllocator.ReleaseFreeMemory();

        // load the best model, and log the run's summary
        if (Args.LoadBestModelAtEnd && State.BestModelCheckpoint is { } best && Directory.Exists(best))
            PretrainedLoader.LoadInto(Model, best);
        var runSteps = State.GlobalStep - firstStep;
        if (runSteps == 0) return Finished();
        var seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        var summary = new Dictionary<string, double>
        {
            [LogKeys.TrainRuntime] = Math.Round(seconds, 4),
            [LogKeys.TrainSamplesPerSecond] = Math.Round(samplesSeen / seconds, 3),
            [LogKeys.TrainStepsPerSecond] = Math.Round(runSteps / seconds, 3),
            [LogKeys.TrainLoss] = runLoss / runSteps,
            [LogKeys.Epoch] = State.Epoch,
            [LogKeys.Step] = State.GlobalStep,
        };
        Log(summary);
        return new TrainOutput(State.GlobalStep, summary[LogKeys.TrainLoss], summary, runSteps);
    }

    /// <summary>
    /// One optimizer step over one or more micro-batches (gradient accumulation): forward, loss, backward for each,
    /// then clip the summed gradients, update the weights and clear the gradients. Returns the mean loss and the
    /// gradient norm before clipping, read back from the device (<see cref="Train"/> reads them only when it logs).
    /// With <see cref="TrainingArguments.Fp16"/> a step whose gradients overflow is skipped, as torch's GradScaler does.
    /// </summary>
    public (double Loss, double GradNorm) TrainingStep(IReadOnlyList<IReadOnlyList<TokenizedExample>> microBatches, double learningRate)
    {
        var (loss, norm, stepped) = RunStep(microBatches, learningRate);
        using (loss)
        using (norm)
        {
            var (lossValue, normValue) = (loss.item<float>(), norm.item<float>());
            if (!float.IsFinite(lossValue)) throw Diverged("loss", lossValue, learningRate, State.GlobalStep + 1);
            if (stepped && !float.IsFinite(normValue)) throw Diverged("gradient norm", normValue, learningRate, State.GlobalStep + 1);
            return (lossValue, normValue);
        }
    }

    /// <summary>One optimizer step, leaving its mean loss and gradient norm as 0-d float32 tensors on the device.</summary>
    private (Tensor Loss, Tensor GradNorm, bool Stepped) RunStep(IReadOnlyList<IReadOnlyList<TokenizedExample>> microBatches, double learningRate)
    {
        _optimizer ??= CreateOptimizer();
        _scaler ??= CreateScaler();
        using var scope = NewDisposeScope();
        var loss = zeros([], ScalarType.Float32, Device);
        foreach (var examples in microBatches)
        {
            using var microScope = NewDisposeScope();
            var batch = DataCollator.Collate(examples, Device);
            var output = Model.ForwardWithLoss(batch.InputIds, batch.ModelAttentionMask, null, batch.Labels);
            var scaled = output.Loss! / microBatches.Count;
            _scaler.Scale(scaled).backward();
            loss.add_(scaled.detach().to(ScalarType.Float32));
        }
        // Gradients are unscaled before clipping, so the norm and the clipping threshold are the true ones; max_norm =
        // +inf computes the norm without rescaling anything.
        _scaler.Unscale(_optimizer);
        var gradNorm = _optimizer.ClipGradNorm(Args.MaxGradNorm > 0 ? Args.MaxGradNorm : double.PositiveInfinity);
        var stepped = _scaler.Step(_optimizer, learningRate);
        _scaler.Update();
        _optimizer.ZeroGrad();
        // A scale below 1 means the gradients overflow float16 even unscaled: that is divergence, not calibration.
        if (_scaler.Enabled && _scaler.GetScale() < 1)
            throw Diverged("float16 loss scale", _scaler.GetScale(), learningRate, State.GlobalStep + 1);
        return (loss.MoveToOuterDisposeScope(), gradNorm.MoveToOuterDisposeScope(), stepped);
    }

    /// <summary>Reads the pending losses back (a host synchronisation) and stops a run whose loss or gradient norm is no longer finite.</summary>
    private void EnsureFinite(LossAccumulator losses, double learningRate)
    {
        if (losses.CheckPending() is { } bad)
            throw Diverged(bad.What, bad.Value, learningRate, bad.FirstStep, bad.LastStep);
    }

    /// <summary>Evaluates on <paramref name="dataset"/> (default: the trainer's evaluation dataset) and logs eval_* metrics.</summary>
    public Dictionary<string, double> Evaluate(TokenizedDataset? dataset = null, string metricKeyPrefix = LogKeys.EvalPrefix)
    {
        var output = Predict(dataset ?? EvalDataset ?? throw new InvalidOperationException("No evaluation dataset: pass one to Evaluate."), metricKeyPrefix);
        LastEvaluation = output;
        var metrics = new Dictionary<string, double>(output.Metrics) { [LogKeys.Epoch] = State.Epoch, [LogKeys.Step] = State.GlobalStep };
        Log(metrics);
        return metrics;
    }

    /// <summary>Logits, predictions and metrics for every example, in the dataset's order; the model is left as it was.</summary>
    public PredictionOutput Predict(TokenizedDataset dataset, string metricKeyPrefix = "test") =>
        Evaluator.Evaluate(Model, dataset, DataCollator, Args.PerDeviceEvalBatchSize, Device, metricKeyPrefix,
            (done, total) => EvaluationProgressed?.Invoke(new EvaluationProgress(metricKeyPrefix, done, total)));

    /// <summary>Saves the model and tokenizer (SavePretrained layout) to <paramref name="directory"/> (default OutputDir).</summary>
    public void SaveModel(string? directory = null)
    {
        directory ??= Args.OutputDir;
        Model.SavePretrained(directory);
        Tokenizer?.SavePretrained(directory);
    }

    /// <summary>
    /// Writes metrics.json (the given final metrics), log_history.json (every log entry) and, after an evaluation,
    /// confusion_matrix.json to OutputDir (see <see cref="RunFiles"/>).
    /// </summary>
    public void SaveMetrics(IReadOnlyDictionary<string, double> metrics)
    {
        RunFiles.SaveMetrics(Args.OutputDir, metrics);
        RunFiles.SaveLogHistory(Args.OutputDir, State.LogHistory);
        if (LastEvaluation is { } evaluation)
            RunFiles.SaveConfusionMatrix(Args.OutputDir, Model.Config.Id2Label.Values.ToList(), evaluation.Classification.ConfusionMatrix);
    }

    /// <summary>
    /// Tests: builds the loss scaler in place of the one <see cref="TrainingArguments.Fp16"/> implies, so the skipping,
    /// schedule and checkpoint logic of loss scaling can run on a CPU (float16 itself needs a CUDA GPU).
    /// </summary>
    internal Func<GradScaler>? ScalerFactory { get; set; }

    private GradScaler CreateScaler() => ScalerFactory?.Invoke() ?? new(enabled: Args.Fp16);

    private AdamW CreateOptimizer() =>
        new(Model.named_parameters().Select(p => (p.name, p.parameter)), Args.WeightDecay, Args.AdamBeta1, Args.AdamBeta2, Args.AdamEpsilon,
            WeightDecayParameters.Names(Model));

    /// <param name="lastStep">Where the value was only read back at a logging step, the last step it may have come from.</param>
    private TrainingDivergedException Diverged(string what, double value, double learningRate, int step, int? lastStep = null)
    {
        var last = Checkpoint.Latest(Args.OutputDir);
        var where = lastStep is { } end && end > step ? $"between steps {step} and {end}" : $"at step {step}";
        return new TrainingDivergedException(
            $"The {what} became {value.ToString(CultureInfo.InvariantCulture)} {where} (epoch {State.Epoch:F2}, " +
            $"learning rate {learningRate:G3}); training stopped. Try a lower LearningRate, more WarmupSteps, or MaxGradNorm = 1. " +
            (last is null ? "No checkpoint was saved before this step." : $"The last good checkpoint is {last}."));
    }

    /// <summary>Evaluates and/or saves as the strategies ask; returns true when early stopping says to stop.</summary>
    private bool EvaluateAndSave(bool evaluate, bool save, RunInputs inputs)
    {
        var metrics = evaluate ? Evaluate() : null;
        var improved = metrics is not null && UpdateBestMetric(metrics);
        if (save) SaveCheckpoint(improved, inputs);
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

    private void SaveCheckpoint(bool isBest, RunInputs inputs)
    {
        // The saved state must already name this checkpoint as the best one.
        if (isBest) State.BestModelCheckpoint = Checkpoint.PathFor(Args.OutputDir, State.GlobalStep);
        var checkpoint = Checkpoint.Save(Args.OutputDir, State, SaveModel, _optimizer!, Args, inputs, _scaler);
        CheckpointSaved?.Invoke(checkpoint.Directory);
        Checkpoint.Rotate(Args.OutputDir, Args.SaveTotalLimit, State.BestModelCheckpoint);
    }

    private void Resume(string directory, RunInputs inputs)
    {
        var checkpoint = Checkpoint.Open(directory);
        var saved = checkpoint.LoadState();
        var notes = ResumeCheck.EnsureResumable(checkpoint, Args, inputs);
        if (saved.MaxSteps != State.MaxSteps)
            throw new ArgumentException(
                $"{checkpoint.Directory}: the checkpoint was made for {saved.MaxSteps} steps but these arguments give {State.MaxSteps}; resume with the same epochs, batch size and dataset.");
        foreach (var note in notes) Warn($"Resuming {checkpoint.Directory} with {note}.");
        checkpoint.Restore(Model, _optimizer!, _scaler);
        State.ContinueFrom(saved);
    }

    /// <summary>
    /// A resume from the checkpoint that ended its run trains nothing. Its summary would be all zeros, so none is logged;
    /// the training loss is the step-weighted mean of the losses the run logged, and there is no runtime to report.
    /// </summary>
    private TrainOutput Finished()
    {
        Warn($"The checkpoint at step {State.GlobalStep} already ended its run of {State.MaxSteps} steps: there was nothing left to train.");
        double weighted = 0;
        var (steps, previous) = (0, 0);
        foreach (var entry in State.LogHistory.Where(e => e.ContainsKey(LogKeys.Loss) && e.ContainsKey(LogKeys.Step)))
        {
            var step = (int)entry[LogKeys.Step];
            weighted += entry[LogKeys.Loss] * (step - previous);
            (steps, previous) = (steps + step - previous, step);
        }
        var loss = steps == 0 ? double.NaN : weighted / steps;
        var metrics = new Dictionary<string, double> { [LogKeys.TrainLoss] = loss, [LogKeys.Epoch] = State.Epoch, [LogKeys.Step] = State.GlobalStep };
        return new TrainOutput(State.GlobalStep, loss, metrics, StepsRun: 0);
    }

    private void Warn(string message)
    {
        if (Warning is { } handler) handler(message);
        else Console.Error.WriteLine(message);
    }

    private void Log(Dictionary<string, double> entry)
    {
        State.LogHistory.Add(entry);
        Logged?.Invoke(entry);
    }

    public void Dispose() => _optimizer?.Dispose();
}
