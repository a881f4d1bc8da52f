using BertSharp.Hub;

namespace BertSharp.Data;

/// <summary>The IMDb Large Movie Review Dataset as the Hub's <c>stanfordnlp/imdb</c> serves it.</summary>
public static class Imdb
{
    public const string RepoId = "stanfordnlp/imdb";

    private static readonly string[] Splits = ["train", "test", "unsupervised"];

    /// <summary>The split's file inside the repository, e.g. <c>plain_text/train-00000-of-00001.parquet</c>.</summary>
    public static string SplitFile(string split)
    {
        ArgumentNullException.ThrowIfNull(split);
        if (!Splits.Contains(split, StringComparer.Ordinal))
            throw new ArgumentException($"IMDb has no split '{split}'; the splits are {string.Join(", ", Splits)}.");
        return DatasetLoader.HubSplitFile(split);
    }

    /// <summary>
    /// <c>load_dataset("stanfordnlp/imdb", split=split)</c>: from the Hub by default, or from <paramref name="source"/>,
    /// a local copy laid out like the repository (or a folder holding the Parquet files themselves). Only the split
    /// name is IMDb's own; finding and reading the files is <see cref="DatasetLoader"/>'s.
    /// </summary>
    public static TextClassificationDataset Load(string split, string source = RepoId, HubClient? hub = null, IProgress<DownloadProgress>? progress = null)
    {
        SplitFile(split);
        return DatasetLoader.Load(source, split, hub, progress);
    }
}
