using BertSharp.Inference;
using BertSharp.Modeling;
using Microsoft.AspNetCore.Builder;

namespace BertSharp.Web;

/// <summary>How <see cref="WebApp.Build"/> serves a text classification model.</summary>
public sealed record WebAppOptions
{
    /// <summary>The default address: loopback only. Binding any other address is the caller's choice (and responsibility).</summary>
    public const string DefaultUrls = "http://127.0.0.1:5000";

    /// <summary>A local model folder or a Hub id (<c>org/name[@revision]</c>); not needed when <see cref="Pipeline"/> is given.</summary>
    public string? Model { get; init; }

    /// <summary>An already-loaded pipeline to serve instead of loading <see cref="Model"/>; the app does not dispose it.</summary>
    public TextClassificationPipeline? Pipeline { get; init; }

    /// <summary>Options for loading <see cref="Model"/> (Hub client, download progress, device).</summary>
    public PretrainedOptions? Pretrained { get; init; }

    /// <summary>The name shown on the page and in responses (default: the Hub id, or the model folder's name; never a full path).</summary>
    public string? ModelName { get; init; }

    /// <summary>Where Kestrel listens: one or more URLs separated by ';' (port 0 picks a free port).</summary>
    public string Urls { get; init; } = DefaultUrls;

    /// <summary>Most texts in one forward pass.</summary>
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>How long a request waits for others to share its forward pass; zero turns batching off.</summary>
    public TimeSpan BatchWindow { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Most texts one request may send in <c>"texts"</c>.</summary>
    public int MaxTexts { get; init; } = 64;

    /// <summary>Truncate texts to this many tokens, [CLS] and [SEP] included (default: the model's maximum).</summary>
    public int? MaxLength { get; init; }

    /// <summary>Largest request body accepted; larger ones get 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 1024 * 1024;

    /// <summary>Integrated Gradients steps for <c>POST /api/explain</c> when the request gives none.</summary>
    public int DefaultExplainSteps { get; init; } = 50;

    /// <summary>Most steps one explanation may ask for.</summary>
    public int MaxExplainSteps { get; init; } = 200;

    /// <summary>
    /// Most steps × tokens one explanation may cost (each step is a forward and a backward pass over the text): the
    /// default allows the default 50 steps on a full 512-token review; longer texts or more steps get 413.
    /// </summary>
    public long MaxExplainCost { get; init; } = 50 * 512;

    /// <summary>Called on the builder before the app is built: e.g. tests call <c>builder.WebHost.UseTestServer()</c>.</summary>
    public Action<WebApplicationBuilder>? ConfigureBuilder { get; init; }

    /// <summary>Replaces the model call (tests: an inference that fails).</summary>
    internal Func<IReadOnlyList<string>, IReadOnlyList<Prediction>>? PredictOverride { get; init; }

    /// <summary>Replaces the explanation call (text, target label, steps) (tests: one that records when it runs).</summary>
    internal Func<string, string?, int, Explanation>? ExplainOverride { get; init; }

    internal void Validate()
    {
        if (Pipeline is null && string.IsNullOrWhiteSpace(Model))
            throw new ArgumentException("WebAppOptions needs a Model (folder or Hub id) or a Pipeline.");
        if (MaxBatchSize < 1) throw new ArgumentException($"The maximum batch size must be at least 1 (got {MaxBatchSize}).");
        if (BatchWindow < TimeSpan.Zero) throw new ArgumentException($"The batch window cannot be negative (got {BatchWindow.TotalMilliseconds} ms).");
        if (BatchWindow > TimeSpan.FromSeconds(10)) throw new ArgumentException($"The batch window must be at most 10 s (got {BatchWindow.TotalMilliseconds} ms).");
        if (MaxTexts < 1) throw new ArgumentException($"The maximum number of texts per request must be at least 1 (got {MaxTexts}).");
        if (MaxLength is < 2) throw new ArgumentException($"The maximum length must be at least 2 tokens, for [CLS] and [SEP] (got {MaxLength}).");
        if (MaxRequestBodyBytes < 1) throw new ArgumentException($"The request body limit must be positive (got {MaxRequestBodyBytes}).");
        if (MaxExplainSteps < 1) throw new ArgumentException($"The maximum explanation steps must be at least 1 (got {MaxExplainSteps}).");
        if (DefaultExplainSteps < 1 || DefaultExplainSteps > MaxExplainSteps)
            throw new ArgumentException($"The default explanation steps must be from 1 to {MaxExplainSteps} (got {DefaultExplainSteps}).");
        if (MaxExplainCost < 1) throw new ArgumentException($"The explanation cost limit must be positive (got {MaxExplainCost}).");
        if (string.IsNullOrWhiteSpace(Urls)) throw new ArgumentException("No URL to listen on.");
    }
}
