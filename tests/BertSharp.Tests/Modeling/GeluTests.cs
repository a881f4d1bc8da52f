using BertSharp.Modeling;
using static TorchSharp.torch;

namespace BertSharp.Tests.Modeling;

/// <summary>
/// "gelu" in transformers (BERT's hidden_act, DistilBERT's activation) is the exact erf form, not the tanh approximation
/// ("gelu_new"). The parity fixtures' weights are too small to tell the two apart, so it is tested here: pointwise the
/// two differ by at most 4.7e-4 (near x = ±2.7), and a feed-forward layer that sums many such units shows it clearly.
/// </summary>
public class GeluTests
{
    private static Tensor ErfGelu(Tensor x) => 0.5 * x * (1 + special.erf(x / Math.Sqrt(2)));

    private static Tensor TanhGelu(Tensor x) => 0.5 * x * (1 + (Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x.pow(3))).tanh());

    [Fact]
    public void GeluIsTheErfFormAndGeluNewTheTanhApproximation()
    {
        var x = linspace(-4, 4, 801, dtype: ScalarType.Float64);
        var (exact, approximate) = (ErfGelu(x), TanhGelu(x));
        Assert.True((exact - approximate).abs().max().item<double>() > 4e-4, "the two forms should differ measurably here");
        Assert.True((Activations.Get("gelu")(x) - exact).abs().max().item<double>() < 1e-12);
        Assert.True((Activations.Get("gelu_new")(x) - approximate).abs().max().item<double>() < 1e-12);
    }

    [Theory]
    [InlineData("gelu", false)]
    [InlineData("gelu_new", true)]
    public void DistilBertFeedForwardUsesTheConfiguredActivation(string activation, bool tanh)
    {
        // 64 hidden units all at x = 2.7, summed by lin2: the erf and tanh forms differ by 64 × 4.7e-4 ≈ 0.03 per output.
        var config = new DistilBertConfig { Dim = 4, NHeads = 1, HiddenDim = 64, Activation = activation };
        using var ffn = new DistilBertFFN(config, new MixedPrecision());
        ffn.eval();
        using var _ = no_grad();
        foreach (var (name, p) in ffn.named_parameters())
            p.copy_(name.EndsWith("bias") ? zeros_like(p) : ones_like(p));
        var input = full(1, 1, 4, 2.7 / 4);
        var output = ffn.forward(input);
        var hidden = full(1, 1, 64, 2.7);
        var expected = ((tanh ? TanhGelu(hidden) : ErfGelu(hidden)).sum() * ones(1, 1, 4)).to(ScalarType.Float32);
        var other = ((tanh ? ErfGelu(hidden) : TanhGelu(hidden)).sum() * ones(1, 1, 4)).to(ScalarType.Float32);
        Assert.True((expected - other).abs().max().item<float>() > 1e-3);
        Assert.True((output - expected).abs().max().item<float>() < 1e-4, $"{activation}: {output[0, 0, 0].item<float>()} vs {expected[0, 0, 0].item<float>()}");
    }
}
