using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace BertSharp.Modeling;

/// <summary>Logits, and the loss when labels were given.</summary>
public sealed record SequenceClassifierOutput(Tensor? Loss, Tensor Logits);

/// <summary>
/// BERT with a classification head: dropout and a linear layer on the pooled [CLS] vector.
/// <c>forward(input_ids, attention_mask, token_type_ids)</c> returns the logits [batch, num_labels].
/// </summary>
public sealed class BertForSequenceClassification : nn.Module<Tensor, Tensor?, Tensor?, Tensor>, IPretrainedBert
{
    private readonly BertModel bert;
    private readonly Dropout dropout;
    private readonly Linear classifier;

    public BertForSequenceClassification(BertConfig config) : base(nameof(BertForSequenceClassification))
    {
        config.Validate();
        Config = config;
        bert = new BertModel(config, new MixedPrecision());
        dropout = nn.Dropout(config.EffectiveClassifierDropout);
        classifier = nn.Linear(config.HiddenSize, config.NumLabels);
        RegisterComponents();
        WeightInit.Apply(classifier, config);
    }

    public BertConfig Config { get; }

    /// <summary>What loading found: missing (newly initialised), unexpected (ignored) and mismatched keys.</summary>
    public LoadingInfo? LoadingInfo { get; set; }

    public BertModel Bert => bert;

    /// <summary>Mixed precision switch: set <c>Precision.ComputeDtype</c> to <c>ScalarType.BFloat16</c> or <c>Float16</c> for half-precision matmuls.</summary>
    public MixedPrecision Precision => bert.Precision;

    public override Tensor forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        var output = bert.forward(inputIds, attentionMask, tokenTypeIds);
        return bert.Precision.Linear(classifier, dropout.forward(output.PoolerOutput!));
    }

    /// <summary>Forward pass with the loss transformers would compute for <see cref="BertConfig.ProblemType"/>.</summary>
    public SequenceClassifierOutput Forward(Tensor inputIds, Tensor? attentionMask, Tensor? tokenTypeIds, Tensor? labels)
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
        var problem = Config.ProblemType ?? (Config.NumLabels == 1 ? "regression"
            : labels.dtype is ScalarType.Int64 or ScalarType.Int32 ? "single_label_classification"
            : "multi_label_classification");
        // The loss is computed in float32 even when the logits come from a lower-precision forward pass.
        using var logits32 = logits.to(ScalarType.Float32);
        return problem switch
        {
            "regression" => nn.functional.mse_loss(logits32.squeeze(-1), labels.to(ScalarType.Float32).view(-1)),
            "single_label_classification" => nn.functional.cross_entropy(logits32.view(-1, Config.NumLabels), labels.to(ScalarType.Int64).view(-1)),
            _ => nn.functional.binary_cross_entropy_with_logits(logits32, labels.to(ScalarType.Float32)),
        };
    }

    /// <summary>
    /// Loads like transformers' <c>from_pretrained</c>: a local folder or a Hub id, legacy names renamed,
    /// the <c>bert.</c> prefix added where the checkpoint is a bare encoder, unused keys reported, and the
    /// classifier newly initialised (and reported) when the checkpoint has none.
    /// </summary>
    public static BertForSequenceClassification FromPretrained(string modelIdOrPath, int? numLabels = null, PretrainedOptions? options = null)
    {
        options ??= new PretrainedOptions();
        return PretrainedLoader.Load(modelIdOrPath, options with { NumLabels = numLabels ?? options.NumLabels },
            config => new BertForSequenceClassification(config), expectsBertPrefix: true);
    }

    /// <summary>Writes config.json and model.safetensors that Python's <c>from_pretrained</c> loads unchanged.</summary>
    public void SavePretrained(string directory) =>
        PretrainedLoader.Save(this, directory, nameof(BertForSequenceClassification));
}
