using BertSharp.Modeling;
using BertSharp.Safetensors;
using BertSharp.Tests.Modeling;
using BertSharp.Tests.TestSupport;
using BertSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace BertSharp.Tests.Training;

/// <summary>
/// The fused (flat-buffer) AdamW against the per-parameter update written out the way torch.optim.AdamW does it, on
/// the tiny reference model: same weights after several steps, clipping equal to nn.utils.clip_grad_norm_, gradients
/// that stay views of the flat buffers even when the model drops them, and per-parameter checkpoint state.
/// </summary>
public class AdamWTests
{
    private const double WeightDecay = 0.01;

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

    private static void Backward(BertForSequenceClassification model, Dictionary<string, Tensor> batch, double lossScale = 1)
    {
        using var scope = NewDisposeScope();
        var output = model.ForwardWithLoss(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"], batch["train_labels"]);
        (output.Loss! * lossScale).backward();
    }

    /// <summary>torch.optim.AdamW's single-tensor update, one parameter at a time: the reference the fused one must equal.</summary>
    private sealed class PerParameterAdamW(BertForSequenceClassification model)
    {
        private readonly Dictionary<string, (Tensor M, Tensor V)> _state = new();
        private int _step;

        public void Step(double lr)
        {
            _step++;
            var (c1, c2Sqrt) = (1 - Math.Pow(0.9, _step), Math.Sqrt(1 - Math.Pow(0.999, _step)));
            using var noGrad = no_grad();
            foreach (var (name, p) in model.named_parameters())
            {
                if (!_state.TryGetValue(name, out var s)) _state[name] = s = (zeros_like(p), zeros_like(p));
                var g = p.grad!;
                if (AdamW.IsDecayed(name)) p.mul_(1 - lr * WeightDecay);
                s.M.mul_(0.9).add_(g, alpha: 0.1);
                s.V.mul_(0.999).addcmul_(g, g, 0.001);
                using var denominator = s.V.sqrt().div_(c2Sqrt).add_(1e-8);
                p.addcdiv_(s.M, denominator, -lr / c1);
            }
        }

        public void ZeroGrad()
        {
            foreach (var p in model.parameters()) p.grad?.zero_();
        }
    }

    private static void AssertSameParameters(BertForSequenceClassification expected, BertForSequenceClassification actual, double tolerance)
    {
        var reference = expected.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in actual.named_parameters())
            ParityTests.AssertClose(reference[name], p, tolerance, name);
    }

    private static AdamW Fused(BertForSequenceClassification model) =>
        new(model.named_parameters().Select(p => (p.name, p.parameter)), WeightDecay);

    [Fact]
    public void FusedStepsEqualThePerParameterUpdate()
    {
        var batch = Batch();
        using var model = TinyModel();
        using var reference = TinyModel();
        using var optimizer = Fused(model);
        var referenceOptimizer = new PerParameterAdamW(reference);
        model.train();
        reference.train();
        foreach (var lr in new[] { 1e-3, 5e-4, 2.5e-4, 1e-4 })
        {
            Backward(model, batch);
            Backward(reference, batch);
            optimizer.Step(lr);
            referenceOptimizer.Step(lr);
            optimizer.ZeroGrad();
            referenceOptimizer.ZeroGrad();
        }
        // The same operations element for element; only vectorisation tails may round differently.
        AssertSameParameters(reference, model, 1e-7);
        using var start = TinyModel();
        var moved = model.named_parameters().Zip(start.named_parameters()).Max(p => (p.First.parameter - p.Second.parameter).abs().max().item<float>());
        Assert.True(moved > 1e-4, $"the steps did not move the weights (max change {moved:E2})");
        Assert.Equal(4, optimizer.StepCount);
    }

    [Fact]
    public void ParametersAndGradientsAreViewsOfTheFlatBuffers()
    {
        var batch = Batch();
        using var model = TinyModel();
        using var optimizer = Fused(model);
        Backward(model, batch);
        var perParameter = model.parameters().Sum(p => p.grad!.abs().sum().item<float>());
        var flat = optimizer.GradientBuffers.Sum(g => g.abs().sum().item<float>());
        Assert.True(perParameter > 0);
        Assert.Equal(perParameter, flat, perParameter * 1e-5);
        // Scaling the flat buffers is scaling every parameter's gradient.
        using (no_grad())
            foreach (var g in optimizer.GradientBuffers) g.mul_(2);
        Assert.Equal(2 * perParameter, model.parameters().Sum(p => p.grad!.abs().sum().item<float>()), perParameter * 1e-5);
        Assert.Equal(2, optimizer.GradientBuffers.Count); // float32 on the CPU: a decayed and an undecayed group
    }

    [Fact]
    public void GradientsDroppedByTheModelAreTakenUpAgain()
    {
        var batch = Batch();
        using var model = TinyModel();
        using var reference = TinyModel();
        using var optimizer = Fused(model);
        var referenceOptimizer = new PerParameterAdamW(reference);
        Backward(model, batch, lossScale: 3); // thrown away below
        model.zero_grad(); // TorchSharp sets the gradients to null, as PyTorch's set_to_none does
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
        Backward(model, batch);
        Backward(reference, batch);
        optimizer.Step(1e-3);
        referenceOptimizer.Step(1e-3);
        AssertSameParameters(reference, model, 1e-7);
        Assert.All(model.parameters(), p => Assert.NotNull(p.grad));
    }

    [Fact]
    public void ClipGradNormEqualsTorchsClipGradNorm()
    {
        var batch = Batch();
        using var model = TinyModel();
        using var reference = TinyModel();
        using var optimizer = Fused(model);
        Backward(model, batch);
        Backward(reference, batch);
        var expected = nn.utils.clip_grad_norm_(reference.parameters(), 0.1);
        using var norm = optimizer.ClipGradNorm(0.1);
        Assert.Equal(expected, norm.item<float>(), expected * 1e-5);
        Assert.True(expected > 0.1, $"the norm {expected} must exceed the limit for clipping to be tested");
        var referenceGrads = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!);
        foreach (var (name, p) in model.named_parameters())
            ParityTests.AssertClose(referenceGrads[name], p.grad!, 1e-7, name);
        // +inf only measures.
        using var again = optimizer.ClipGradNorm(double.PositiveInfinity);
        Assert.Equal(0.1, again.item<float>(), 1e-5);
    }

    [Fact]
    public void StateIsSavedPerParameterAndResumesBitForBit()
    {
        var batch = Batch();
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "optimizer.safetensors");
        using var model = TinyModel();
        using var optimizer = Fused(model);
        for (var i = 0; i < 2; i++)
        {
            Backward(model, batch);
            optimizer.Step(1e-3);
            optimizer.ZeroGrad();
        }
        optimizer.Save(path);
        using (var file = SafetensorsFile.Open(path))
        {
            Assert.Equal("2", file.Metadata["step"]);
            foreach (var (name, p) in model.named_parameters())
            {
                Assert.Equal(p.shape, file.GetInfo($"{name}.exp_avg").Shape);
                Assert.Equal(p.shape, file.GetInfo($"{name}.exp_avg_sq").Shape);
            }
            using var v = file.ReadTensor("classifier.weight.exp_avg_sq");
            Assert.True(v.abs().sum().item<float>() > 0);
        }

        // A fresh model and optimizer: load weights after creating the optimizer (as resuming does), then the state.
        using var resumed = TinyModel();
        using var resumedOptimizer = Fused(resumed);
        using (no_grad())
            foreach (var ((_, p), (_, q)) in model.named_parameters().Zip(resumed.named_parameters()))
                q.copy_(p);
        resumedOptimizer.Load(path);
        Assert.Equal(2, resumedOptimizer.StepCount);
        Backward(model, batch);
        Backward(resumed, batch);
        optimizer.Step(1e-3);
        resumedOptimizer.Step(1e-3);
        foreach (var ((name, p), (_, q)) in model.named_parameters().Zip(resumed.named_parameters()))
            Assert.True(TensorAssert.BitEqual(p, q), $"{name} differs after resuming");
    }

    [Fact]
    public void ALoadWithAWrongShapeNamesTheTensorAndChangesNothing()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "optimizer.safetensors");
        using var model = TinyModel();
        using var optimizer = Fused(model);
        var tensors = model.named_parameters().SelectMany(p => new[]
        {
            KeyValuePair.Create($"{p.name}.exp_avg", p.name == "classifier.bias" ? ones(7) : ones_like(p.parameter)),
            KeyValuePair.Create($"{p.name}.exp_avg_sq", ones_like(p.parameter)),
        }).ToList();
        SafetensorsWriter.Save(path, tensors, new Dictionary<string, string> { ["step"] = "3" });
        var error = Assert.Throws<InvalidDataException>(() => optimizer.Load(path));
        Assert.Contains("'classifier.bias.exp_avg' has shape [7]", error.Message);
        Assert.Equal(0, optimizer.StepCount);
    }

    [Fact]
    public void AParameterWhoseStorageWasReplacedIsAClearError()
    {
        using var model = TinyModel();
        using var optimizer = Fused(model);
        var (name, parameter) = model.named_parameters().First(p => p.name == "classifier.weight");
        using (no_grad())
            parameter.set_(parameter.clone());
        var error = Assert.Throws<InvalidOperationException>(() => optimizer.Step(1e-3));
        Assert.Contains($"'{name}'", error.Message);
    }

    [Fact]
    public void ReducedPrecisionWeightsAreRefused()
    {
        using var weight = new TorchSharp.Modules.Parameter(randn(4, 3).to(ScalarType.BFloat16));
        var error = Assert.Throws<NotSupportedException>(() => new AdamW([("classifier.weight", weight)], 0.01));
        Assert.Contains("BFloat16", error.Message);
    }
}
