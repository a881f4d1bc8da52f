using TorchSharp;
using static TorchSharp.torch;

namespace BertSharp.Modeling;

/// <summary>What <see cref="BertModel"/> returns: every token's final hidden state, and the pooled [CLS] vector.</summary>
public sealed record BertModelOutput(Tensor LastHiddenState, Tensor? PoolerOutput);

/// <summary>The bare BERT encoder: embeddings → transformer layers → pooler.</summary>
public sealed class BertModel : nn.Module<Tensor, Tensor?, Tensor?, BertModelOutput>, IPretrainedModel
{
    /// <summary>transformers' base_model_prefix: task models hold this encoder as <c>bert</c>.</summary>
    public const string Prefix = "bert";

    private readonly BertEmbeddings embeddings;
    private readonly BertEncoder encoder;
    private readonly BertPooler? pooler;

    // TorchSharp finds libtorch in its NuGet packages when torch initialises; a module's constructor calls native code
    // before that, which fails in hosts that do not put the native libraries on the probing path (the .NET
    // Interactive kernel behind notebooks). Initialising first makes the model work there too.
    static BertModel() => torch.InitializeDeviceType(DeviceType.CPU);

    public BertModel(BertConfig config, bool addPoolingLayer = true) : this(config, new MixedPrecision(), addPoolingLayer) { }

    internal BertModel(BertConfig config, MixedPrecision precision, bool addPoolingLayer = true) : base(nameof(BertModel))
    {
        config.Validate();
        // Before the first tensor: libtorch aborts the process when an allocation fails.
        ModelSizeCheck.EnsureFitsInMemory(config.ParameterCount(addPoolingLayer: addPoolingLayer, withClassifier: false), "BertConfig", config.SizeSummary());
        Config = config;
        Precision = precision;
        embeddings = new BertEmbeddings(config, precision);
        encoder = new BertEncoder(config, precision);
        if (addPoolingLayer)
        {
            pooler = new BertPooler(config, precision);
        }
        RegisterComponents();
        WeightInit.Apply(this, config.InitializerRange, config.PadTokenId);
    }

    public BertConfig Config { get; }

    PretrainedConfig IPretrainedModel.Config => Config;

    string IPretrainedModel.BaseModelPrefix => Prefix;

    /// <summary>The compute dtype of linear layers and attention; float32 weights either way.</summary>
    public MixedPrecision Precision { get; }

    public LoadingInfo? LoadingInfo { get; set; }

    public BertEmbeddings Embeddings => embeddings;

    /// <param name="inputIds">[batch, seq] token ids (int64).</param>
    /// <param name="attentionMask">[batch, seq], 1 for real tokens and 0 for padding; null means no padding.</param>
    /// <param name="tokenTypeIds">[batch, seq] segment ids; null means all 0 (a single sentence).</param>
    public override BertModelOutput forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null) =>
        Encode(Embed(inputIds, tokenTypeIds), attentionMask);

    /// <summary>The embedding module's output [batch, seq, hidden] (after its LayerNorm and dropout).</summary>
    internal Tensor Embed(Tensor inputIds, Tensor? tokenTypeIds)
    {
        if (inputIds.dim() != 2)
            throw new ArgumentException($"input_ids must be [batch, seq], got [{string.Join(", ", inputIds.shape)}].", nameof(inputIds));
        using var types = tokenTypeIds is null ? zeros_like(inputIds) : null;
        return embeddings.forward(inputIds, tokenTypeIds ?? types!);
    }

    /// <summary>The encoder layers and the pooler on the embedding output.</summary>
    internal BertModelOutput Encode(Tensor hidden, Tensor? attentionMask)
    {
        // Intermediates (the mask, every layer's activations) are freed when this forward ends, not in the caller's scope.
        using var scope = NewDisposeScope();
        // Attention runs in the compute dtype, so its mask must be of that dtype too.
        var mask = AttentionMask.ForScores(attentionMask, Precision.Enabled ? Precision.ComputeDtype : hidden.dtype, hidden.shape.AsSpan(0, 2));
        var last = encoder.forward(hidden, mask);
        var pooled = pooler?.forward(last);
        return new BertModelOutput(last.MoveToOuterDisposeScope(), pooled?.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The last layer's attention probabilities [batch, heads, seq, seq] (rows: queries, columns: keys), recomputed
    /// from that layer's input. The fused attention of <see cref="forward"/> never materialises them, so they cost a
    /// separate pass that only runs when asked for (a heatmap in a notebook, not every prediction).
    /// </summary>
    public Tensor LastLayerAttentions(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        if (inputIds.dim() != 2)
            throw new ArgumentException($"input_ids must be [batch, seq], got [{string.Join(", ", inputIds.shape)}].");
        using var scope = NewDisposeScope();
        var hidden = Embed(inputIds, tokenTypeIds);
        var mask = AttentionMask.ForScores(attentionMask, Precision.Enabled ? Precision.ComputeDtype : hidden.dtype, hidden.shape.AsSpan(0, 2));
        return encoder.LastLayerAttentions(hidden, mask).MoveToOuterDisposeScope();
    }

    public static BertModel FromPretrained(string modelIdOrPath, PretrainedOptions? options = null) =>
        PretrainedLoader.Load(modelIdOrPath, options, BertConfig.FromFile, config => new BertModel((BertConfig)config));

    public void SavePretrained(string directory) => PretrainedLoader.Save(this, directory, nameof(BertModel));
}
