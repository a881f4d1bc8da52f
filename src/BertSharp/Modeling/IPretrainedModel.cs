namespace BertSharp.Modeling;

/// <summary>What loading and saving need of any model, bare encoder or task model, of any family.</summary>
public interface IPretrainedModel
{
    PretrainedConfig Config { get; }

    /// <summary>What loading found: missing (newly initialised), unexpected (ignored) and mismatched keys.</summary>
    LoadingInfo? LoadingInfo { get; set; }

    /// <summary>
    /// transformers' <c>base_model_prefix</c> ("bert", "distilbert"): the name of the encoder inside a task model, which
    /// loading adds to or strips from checkpoint keys so a bare encoder and a task model load each other's weights.
    /// </summary>
    string BaseModelPrefix { get; }
}
