using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace BertSharp.Training;

/// <summary>
/// transformers' <c>Trainer.get_decay_parameter_names</c>: every parameter gets weight decay except those of LayerNorm
/// modules (ALL_LAYERNORM_LAYERS) and biases. Deciding by module type rather than by name is what covers every family:
/// BERT calls its norms <c>LayerNorm</c>, DistilBERT <c>sa_layer_norm</c> and <c>output_layer_norm</c>.
/// </summary>
public static class WeightDecayParameters
{
    public static IReadOnlySet<string> Names(nn.Module model)
    {
        var normParameters = model.named_modules()
            .Where(m => m.module is LayerNorm)
            .SelectMany(m => m.module.named_parameters().Select(p => string.IsNullOrEmpty(m.name) ? p.name : $"{m.name}.{p.name}"))
            .ToHashSet(StringComparer.Ordinal);
        return model.named_parameters()
            .Select(p => p.name)
            .Where(name => !normParameters.Contains(name) && !name.Contains("bias", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
    }
}
