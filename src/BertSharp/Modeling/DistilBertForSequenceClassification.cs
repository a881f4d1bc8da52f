using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace BertSharp.Modeling;

/// <summary>
/// DistilBERT with transformers' classification head: the first token's final hidden state (no tanh pooler) →
/// <c>pre_classifier</c> → ReLU → dropout(<c>seq_classif_dropout</c>) → <c>classifier</c>.
/// <c>forward(input_ids, attention_mask)</c> returns the logits [batch, num_labels]; DistilBERT takes no token_type_ids.
/// </summary>
public sealed class DistilBertForSequenceClassification : SequenceClassificationModel
{
    // As BertModel: TorchSharp's native libraries are loaded before the first module allocates (notebook kernels).
    static DistilBertForSequenceClassification() => torch.InitializeDeviceType(DeviceType.CPU);

    private readonly DistilBertModel distilbert;
    private readonly Linear pre_classifier;
    private readonly Linear classifier;
    private readonly Dropout dropout;

    public DistilBertForSequenceClassification(DistilBertConfig config) : base(nameof(DistilBertForSequenceClassification))
    {
        config.Validate();
        Config = config;
        distilbert = new DistilBertModel(config, new MixedPrecision());
        pre_classifier = nn.Linear(config.Dim, config.Dim);
        classifier = nn.Linear(config.Dim, config.NumLabels);
        dropout = nn.Dropout(config.SeqClassifDropout);
        RegisterComponents();
        WeightInit.Apply(pre_classifier, config.InitializerRange);
        WeightInit.Apply(classifier, config.InitializerRange);
    }

    public override DistilBertConfig Config { get; }

    public override string BaseModelPrefix => DistilBertModel.Prefix;

    public DistilBertModel DistilBert => distilbert;

    public override MixedPrecision Precision => distilbert.Precision;

    /// <param name="inputIds">[batch, seq] token ids (int64).</param>
    /// <param name="tokenTypeIds">
    /// Must be null or all zeros: DistilBERT has no token-type embeddings (its tokenizer's model_input_names are
    /// input_ids and attention_mask), so segment ids that mark a second text would be silently lost.
    /// </param>
    public override Tensor Embed(Tensor inputIds, Tensor? tokenTypeIds = null)
    {
        RefuseSecondSegment(tokenTypeIds);
        return distilbert.Embed(inputIds);
    }

    private static void RefuseSecondSegment(Tensor? tokenTypeIds)
    {
        if (tokenTypeIds is not null && tokenTypeIds.count_nonzero().item<long>() != 0)
            throw new ArgumentException(
                "DistilBERT has no token type embeddings and cannot use token_type_ids that mark a second segment; " +
                "pass tokenTypeIds: null (a text pair is [CLS] A [SEP] B [SEP] without segment ids for DistilBERT).");
    }

    public override Tensor ForwardFromEmbeddings(Tensor embeddings, Tensor? attentionMask)
    {
        var hidden = distilbert.Encode(embeddings, attentionMask);
        var first = hidden.select(1, 0);
        var pooled = dropout.forward(nn.functional.relu(Precision.Linear(pre_classifier, first)));
        return Precision.Linear(classifier, pooled);
    }

    /// <remarks>DistilBERT has no segments: non-null token type ids are refused as by <see cref="Embed"/>.</remarks>
    public override Tensor LastLayerAttentions(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        RefuseSecondSegment(tokenTypeIds);
        return distilbert.LastLayerAttentions(inputIds, attentionMask);
    }

    /// <summary>
    /// Loads like transformers' <c>from_pretrained</c>: a local folder or a Hub id, the <c>distilbert.</c> prefix added
    /// where the checkpoint is a bare encoder, unused keys (e.g. a masked-LM head's <c>vocab_*</c>) reported, and
    /// <c>pre_classifier</c> and <c>classifier</c> newly initialised (and reported) when the checkpoint has none.
    /// </summary>
    public static DistilBertForSequenceClassification FromPretrained(string modelIdOrPath, int? numLabels = null, PretrainedOptions? options = null)
    {
        options ??= new PretrainedOptions();
        return PretrainedLoader.Load(modelIdOrPath, options with { NumLabels = numLabels ?? options.NumLabels },
            DistilBertConfig.FromFile, config => new DistilBertForSequenceClassification((DistilBertConfig)config));
    }
}
