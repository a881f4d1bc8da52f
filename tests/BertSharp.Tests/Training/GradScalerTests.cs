using BertSharp.Modeling;
using BertSharp.Safetensors;
using BertSharp.Tests.TestSupport;
using BertSharp.Training;
using static TorchSharp.torch;

namespace BertSharp.Tests.Training;

/// <summary>
/// torch.amp.GradScaler's rules, checked on the CPU: the scale sequence (×0.5 on inf/NaN, ×2 after GrowthInterval
/// clean steps in a row, counting reset by an overflow), skipped steps that leave weights and optimizer untouched,
/// unscaled gradients equal to those of the unscaled loss, and state that survives a checkpoint.
/// </summary>
public class GradScalerTests
{
    private static BertForSequenceClassification TinyModel() =>
        BertForSequenceClassification.FromPretrained(SharedFiles.TinyClsDir, options: new PretrainedOptions
        {
            Log = _ => { },
            ConfigOverrides = c => (((BertConfig)c).HiddenDropoutProb, ((BertConfig)c).AttentionProbsDropoutProb) = (0.0, 0.0),
        });

    private static Dictionary<string, Tensor> Batch()
    {
        using var file = SafetensorsFile.Open(Path.Combine(SharedFiles.TinyClsDir, "reference.safetensors"));
        return new[] { "input_ids", "attention_mask", "token_type_ids", "train_labels" }.ToDictionary(n => n, file.ReadTensor);
    }

    private static Tensor Loss(BertForSequenceClassification model, Dictionary<string, Tensor> batch) =>
        model.ForwardWithLoss(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"], batch["train_labels"]).Loss!;

    private static AdamW Optimizer(BertForSequenceClassification model) =>
        new(model.named_parameters().Select(p => (p.name, p.parameter)), 0.01);

    /// <summary>One step of clean or poisoned gradients through Unscale + Update; returns the scale after it.</summary>
    private static float Update(GradScaler scaler, float poison = 1f)
    {
        using var grad = ones(4) * scaler.GetScale();
        grad[2] = tensor(poison);
        scaler.Unscale([grad]);
        scaler.Update();
        return scaler.GetScale();
    }

    [Fact]
    public void DefaultsAreTorchs()
    {
        var scaler = new GradScaler();
        Assert.Equal(65536f, scaler.GetScale());
        Assert.Equal((2.0, 0.5, 2000), (scaler.GrowthFactor, scaler.BackoffFactor, scaler.GrowthInterval));
        Assert.Equal(0, scaler.GrowthTracker);
    }

    [Fact]
    public void ScaleSequenceBacksOffOnOverflowAndGrowsAfterTheIntervalOfCleanSteps()
    {
        var scaler = new GradScaler(initScale: 1024, growthInterval: 3);
        var scales = new List<float>();
        var trackers = new List<int>();
        foreach (var poison in new[] { 1f, 1f, float.PositiveInfinity, 1f, 1f, 1f, float.NaN, float.NegativeInfinity, 1f, 1f, 1f, 1f })
        {
            scales.Add(Update(scaler, poison));
            trackers.Add(scaler.GrowthTracker);
        }
        // Two clean steps are not enough; the overflow halves the scale and restarts the count; three clean steps double it.
        Assert.Equal([1024f, 1024f, 512f, 512f, 512f, 1024f, 512f, 256f, 256f, 256f, 512f, 512f], scales);
        Assert.Equal([1, 2, 0, 1, 2, 0, 0, 0, 1, 2, 0, 1], trackers);
    }

    [Fact]
    public void TheDefaultIntervalIs2000CleanSteps()
    {
        var scaler = new GradScaler();
        for (var i = 0; i < 1999; i++) Update(scaler);
        Assert.Equal(65536f, scaler.GetScale());
        Assert.Equal(1999, scaler.GrowthTracker);
        Assert.Equal(131072f, Update(scaler));
        Assert.Equal(0, scaler.GrowthTracker);
    }

    [Fact]
    public void AScaleThatWouldOverflowFloat32StaysPut()
    {
        var top = MathF.Pow(2, 127);
        var scaler = new GradScaler(initScale: top, growthInterval: 1);
        Assert.Equal(top, Update(scaler, poison: 0f));
        Assert.Equal(0, scaler.GrowthTracker);
    }

    [Fact]
    public void UnscaledGradientsEqualThoseOfTheUnscaledLoss()
    {
        var batch = Batch();
        using var model = TinyModel();
        using var reference = TinyModel();
        using var optimizer = Optimizer(model);
        var scaler = new GradScaler();
        using (var loss = Loss(model, batch))
        using (var scaled = scaler.Scale(loss))
        {
            Assert.Equal(loss.item<float>() * 65536f, scaled.item<float>(), 1e-2);
            scaled.backward();
        }
        Loss(reference, batch).backward();
        var scaledMax = model.parameters().Max(p => p.grad!.abs().max().item<float>());
        var referenceMax = reference.parameters().Max(p => p.grad!.abs().max().item<float>());
        Assert.Equal(referenceMax * 65536f, scaledMax, referenceMax * 65536f * 1e-5);

        Assert.False(scaler.Unscale(optimizer));
        var expected = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!);
        foreach (var (name, p) in model.named_parameters())
        {
            var difference = (p.grad! - expected[name]).abs().max().item<float>();
            Assert.True(difference <= 1e-7 + 1e-5 * referenceMax, $"{name}: unscaled gradient differs by {difference:E2}");
        }
        // Step after an explicit Unscale does not divide again.
        Assert.True(scaler.Step(optimizer, 1e-3));
        scaler.Update();
        Assert.Equal(1, scaler.GrowthTracker);
        Assert.Equal(1, optimizer.StepCount);
    }

    [Theory]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    [InlineData(float.NaN)]
    public void AStepWithANonFiniteGradientIsSkippedAndTheScaleHalved(float poison)
    {
        var batch = Batch();
        using var model = TinyModel();
        using var optimizer = Optimizer(model);
        var scaler = new GradScaler();
        scaler.Scale(Loss(model, batch)).backward();
        var (name, parameter) = model.named_parameters().First(p => p.name == "bert.encoder.layer.1.output.dense.weight");
        using (no_grad()) parameter.grad![3, 5] = tensor(poison);
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

        Assert.False(scaler.Step(optimizer, 1e-3));
        scaler.Update();

        Assert.Equal(32768f, scaler.GetScale());
        Assert.Equal(0, optimizer.StepCount);
        foreach (var (n, p) in model.named_parameters())
            Assert.True(TensorAssert.BitEqual(before[n], p), $"{n} changed in a skipped step ({name} held {poison})");
        // The next clean step goes through, scaled by the halved scale.
        optimizer.ZeroGrad();
        scaler.Scale(Loss(model, batch)).backward();
        Assert.True(scaler.Step(optimizer, 1e-3));
        scaler.Update();
        Assert.Equal(1, optimizer.StepCount);
        Assert.Equal(32768f, scaler.GetScale());
    }

    [Fact]
    public void CallsOutOfOrderAreErrors()
    {
        var scaler = new GradScaler();
        Assert.Contains("call Step (or Unscale) first", Assert.Throws<InvalidOperationException>(scaler.Update).Message);
        using var grad = ones(3);
        scaler.Unscale([grad]);
        Assert.Contains("already been called", Assert.Throws<InvalidOperationException>(() => scaler.Unscale([grad])).Message);
    }

    [Fact]
    public void ADisabledScalerPassesEverythingThrough()
    {
        var batch = Batch();
        using var model = TinyModel();
        using var optimizer = Optimizer(model);
        var scaler = new GradScaler(enabled: false);
        var loss = Loss(model, batch);
        Assert.Same(loss, scaler.Scale(loss));
        loss.backward();
        Assert.False(scaler.Unscale(optimizer));
        Assert.True(scaler.Step(optimizer, 1e-3));
        scaler.Update();
        Assert.Equal(1f, scaler.GetScale());
        Assert.Equal(1, optimizer.StepCount);
    }

    [Fact]
    public void StateRoundTripsWithTorchsKeysAndBadStateIsNamed()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "scaler.json");
        var scaler = new GradScaler(initScale: 256, growthInterval: 10);
        Update(scaler);
        Update(scaler, float.NaN);
        Update(scaler);
        Update(scaler);
        scaler.Save(path);
        var text = File.ReadAllText(path);
        foreach (var key in new[] { "\"scale\": 128", "\"growth_factor\": 2", "\"backoff_factor\": 0.5", "\"growth_interval\": 10", "\"_growth_tracker\": 2" })
            Assert.Contains(key, text);

        var restored = new GradScaler(growthInterval: 10);
        restored.Load(path);
        Assert.Equal((128f, 2), (restored.GetScale(), restored.GrowthTracker));
        Assert.Equal(Update(scaler), Update(restored));

        File.WriteAllText(path, "{\"scale\": 128}");
        Assert.Contains("has no '_growth_tracker'", Assert.Throws<InvalidDataException>(() => restored.Load(path)).Message);
        File.WriteAllText(path, "{\"scale\": -1, \"_growth_tracker\": 0}");
        var error = Assert.Throws<InvalidDataException>(() => restored.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("'scale' must be a positive", error.Message);
        File.WriteAllText(path, "[1, 2]");
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => restored.Load(path)).Message);
    }

    [Fact]
    public void Float16TrainingBacksOffUntilTheGradientsFitThenSteps()
    {
        // A deliberately huge initial scale overflows float16 activations' gradients in backward: the scaler must skip
        // and halve until the scaled gradients fit, then train, as it does on a GPU at the start of fp16 training.
        var batch = Batch();
        using var model = TinyModel();
        model.Precision.ComputeDtype = ScalarType.Float16;
        using var optimizer = Optimizer(model);
        var scaler = new GradScaler(initScale: Math.Pow(2, 40));
        var skipped = 0;
        for (var i = 0; i < 40 && optimizer.StepCount == 0; i++)
        {
            using (var scope = NewDisposeScope())
                scaler.Scale(Loss(model, batch)).backward();
            if (!scaler.Step(optimizer, 1e-3)) skipped++;
            scaler.Update();
            optimizer.ZeroGrad();
        }
        Assert.True(skipped >= 1, "a 2^40 loss scale should overflow float16");
        Assert.Equal(1, optimizer.StepCount);
        Assert.Equal(MathF.Pow(2, 40 - skipped), scaler.GetScale());
        Assert.All(model.parameters(), p => Assert.True(p.isfinite().all().item<bool>()));
    }
}
