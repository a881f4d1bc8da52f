using TorchSharp;
using static TorchSharp.torch;

namespace BertSharp.Modeling;

/// <summary>
/// The bare DistilBERT encoder: embeddings → transformer blocks. <c>forward(input_ids, attention_mask)</c> returns the
/// last hidden state [batch, seq, dim] (transformers' <c>last_hidden_state</c>); there is no pooler.
/// </summary>
public sealed class DistilBertModel : nn.Module<Tensor, Tensor?, Tensor>, IPretrainedModel
{
    // As BertModel: TorchSharp's native libraries are loaded before the first module allocates (notebook kernels).
    static DistilBertModel() => torch.InitializeDeviceType(DeviceType.CPU);

    /// <summary>transformers' base_model_prefix: task models hold this encoder as <c>distilbert</c>.</summary>
    public const string Prefix = "distilbert";

    private readonly DistilBertEmbeddings embeddings;
    private readonly DistilBertTransformer transformer;

    public DistilBertModel(DistilBertConfig config) : this(config, new MixedPrecision()) { }

    internal DistilBertModel(DistilBertConfig config, MixedPrecision precision) : base(nameof(DistilBertModel))
    {
        config.Validate();
        // Checked before anything is allocated: libtorch aborts the process when an allocation fails.
        ModelSizeCheck.EnsureFitsInMemory(config.ParameterCount(), "DistilBertConfig", config.SizeSummary());
        Config = config;
        Precision = precision;
        embeddings = new DistilBertEmbeddings(config, precision);
        transformer = new DistilBertTransformer(config, precision);
        RegisterComponents();
        WeightInit.Apply(this, config.InitializerRange, config.PadTokenId);
        if (config.SinusoidalPosEmbds) embeddings.InitSinusoidal();
    }

    public DistilBertConfig Config { get; }

    PretrainedConfig IPretrainedModel.Config => Config;

    string IPretrainedModel.BaseModelPrefix => Prefix;

    /// <summary>The compute dtype of linear layers and attention; float32 weights either way.</summary>
    public MixedPrecision Precision { get; }

    public LoadingInfo? LoadingInfo { get; set; }

    public DistilBertEmbeddings Embeddings => embeddings;

    /// <param name="inputIds">[batch, seq] token ids (int64).</param>
    /// <param name="attentionMask">[batch, seq], 1 for real tokens and 0 for padding; null means no padding.</param>
    public override Tensor forward(Tensor inputIds, Tensor? attentionMask = null) => Encode(Embed(inputIds), attentionMask);

    /// <summary>The embedding module's output [batch, seq, dim] (after its LayerNorm and dropout).</summary>
    internal Tensor Embed(Tensor inputIds)
    {
        if (inputIds.dim() != 2)
            throw new ArgumentException($"input_ids must be [batch, seq], got [{string.Join(", ", inputIds.shape)}].", nameof(inputIds));
        return embeddings.forward(inputIds);
    }

    /// <summary>The transformer blocks on the embedding output: the last hidden state.</summary>
    internal Tensor Encode(Tensor hidden, Tensor? attentionMask)
    {
        // Attention runs in the compute dtype, so its mask must be of that dtype too.
        using var mask = AttentionMask.ForScores(attentionMask, Precision.Enabled ? Precision.ComputeDtype : hidden.dtype, hidden.shape.AsSpan(0, 2));
        return transformer.forward(hidden, mask);
    }

    /// <summary>The last block's attention probabilities [batch, heads, seq, seq], recomputed only when asked for (see <see cref="BertModel.LastLayerAttentions"/>).</summary>
    public Tensor LastLayerAttentions(Tensor inputIds, Tensor? attentionMask = null)
    {
        using var scope = NewDisposeScope();
        var hidden = Embed(inputIds);
        var mask = AttentionMask.ForScores(attentionMask, Precision.Enabled ? Precision.ComputeDtype : hidden.dtype, hidden.shape.AsSpan(0, 2));
        return transformer.LastLayerAttentions(hidden, mask).MoveToOuterDisposeScope();
    }

    public static DistilBertModel FromPretrained(string modelIdOrPath, PretrainedOptions? options = null) =>
        PretrainedLoader.Load(modelIdOrPath, options, DistilBertConfig.FromFile, config => new DistilBertModel((DistilBertConfig)config));

    public void SavePretrained(string directory) => PretrainedLoader.Save(this, directory, nameof(DistilBertModel));
}
