using BertSharp.Modeling;
using BertSharp.Safetensors;
using BertSharp.Tests.TestSupport;
using static TorchSharp.torch;

namespace BertSharp.Tests.Modeling;

/// <summary>
/// The bf16 and fp16 paths without autocast: matmuls in bfloat16 or float16, LayerNorm and the loss in float32, weights
/// float32. Checked on the CPU (libtorch has bf16 and fp16 kernels there too); the Trainer only enables them on CUDA,
/// where they are fast.
/// </summary>
public class MixedPrecisionTests
{
    [Fact]
    public void Bf16ForwardStaysCloseToFloat32AndKeepsFloat32Weights()
    {
        Dictionary<string, Tensor> reference;
        using (var file = SafetensorsFile.Open(Path.Combine(SharedFiles.TinyClsDir, "reference.safetensors")))
            reference = file.Tensors.ToDictionary(t => t.Name, t => file.ReadTensor(t.Name));
        using var model = BertForSequenceClassification.FromPretrained(SharedFiles.TinyClsDir, options: new PretrainedOptions { Log = _ => { } });
        model.eval();
        model.Precision.ComputeDtype = ScalarType.BFloat16;
        using var _ = no_grad();
        var logits = model.forward(reference["input_ids"], reference["attention_mask"], reference["token_type_ids"]);
        Assert.Equal(ScalarType.BFloat16, logits.dtype);
        var difference = (logits.to(ScalarType.Float32) - reference["logits"]).abs().max().item<float>();
        // bfloat16 keeps 8 bits of mantissa: close, but measurably not float32 (so the switch really did something).
        Assert.InRange(difference, 1e-6, 0.05);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
    }

    [Fact]
    public void Bf16LossIsFloat32AndGradientsReachFloat32Weights()
    {
        using var model = BertForSequenceClassification.FromPretrained(SharedFiles.TinyClsDir, options: new PretrainedOptions { Log = _ => { } });
        model.Precision.ComputeDtype = ScalarType.BFloat16;
        var ids = tensor(new long[] { 101, 5, 6, 7, 102, 0 }, [1, 6]);
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 0 }, [1, 6]);
        var output = model.ForwardWithLoss(ids, mask, zeros_like(ids), tensor(new long[] { 1 }));
        Assert.Equal(ScalarType.Float32, output.Loss!.dtype);
        output.Loss.backward();
        var grad = model.named_parameters().First(p => p.name == "bert.encoder.layer.0.attention.self.query.weight").parameter.grad!;
        Assert.Equal(ScalarType.Float32, grad.dtype);
        Assert.True(grad.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Fp16ForwardStaysCloseToFloat32AndItsMaskIsFinite()
    {
        Dictionary<string, Tensor> reference;
        using (var file = SafetensorsFile.Open(Path.Combine(SharedFiles.TinyClsDir, "reference.safetensors")))
            reference = file.Tensors.ToDictionary(t => t.Name, t => file.ReadTensor(t.Name));
        using var model = BertForSequenceClassification.FromPretrained(SharedFiles.TinyClsDir, options: new PretrainedOptions { Log = _ => { } });
        model.eval();
        model.Precision.ComputeDtype = ScalarType.Float16;
        using var _ = no_grad();
        var logits = model.forward(reference["input_ids"], reference["attention_mask"], reference["token_type_ids"]);
        Assert.Equal(ScalarType.Float16, logits.dtype);
        var difference = (logits.to(ScalarType.Float32) - reference["logits"]).abs().max().item<float>();
        // float16 keeps 11 bits of mantissa: closer than bfloat16, still not float32. The padded batch would give NaN
        // if the additive mask were -inf or float32's minimum (which is -inf in float16).
        Assert.InRange(difference, 1e-7, 0.01);
        using var mask = AttentionMask.ForScores(reference["attention_mask"], ScalarType.Float16, reference["input_ids"].shape)!;
        Assert.True(mask.isfinite().all().item<bool>());
        Assert.Equal(-65504f, mask.min().to(ScalarType.Float32).item<float>());
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
    }

    [Fact]
    public void Fp16LossIsFloat32AndGradientsReachFloat32Weights()
    {
        using var model = BertForSequenceClassification.FromPretrained(SharedFiles.TinyClsDir, options: new PretrainedOptions { Log = _ => { } });
        model.Precision.ComputeDtype = ScalarType.Float16;
        var ids = tensor(new long[] { 101, 5, 6, 7, 102, 0 }, [1, 6]);
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 0 }, [1, 6]);
        var output = model.ForwardWithLoss(ids, mask, zeros_like(ids), tensor(new long[] { 1 }));
        Assert.Equal(ScalarType.Float32, output.Loss!.dtype);
        output.Loss.backward();
        var grad = model.named_parameters().First(p => p.name == "bert.encoder.layer.0.attention.self.query.weight").parameter.grad!;
        Assert.Equal(ScalarType.Float32, grad.dtype);
        Assert.True(grad.abs().sum().item<float>() > 0);
        Assert.True(grad.isfinite().all().item<bool>());
    }

    [Fact]
    public void OtherComputeDtypesAreRefused()
    {
        var precision = new MixedPrecision();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => precision.ComputeDtype = ScalarType.Float64);
        Assert.Contains("BFloat16 or Float16", error.Message);
        Assert.Equal(ScalarType.Float32, precision.ComputeDtype);
    }
}
