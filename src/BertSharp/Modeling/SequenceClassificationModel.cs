using TorchSharp;
using static TorchSharp.torch;

namespace BertSharp.Modeling;

/// <summary>Logits, and the loss when labels were given.</summary>
public sealed record SequenceClassifierOutput(Tensor? Loss, Tensor Logits);

/// <summary>
/// A pre-trained encoder with a sequence-classification head, whatever the family (<see cref="BertForSequenceClassification"/>,
/// <see cref="DistilBertForSequenceClassification"/>): what the Trainer, the evaluator, the pipeline and the apps work
/// with, and what <see cref="AutoModelForSequenceClassification"/> returns. <c>forward(input_ids, attention_mask,
/// token_type_ids)</c> returns the logits [batch, num_labels]; it is <see cref="Embed"/> followed by
/// <see cref="ForwardFromEmbeddings"/>, so attribution methods that work on the embedding output (Integrated Gradients,
/// as Captum's LayerIntegratedGradients on <c>model.bert.embeddings</c>) see exactly the model's own computation.
/// </summary>
public abstract class SequenceClassificationModel : nn.Module<Tensor, Tensor?, Tensor?, Tensor>, IPretrainedModel
{
    // Only the families AutoModelForSequenceClassification knows derive from this class.
    private protected SequenceClassificationModel(string name) : base(name) { }

    public abstract PretrainedConfig Config { get; }

    /// <summary>What loading found: missing (newly initialised), unexpected (ignored) and mismatched keys.</summary>
    public LoadingInfo? LoadingInfo { get; set; }

    public abstract string BaseModelPrefix { get; }

    /// <summary>Mixed precision switch: set <c>Precision.ComputeDtype = ScalarType.BFloat16</c> for bf16 matmuls.</summary>
    public abstract MixedPrecision Precision { get; }

    /// <summary>The longest input, in tokens, the model has positions for (config's max_position_embeddings).</summary>
    public int MaxPositionEmbeddings => Config.MaxPositionEmbeddings;

    /// <summary>The id the model was trained to ignore as padding (config's pad_token_id).</summary>
    public int PadTokenId => Config.PadTokenId;

    /// <summary>
    /// The output of the model's embedding module, [batch, seq, hidden]: after its LayerNorm and dropout, which is what
    /// Captum's LayerIntegratedGradients on <c>model.bert.embeddings</c> (or <c>model.distilbert.embeddings</c>) attributes to.
    /// </summary>
    /// <param name="inputIds">[batch, seq] token ids (int64).</param>
    /// <param name="tokenTypeIds">[batch, seq] segment ids; null means all 0 (a single text).</param>
    public abstract Tensor Embed(Tensor inputIds, Tensor? tokenTypeIds = null);

    /// <summary>The rest of the forward pass after <see cref="Embed"/>: the encoder and the head, returning the logits.</summary>
    /// <param name="embeddings">[batch, seq, hidden], as <see cref="Embed"/> returns it (or a path towards it).</param>
    /// <param name="attentionMask">[batch, seq], 1 for real tokens and 0 for padding; null means no padding.</param>
    public abstract Tensor ForwardFromEmbeddings(Tensor embeddings, Tensor? attentionMask);

    /// <summary>
    /// The last layer's attention probabilities [batch, heads, seq, seq] (rows: queries, columns: keys). The fused
    /// attention of <see cref="forward"/> never materialises them, so they cost a separate pass, run only when asked for.
    /// </summary>
    public abstract Tensor LastLayerAttentions(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null);

    /// <param name="inputIds">[batch, seq] token ids (int64).</param>
    /// <param name="attentionMask">[batch, seq], 1 for real tokens and 0 for padding; null means no padding.</param>
    /// <param name="tokenTypeIds">[batch, seq] segment ids; null means all 0. DistilBERT has none and refuses non-zero ones.</param>
    public sealed override Tensor forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null) =>
        ForwardFromEmbeddings(Embed(inputIds, tokenTypeIds), attentionMask);

    /// <summary>Forward pass with the loss transformers would compute for the config's problem_type.</summary>
    public SequenceClassifierOutput ForwardWithLoss(Tensor inputIds, Tensor? attentionMask, Tensor? tokenTypeIds, Tensor? labels)
    {
        var logits = forward(inputIds, attentionMask, tokenTypeIds);
        return new SequenceClassifierOutput(labels is null ? null : Loss(logits, labels), logits);
    }

    /// <summary>
    /// transformers infers the problem type when the config leaves it open: one label → regression,
    /// integer labels → single-label classification, otherwise multi-label.
    /// </summary>
    public Tensor Loss(Tensor logits, Tensor labels)
    {
        var numLabels = Config.NumLabels;
        var problem = Config.ProblemType ?? (numLabels == 1 ? "regression"
            : labels.dtype is ScalarType.Int64 or ScalarType.Int32 ? "single_label_classification"
            : "multi_label_classification");
        // The loss is computed in float32 even when the logits come from a lower-precision forward pass.
        using var logits32 = logits.to(ScalarType.Float32);
        return problem switch
        {
            "regression" => nn.functional.mse_loss(logits32.squeeze(-1), labels.to(ScalarType.Float32).view(-1)),
            "single_label_classification" => nn.functional.cross_entropy(logits32.view(-1, numLabels), labels.to(ScalarType.Int64).view(-1)),
            _ => nn.functional.binary_cross_entropy_with_logits(logits32, labels.to(ScalarType.Float32)),
        };
    }

    /// <summary>
    /// Writes config.json (architectures naming this class) and model.safetensors under transformers' names, which
    /// Python's <c>from_pretrained</c> (and <see cref="AutoModelForSequenceClassification"/>) load unchanged.
    /// </summary>
    public void SavePretrained(string directory) => PretrainedLoader.Save(this, directory, GetType().Name);
}
