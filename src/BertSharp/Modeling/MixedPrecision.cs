using TorchSharp.Modules;
using static TorchSharp.torch;

namespace BertSharp.Modeling;

/// <summary>
/// Mixed precision without autocast (TorchSharp 0.107 has none), done the way autocast would: weights stay float32
/// (so the optimizer updates float32 master weights), linear layers and attention run in the compute dtype
/// (bfloat16 or float16 on a GPU), and LayerNorm, softmax and the loss run in float32. One instance is shared by every
/// module of a model, so switching precision is one assignment.
/// </summary>
/// <remarks>
/// float16 has bfloat16's speed but only 5 exponent bits: small gradients underflow to zero unless the loss is scaled
/// up before backward, so training in float16 needs a <see cref="Training.GradScaler"/>; inference does not.
/// </remarks>
public sealed class MixedPrecision
{
    private ScalarType _computeDtype = ScalarType.Float32;

    /// <summary>Float32 means no mixed precision: every operation runs on the weights as they are.</summary>
    public ScalarType ComputeDtype
    {
        get => _computeDtype;
        set => _computeDtype = value is ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16 ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "ComputeDtype must be Float32 (no mixed precision), BFloat16 or Float16.");
    }

    public bool Enabled => ComputeDtype != ScalarType.Float32;

    public Tensor Linear(Linear layer, Tensor input)
    {
        if (!Enabled) return layer.forward(input);
        // Casting the float32 weight each call is what autocast does too; gradients flow back to the float32 copy.
        using var weight = layer.weight!.to(ComputeDtype);
        using var bias = layer.bias?.to(ComputeDtype);
        return nn.functional.linear(input.to(ComputeDtype), weight, bias);
    }

    public Tensor LayerNorm(LayerNorm layer, Tensor input) =>
        layer.forward(Enabled ? input.to(ScalarType.Float32) : input);
}
