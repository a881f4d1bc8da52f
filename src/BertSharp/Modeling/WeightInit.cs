using TorchSharp.Modules;
using static TorchSharp.torch;

namespace BertSharp.Modeling;

/// <summary>
/// transformers' <c>_init_weights</c> for the BERT family: linear and embedding weights ~ N(0, initializer_range),
/// biases 0, the padding row of the word embeddings 0, LayerNorm weight 1 and bias 0. Weights that a checkpoint
/// provides are overwritten when loading; those it lacks (a new classifier) keep this initialisation.
/// </summary>
internal static class WeightInit
{
    /// <param name="padTokenId">The row of the word embeddings (modules that are <see cref="IWordEmbeddings"/>) to zero; null leaves them.</param>
    public static void Apply(nn.Module root, double initializerRange, int? padTokenId = null)
    {
        using var _ = no_grad();
        foreach (var module in root.modules())
        {
            switch (module)
            {
                case Linear linear:
                    nn.init.normal_(linear.weight!, 0.0, initializerRange);
                    if (linear.bias is { } bias) nn.init.zeros_(bias);
                    break;
                case Embedding embedding:
                    nn.init.normal_(embedding.weight!, 0.0, initializerRange);
                    break;
                case LayerNorm norm:
                    nn.init.ones_(norm.weight!);
                    nn.init.zeros_(norm.bias!);
                    break;
            }
        }
        // The padding token's embedding starts at zero, as nn.Embedding(padding_idx=...) leaves it.
        if (padTokenId is { } pad)
            foreach (var embeddings in root.modules().OfType<IWordEmbeddings>())
                embeddings.WordEmbeddings.weight![pad].zero_();
    }
}

/// <summary>An embedding module whose word embeddings have a padding row (BERT's and DistilBERT's).</summary>
internal interface IWordEmbeddings
{
    Embedding WordEmbeddings { get; }
}
