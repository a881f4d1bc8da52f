using static TorchSharp.torch;

namespace BertSharp.Modeling;

/// <summary>
/// The activation names of config.json (BERT's <c>hidden_act</c>, DistilBERT's <c>activation</c>), as transformers'
/// ACT2FN defines them.
/// </summary>
public static class Activations
{
    /// <param name="field">The config field that named it, for the error message.</param>
    public static Func<Tensor, Tensor> Get(string name, string source = "config", string field = "hidden_act") => name switch
    {
        // "gelu" in transformers is the exact erf form, not the tanh approximation.
        "gelu" => x => nn.functional.gelu(x),
        "gelu_new" or "gelu_pytorch_tanh" => x => nn.functional.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh),
        "relu" => x => nn.functional.relu(x),
        "silu" or "swish" => x => nn.functional.silu(x),
        "tanh" => x => x.tanh(),
        _ => throw new InvalidDataException(
            $"{source}: '{field}' = '{name}' is not supported; use gelu, gelu_new, gelu_pytorch_tanh, relu, silu or tanh."),
    };
}
