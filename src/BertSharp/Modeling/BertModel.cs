using TorchSharp;
using static TorchSharp.torch;

namespace BertSharp.Modeling;

/// <summary>What <see cref="BertModel"/> returns: every token's final hidden state, and the pooled [CLS] vector.</summary>
public sealed record BertModelOutput(Tensor LastHiddenState, Tensor? PoolerOutput);

/// <summary>The bare BERT encoder: embeddings → transformer layers → pooler.</summary>
public sealed class BertModel : nn.Module<Tensor, Tensor?, Tensor?, BertModelOutput>, IPretrainedBert
{
    private readonly BertEmbeddings embeddings;
    private readonly BertEncoder encoder;
    private readonly BertPooler? pooler;

    public BertModel(BertConfig config, bool addPoolingLayer = true) : this(config, new MixedPrecision(), addPoolingLayer) { }

    internal BertModel(BertConfig config, MixedPrecision precision, bool addPoolingLayer = true) : base(nameof(BertModel))
    {
        config.Validate();
        Config = config;
        Precision = precision;
        embeddings = new BertEmbeddings(config, precision);
        encoder = new BertEncoder(config, precision);
        if (addPoolingLayer)
        {
            pooler = new BertPooler(config, precision);
        }
        RegisterComponents();
        WeightInit.Apply(this, config);
    }

    public BertConfig Config { get; }

    /// <summary>The compute dtype of linear layers and attention; float32 weights either way.</summary>
    public MixedPrecision Precision { get; }

    public LoadingInfo? LoadingInfo { get; set; }

    public BertEmbeddings Embeddings => embeddings;

    /// <param name="inputIds">[batch, seq] token ids (int64).</param>
    /// <param name="attentionMask">[batch, seq], 1 for real tokens and 0 for padding; null means no padding.</param>
    /// <param name="tokenTypeIds">[batch, seq] segment ids; null means all 0 (a single sentence).</param>
    public override BertModelOutput forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        if (inputIds.dim() != 2)
            throw new ArgumentException($"input_ids must be [batch, seq], got [{string.Join(", ", inputIds.shape)}].", nameof(inputIds));
        // Intermediates (the embeddings' output, the mask) are freed when this forward ends, not the caller's scope.
        using var scope = NewDisposeScope();
        var types = tokenTypeIds is null ? zeros_like(inputIds) : null;
        var hidden = embeddings.forward(inputIds, tokenTypeIds ?? types!);
        // Attention runs in the compute dtype, so its mask must be of that dtype too.
        var additiveMask = AdditiveMask(attentionMask ?? ones_like(inputIds), Precision.Enabled ? Precision.ComputeDtype : hidden.dtype, inputIds.shape);
        var last = encoder.forward(hidden, additiveMask);
        return new BertModelOutput(last.MoveToOuterDisposeScope(), pooler?.forward(last).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Turns a 0/1 padding mask into the [batch, 1, 1, seq] bias added to attention scores: 0 keeps a key,
    /// the dtype's most negative finite value removes it after softmax (as transformers does, avoiding -inf NaNs).
    /// </summary>
    internal static Tensor AdditiveMask(Tensor attentionMask, ScalarType dtype, long[] inputShape)
    {
        if (!attentionMask.shape.SequenceEqual(inputShape))
            throw new ArgumentException(
                $"attention_mask has shape [{string.Join(", ", attentionMask.shape)}] but input_ids has [{string.Join(", ", inputShape)}].");
        var min = dtype switch
        {
            ScalarType.Float16 => -65504.0,
            ScalarType.BFloat16 => -3.3895313892515355e38,
            ScalarType.Float64 => double.MinValue,
            _ => float.MinValue,
        };
        using var keep = attentionMask.to(dtype).unsqueeze(1).unsqueeze(1);
        return (1.0 - keep) * min;
    }

    public static BertModel FromPretrained(string modelIdOrPath, PretrainedOptions? options = null) =>
        PretrainedLoader.Load(modelIdOrPath, options, config => new BertModel(config), expectsBertPrefix: false);

    public void SavePretrained(string directory) => PretrainedLoader.Save(this, directory, nameof(BertModel));
}
