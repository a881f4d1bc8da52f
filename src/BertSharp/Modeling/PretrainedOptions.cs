using BertSharp.Hub;
using static TorchSharp.torch;

namespace BertSharp.Modeling;

/// <summary>Options of <c>FromPretrained</c>, named after transformers' keyword arguments.</summary>
public sealed record PretrainedOptions
{
    /// <summary>Number of classes for a new classification head; null keeps the checkpoint's.</summary>
    public int? NumLabels { get; init; }

    /// <summary>Label names for a new classification head (e.g. {0: "neg", 1: "pos"}).</summary>
    public IReadOnlyDictionary<int, string>? Id2Label { get; init; }

    /// <summary>
    /// Changes to the checkpoint's config before the model is built, like transformers' config keyword arguments
    /// (e.g. <c>c => c.ProblemType = "multi_label_classification"</c>, or for one family
    /// <c>c => ((BertConfig)c).HiddenDropoutProb = 0</c>); the config is validated again afterwards.
    /// </summary>
    public Action<PretrainedConfig>? ConfigOverrides { get; init; }

    /// <summary>Re-initialise (and report) weights whose shapes differ from the checkpoint's instead of failing.</summary>
    public bool IgnoreMismatchedSizes { get; init; }

    /// <summary>The Hub client for ids that are not local folders; null builds one from the HF_* environment variables.</summary>
    public HubClient? Hub { get; init; }

    public IProgress<DownloadProgress>? DownloadProgress { get; init; }

    /// <summary>Where the loaded model is placed; null keeps it on the CPU.</summary>
    public Device? Device { get; init; }

    /// <summary>Receives the loading report; the default writes it to standard error as transformers' logger does.</summary>
    public Action<string>? Log { get; init; } = message => Console.Error.WriteLine(message);
}
