using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace BertSharp.Modeling;

/// <summary>
/// BERT with a classification head: dropout and a linear layer on the pooled [CLS] vector.
/// <c>forward(input_ids, attention_mask, token_type_ids)</c> returns the logits [batch, num_labels].
/// </summary>
public sealed class BertForSequenceClassification : SequenceClassificationModel
{
    private readonly BertModel bert;
    private readonly Dropout dropout;
    private readonly Linear classifier;

    // TorchSharp finds libtorch in its NuGet packages when torch initialises; a module's constructor calls native code
    // before that, which fails in hosts that do not put the native libraries on the probing path (the .NET
    // Interactive kernel behind notebooks). Initialising first makes the model work there too.
    static BertForSequenceClassification() => torch.InitializeDeviceType(DeviceType.CPU);

    public BertForSequenceClassification(BertConfig config) : base(nameof(BertForSequenceClassification))
    {
        config.Validate();
        Config = config;
        bert = new BertModel(config, new MixedPrecision());
        dropout = nn.Dropout(config.EffectiveClassifierDropout);
        classifier = nn.Linear(config.HiddenSize, config.NumLabels);
        RegisterComponents();
        WeightInit.Apply(classifier, config.InitializerRange);
    }

    public override BertConfig Config { get; }

    public override string BaseModelPrefix => BertModel.Prefix;

    public BertModel Bert => bert;

    /// <summary>Mixed precision switch: set <c>Precision.ComputeDtype</c> to <c>ScalarType.BFloat16</c> or <c>Float16</c> for half-precision matmuls.</summary>
    public override MixedPrecision Precision => bert.Precision;

    public override Tensor Embed(Tensor inputIds, Tensor? tokenTypeIds = null) => bert.Embed(inputIds, tokenTypeIds);

    public override Tensor ForwardFromEmbeddings(Tensor embeddings, Tensor? attentionMask)
    {
        var output = bert.Encode(embeddings, attentionMask);
        return bert.Precision.Linear(classifier, dropout.forward(output.PoolerOutput!));
    }

    public override Tensor LastLayerAttentions(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null) =>
        bert.LastLayerAttentions(inputIds, attentionMask, tokenTypeIds);

    /// <summary>
    /// Loads like transformers' <c>from_pretrained</c>: a local folder or a Hub id, legacy names renamed,
    /// the <c>bert.</c> prefix added where the checkpoint is a bare encoder, unused keys reported, and the
    /// classifier newly initialised (and reported) when the checkpoint has none.
    /// </summary>
    public static BertForSequenceClassification FromPretrained(string modelIdOrPath, int? numLabels = null, PretrainedOptions? options = null)
    {
        options ??= new PretrainedOptions();
        return PretrainedLoader.Load(modelIdOrPath, options with { NumLabels = numLabels ?? options.NumLabels },
            BertConfig.FromFile, config => new BertForSequenceClassification((BertConfig)config));
    }
}
