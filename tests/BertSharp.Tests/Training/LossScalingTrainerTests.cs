using BertSharp.Tests.TestSupport;
using BertSharp.Training;
using static TorchSharp.torch;

namespace BertSharp.Tests.Training;

/// <summary>
/// The Trainer's side of fp16 loss scaling: skipped steps, the schedule, the logs and checkpoints. float16 itself needs
/// a CUDA GPU, so these run the same loop in float32 with a scale so large that the first steps' scaled gradients
/// overflow float32 — the situation fp16 training starts in (torch's initial 2^16 overflows float16 the same way).
/// </summary>
public class LossScalingTrainerTests
{
    // float32 tops out at 3.4e38: a loss of ~0.7 scaled by 3e38 still fits, its gradients through the network do not.
    private static GradScaler Overflowing() => new(initScale: 3e38, growthInterval: 3);

    private static TrainingArguments Run(string outputDir) => new()
    {
        OutputDir = outputDir, PerDeviceTrainBatchSize = 8, NumTrainEpochs = 2, LearningRate = 1e-4, WeightDecay = 0.01,
        LoggingSteps = 1, SaveStrategy = IntervalStrategy.Epoch, Device = DeviceChoice.Cpu,
    };

    [Fact]
    public void OverflowingStepsAreSkippedAndDoNotAdvanceTheSchedule()
    {
        using var dir = new TempDirectory();
        using var model = TrainerTests.StandIn();
        using var trainer = new Trainer(model, Run(dir.Path), TrainerTests.Tokens(40), tokenizer: TrainerTests.StandInTokenizer.Value)
        {
            ScalerFactory = Overflowing,
        };
        var norms = new List<double?>();
        trainer.StepCompleted += step => norms.Add(step.GradNorm);
        trainer.Train();

        // A skipped step's gradient norm is the overflow itself; a taken step's is finite (the gradients were unscaled).
        var skipped = norms.Count(n => !double.IsFinite(n!.Value));
        Assert.Equal(10, norms.Count);
        Assert.InRange(skipped, 1, 9);
        Assert.Equal(skipped, trainer.State.SkippedSteps);
        Assert.All(norms.Where(n => double.IsFinite(n!.Value)), n => Assert.InRange(n!.Value, 0, 100));
        var logs = trainer.State.LogHistory.Where(e => e.ContainsKey("loss")).ToList();
        Assert.All(logs, e => Assert.True(double.IsFinite(e["loss"]), $"step {e["step"]}: loss {e["loss"]}"));
        // Linear decay over 10 steps, counting taken steps only: after the last step the rate is where the schedule
        // stands after 10 - skipped steps, not 0. (Same arithmetic as the schedule: exact but for an ulp.)
        Assert.Equal(1e-4 * skipped / 10, logs[^1]["learning_rate"], 1e-4 * 1e-12);
        Assert.True(File.Exists(Path.Combine(dir.Path, "checkpoint-5", "scaler.json")));
    }

    [Fact]
    public void ResumingRestoresTheScaleAndTheSkippedSteps()
    {
        using var straightDir = new TempDirectory();
        using var resumedDir = new TempDirectory();
        var data = TrainerTests.Tokens(40);
        Dictionary<string, Tensor> straight;
        int straightSkipped;
        using (var model = TrainerTests.StandIn())
        using (var trainer = new Trainer(model, Run(straightDir.Path), data, tokenizer: TrainerTests.StandInTokenizer.Value) { ScalerFactory = Overflowing })
        {
            trainer.Train();
            straight = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
            straightSkipped = trainer.State.SkippedSteps;
        }

        using (var model = TrainerTests.StandIn())
        using (var trainer = new Trainer(model, Run(resumedDir.Path), data, tokenizer: TrainerTests.StandInTokenizer.Value) { ScalerFactory = Overflowing })
        {
            using var cancel = new CancellationTokenSource();
            trainer.CheckpointSaved += _ => cancel.Cancel();
            Assert.ThrowsAny<OperationCanceledException>(() => trainer.Train(cancellationToken: cancel.Token));
        }
        // A fresh scaler starts at 3e38 again and would skip steps the uninterrupted run took: only the saved scale
        // (and the saved count of skipped steps, which the schedule depends on) make the two runs the same.
        using var resumed = TrainerTests.StandIn(seed: 999);
        using var resumedTrainer = new Trainer(resumed, Run(resumedDir.Path), data, tokenizer: TrainerTests.StandInTokenizer.Value) { ScalerFactory = Overflowing };
        resumedTrainer.Train(resumeFromCheckpoint: Path.Combine(resumedDir.Path, "checkpoint-5"));
        Assert.Equal(straightSkipped, resumedTrainer.State.SkippedSteps);
        foreach (var (key, value) in resumed.state_dict())
            Assert.True(TensorAssert.BitEqual(straight[key], value), $"{key} differs");
    }
}

/// <summary>The device-side loss sums: what is read back, when, and which steps a bad value is pinned to.</summary>
public class LossAccumulatorTests
{
    private static Tensor Scalar(float value) => tensor(value);

    [Fact]
    public void ReadingEveryStepReturnsTheValuesAndPinsABadLossToItsStep()
    {
        using var losses = new LossAccumulator(CPU, startStep: 4, readEveryStep: true);
        Assert.Equal((0.5, 2.0), ((double, double))ToPair(losses.Add(Scalar(0.5f), Scalar(2f), stepped: true)));
        Assert.Null(losses.CheckPending());
        losses.Add(Scalar(float.NaN), Scalar(1f), stepped: true);
        var bad = losses.CheckPending();
        Assert.Equal(("loss", 6, 6), (bad!.Value.What, bad.Value.FirstStep, bad.Value.LastStep));
        Assert.True(double.IsNaN(bad.Value.Value));
    }

    [Fact]
    public void WithoutPerStepReadsNothingComesBackUntilAskedAndABadValueIsPinnedToTheRangeSinceTheLastCheck()
    {
        using var losses = new LossAccumulator(CPU, startStep: 0, readEveryStep: false);
        Assert.Equal((null, null), losses.Add(Scalar(0.25f), Scalar(1f), stepped: true));
        losses.Add(Scalar(0.75f), Scalar(3f), stepped: true);
        Assert.Null(losses.CheckPending());
        var (mean, norm) = losses.TakeSinceLog();
        Assert.Equal(0.5, mean, 1e-12); // 0.25 and 0.75 are exact in float32 and float64
        Assert.Equal(3.0, norm, 1e-12);

        losses.Add(Scalar(0.5f), Scalar(float.PositiveInfinity), stepped: false); // a skipped fp16 step: its norm is the overflow
        Assert.Null(losses.CheckPending());
        losses.Add(Scalar(0.5f), Scalar(1f), stepped: true);
        losses.Add(Scalar(0.5f), Scalar(float.PositiveInfinity), stepped: true);
        losses.Add(Scalar(0.5f), Scalar(1f), stepped: true);
        var bad = losses.CheckPending();
        Assert.Equal(("gradient norm", 4, 6), (bad!.Value.What, bad.Value.FirstStep, bad.Value.LastStep));
        Assert.Equal(0.25 + 0.75 + 4 * 0.5, losses.RunTotal(), 1e-12);
    }

    private static (double, double) ToPair((double? Loss, double? GradNorm) values) => (values.Loss!.Value, values.GradNorm!.Value);
}
