using BertSharp.Hub;

namespace BertSharp.Data;

/// <summary>
/// <c>load_dataset(name, split=...)</c> for text classification: a data file, a local folder, or a Hub dataset
/// repository laid out like <c>stanfordnlp/imdb</c> (<c>plain_text/{split}-00000-of-00001.parquet</c>).
/// </summary>
public static class DatasetLoader
{
    public static TextClassificationDataset Load(string datasetIdOrPath, string split, HubClient? hub = null,
        IProgress<DownloadProgress>? progress = null, string textColumn = "text", string labelColumn = "label")
    {
        if (File.Exists(datasetIdOrPath)) return TextClassificationDataset.FromFile(datasetIdOrPath, textColumn, labelColumn);
        if (Directory.Exists(datasetIdOrPath))
        {
            var candidates = new[]
            {
                HubSplitFile(split), Path.GetFileName(HubSplitFile(split)),
                $"{split}.parquet", $"{split}.csv", $"{split}.tsv", $"{split}.jsonl",
            }.Select(c => Path.Combine(datasetIdOrPath, c)).ToList();
            var found = candidates.FirstOrDefault(File.Exists)
                ?? throw new FileNotFoundException($"Dataset folder '{datasetIdOrPath}' has no '{split}' split: looked for {string.Join(", ", candidates.Select(Path.GetFileName))}.");
            return TextClassificationDataset.FromFile(found, textColumn, labelColumn);
        }
        if (!RepoReference.TryParse(datasetIdOrPath, out var repo))
            throw new ArgumentException($"'{datasetIdOrPath}' is neither a data file, a folder, nor a Hub dataset id (org/name[@revision]).");
        using var owned = hub is null ? new HubClient() : null;
        var client = hub ?? owned!;
        var path = client.DownloadFile(repo.RepoId, HubSplitFile(split), RepoType.Dataset, repo.Revision, progress);
        return TextClassificationDataset.FromParquet(path, textColumn, labelColumn);
    }

    /// <summary>Where the Hub's Parquet conversion of a single-config dataset (like stanfordnlp/imdb) keeps a split.</summary>
    internal static string HubSplitFile(string split) => $"plain_text/{split}-00000-of-00001.parquet";
}
