namespace BertSharp.Modeling;

/// <summary>
/// transformers' <c>AutoModelForSequenceClassification</c>: the sequence classifier of whatever family a checkpoint's
/// config.json names (model_type "bert" → <see cref="BertForSequenceClassification"/>, "distilbert" →
/// <see cref="DistilBertForSequenceClassification"/>), loaded with the same report of unused and newly initialised
/// weights. An unknown model_type is one error that lists the supported ones.
/// </summary>
public static class AutoModelForSequenceClassification
{
    /// <param name="modelIdOrPath">A local model folder, or a Hub repo id such as <c>distilbert-base-uncased</c>.</param>
    /// <param name="numLabels">Classes of a new classification head; null keeps the checkpoint's.</param>
    public static SequenceClassificationModel FromPretrained(string modelIdOrPath, int? numLabels = null, PretrainedOptions? options = null)
    {
        options ??= new PretrainedOptions();
        return PretrainedLoader.Load(modelIdOrPath, options with { NumLabels = numLabels ?? options.NumLabels },
            path => AutoConfig.FromFile(path, modelIdOrPath), FromConfig);
    }

    /// <summary>A freshly initialised classifier for <paramref name="config"/> (transformers' <c>from_config</c>): no weights are loaded.</summary>
    public static SequenceClassificationModel FromConfig(PretrainedConfig config) => config switch
    {
        BertConfig bert => new BertForSequenceClassification(bert),
        DistilBertConfig distilBert => new DistilBertForSequenceClassification(distilBert),
        // PretrainedConfig has no other subclasses (its constructor is private to this assembly).
        _ => throw new NotSupportedException($"{config.GetType().Name} has no sequence-classification model."),
    };
}
