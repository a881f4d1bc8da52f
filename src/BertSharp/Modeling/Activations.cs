using static TorchSharp.torch;

namespace BertSharp.Modeling;

/// <summary>The <c>hidden_act</c> values of config.json, as transformers' ACT2FN defines them.</summary>
public static class Activations
{
    public static Func<Tensor, Tensor> Get(string name, string source = "config") => name switch
    {
        // "gelu" in transformers is the exact erf form, not the tanh approximation.
        "gelu" => x => nn.functional.gelu(x),
        "gelu_new" or "gelu_pytorch_tanh" => x => nn.functional.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh),
        "relu" => x => nn.functional.relu(x),
        "silu" or "swish" => x => nn.functional.silu(x),
        "tanh" => x => x.tanh(),
        _ => throw new InvalidDataException(
            $"{source}: 'hidden_act' = '{name}' is not supported; use gelu, gelu_new, gelu_pytorch_tanh, relu, silu or tanh."),
    };
}
