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
        Device = TrainingDevice.Prepare(model, args.Device, args.Bf16);
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
        State = TrainerState.Start(Args, maxSteps, numEpochs);
        if (resumeFromCheckpoint is not null) Resume(resumeFromCheckpoint, inputs);
        var (startEpoch, updatesToSkip) = (State.GlobalStep / updatesPerEpoch, State.GlobalStep % updatesPerEpoch);

        Model.train();
        var clock = Stopwatch.StartNew();
        double lossSinceLog = 0, runLoss = 0;
        var (lastLoggedStep, firstStep, samplesSeen) = (State.GlobalStep, State.GlobalStep, 0L);
        var stop = State.GlobalStep >= maxSteps;
        for (var epoch = startEpoch; epoch < numEpochs && !stop; epoch++)
        {
            var batches = BatchSampler.TrainingBatches(train.Lengths, Args.PerDeviceTrainBatchSize, Args.Seed, epoch, Args.GroupByLength);
            var updates = batches.Chunk(Args.GradientAccumulationSteps).ToList();
            for (var u = epoch == startEpoch ? updatesToSkip : 0; u < updates.Count && !stop; u++)
            {
                cancellationToken.ThrowIfCancellationRequested();

                // forward, backward, clip and step the optimizer at this step's learning rate
                var learningRate = schedule.LearningRateAt(State.GlobalStep);
                var microBatches = updates[u].Select(b => (IReadOnlyList<TokenizedExample>)b.Select(i => train[i]).ToList()).ToList();
                var (loss, gradNorm) = TrainingStep(microBatches, learningRate);
                State.GlobalStep++;
                State.Epoch = epoch + (double)(u + 1) / updates.Count;
                (lossSinceLog, runLoss) = (lossSinceLog + loss, runLoss + loss);
                samplesSeen += updates[u].Sum(b => b.Length);
                StepCompleted?.Invoke(new StepProgress(State.GlobalStep, maxSteps, State.Epoch, loss, gradNorm, learningRate));

                // log the mean loss since the last log entry
                if (State.GlobalStep % Args.LoggingSteps == 0 || (Args.LoggingFirstStep && State.GlobalStep == 1) || State.GlobalStep == maxSteps)
                {
                    Log(new Dictionary<string, double>
                    {
                        [LogKeys.Loss] = lossSinceLog / (State.GlobalStep - lastLoggedStep),
                        [LogKeys.GradNorm] = gradNorm,
                        // Like transformers, the rate the scheduler has moved on to after this step.
                        [LogKeys.LearningRate] = schedule.LearningRateAt(State.GlobalStep),
                        [LogKeys.Epoch] = State.Epoch,
                        [LogKeys.Step] = State.GlobalStep,
                    });
                    (lossSinceLog, lastLoggedStep) = (0, State.GlobalStep);
                }

                // evaluate and save on the "steps" strategies
                stop = State.GlobalStep >= maxSteps;
                var evaluate = Args.EvalStrategy == IntervalStrategy.Steps && State.GlobalStep % State.EvalSteps!.Value == 0;
                var save = Args.SaveStrategy == IntervalStrategy.Steps && State.GlobalStep % Args.SaveSteps == 0;
                stop |= EvaluateAndSave(evaluate, save, inputs);
            }
            // evaluate and save on the "epoch" strategies
            stop |= EvaluateAndSave(Args.EvalStrategy == IntervalStrategy.Epoch, Args.SaveStrategy == IntervalStrategy.Epoch, inputs);
        }
        clock.Stop();

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
            [LogKeys.TrainLoss] = runSteps == 0 ? 0 : runLoss / runSteps,
            [LogKeys.Epoch] = State.Epoch,
            [LogKeys.Step] = State.GlobalStep,
        };
        Log(summary);
        return new TrainOutput(State.GlobalStep, summary[LogKeys.TrainLoss], summary, runSteps);
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
            var batch = DataCollator.Collate(examples, Device);
            var output = Model.ForwardWithLoss(batch.InputIds, batch.AttentionMask, null, batch.Labels);
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

    private AdamW CreateOptimizer() =>
        new(Model.named_parameters().Select(p => (p.name, p.parameter)), Args.WeightDecay, Args.AdamBeta1, Args.AdamBeta2, Args.AdamEpsilon,
            WeightDecayParameters.Names(Model));

    private TrainingDivergedException Diverged(string what, double value, double learningRate)
    {
        var last = Checkpoint.Latest(Args.OutputDir);
        return new TrainingDivergedException(
            $"The {what} became {value.ToString(CultureInfo.InvariantCulture)} at step {State.GlobalStep + 1} (epoch {State.Epoch:F2}, " +
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
        var checkpoint = Checkpoint.Save(Args.OutputDir, State, SaveModel, _optimizer!, Args, inputs);
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
        checkpoint.Restore(Model, _optimizer!);
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
