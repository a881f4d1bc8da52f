using BertSharp.Inference;
using BertSharp.Modeling;

namespace BertSharp.Web;

/// <summary>
/// The model behind the web app: the pipeline, its batcher, and what the page and <c>/healthz</c> say about it.
/// One per app (a singleton in its services); disposing it stops the batcher, then frees the model if it loaded it.
/// </summary>
public sealed class SentimentServer : IDisposable
{
    private readonly TextClassificationPipeline? _ownedPipeline;

    public SentimentServer(WebAppOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        if (options.Pipeline is { } given)
        {
            Pipeline = given;
        }
        else
        {
            Pipeline = _ownedPipeline = TextClassificationPipeline.FromPretrained(options.Model!, options.Pretrained, options.MaxLength);
        }
        try
        {
            EnsureServable(Pipeline, options.Model ?? "the model");
        }
        catch
        {
            _ownedPipeline?.Dispose();
            throw;
        }
        ModelName = options.ModelName ?? DisplayName(options.Model) ?? "model";
        var id2Label = Pipeline.Model.Config.Id2Label;
        Labels = Enumerable.Range(0, Pipeline.Model.Config.NumLabels)
            .Select(i => id2Label.TryGetValue(i, out var name) ? name : $"LABEL_{i}")
            .ToArray();
        // The probabilities object is keyed by label; a config with a repeated name gets "name_id" keys instead.
        ProbabilityKeys = Labels.Select((l, i) => Labels.Count(x => x == l) > 1 ? $"{l}_{i}" : l).ToArray();
        var predict = options.PredictOverride ?? (texts => Pipeline.Predict(texts, options.MaxBatchSize));
        Batcher = new PredictionBatcher(predict, options.MaxBatchSize, options.BatchWindow);
    }

    public WebAppOptions Options { get; }

    public TextClassificationPipeline Pipeline { get; }

    public PredictionBatcher Batcher { get; }

    /// <summary>The name shown on the page and returned as <c>"model"</c>.</summary>
    public string ModelName { get; }

    /// <summary>The model's labels, by id (<c>config.json</c>'s <c>id2label</c>).</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The keys of a prediction's <c>"probabilities"</c>, by label id.</summary>
    public IReadOnlyList<string> ProbabilityKeys { get; }

    /// <summary>The most tokens a text keeps.</summary>
    public int MaxLength => Pipeline.MaxLength;

    /// <summary>
    /// Refuses, before anything listens, a model whose answers would be numbers about nothing: one whose weights were
    /// partly not in the checkpoint (a masked-LM checkpoint has no trained classifier: its head is random). A tokenizer
    /// that makes ids the model has no embedding for is already refused by the pipeline.
    /// </summary>
    private static void EnsureServable(TextClassificationPipeline pipeline, string source)
    {
        if (pipeline.Model.LoadingInfo is { IsComplete: false } info)
        {
            var random = info.MissingKeys.Concat(info.MismatchedKeys.Select(k => k.Split(':')[0])).ToList();
            throw new InvalidDataException(
                $"{source}: the checkpoint has no trained weights for [{string.Join(", ", random.Take(6))}{(random.Count > 6 ? ", …" : "")}], so its " +
                "predictions would be random; fine-tune it first (bertsharp train) and serve the folder that saves.");
        }
    }

    /// <summary>A Hub id as given; a local folder by its last name only, so no full path is ever shown to clients.</summary>
    internal static string? DisplayName(string? model)
    {
        if (string.IsNullOrWhiteSpace(model)) return null;
        if (Directory.Exists(model) || model.StartsWith('.') || Path.IsPathRooted(model))
        {
            var name = Path.GetFileName(Path.GetFullPath(model).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
            return string.IsNullOrEmpty(name) ? "model" : name;
        }
        return model;
    }

    public void Dispose()
    {
        Batcher.Dispose();
        _ownedPipeline?.Dispose();
    }
}
