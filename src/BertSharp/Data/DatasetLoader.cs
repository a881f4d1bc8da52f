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
                Path.Combine("plain_text", $"{split}-00000-of-00001.parquet"), $"{split}-00000-of-00001.parquet",
                $"{split}.parquet", $"{split}.csv", $"{split}.tsv", $"{split}.jsonl",
            }.Select(c => Path.Combine(datasetIdOrPath, c)).ToList();
            var found = candidates.FirstOrDefault(File.Exists)
                ?? throw new FileNotFoundException($"Dataset folder '{datasetIdOrPath}' has no '{split}' split: looked for {string.Join(", ", candidates.Select(Path.GetFileName))}.");
            return TextClassificationDataset.FromFile(found, textColumn, labelColumn);
        }
        if (!HubClient.IsValidRepoId(datasetIdOrPath.Split('@')[0]))
            throw new ArgumentException($"'{datasetIdOrPath}' is neither a data file, a folder, nor a Hub dataset id (org/name).");
        var (repo, revision) = datasetIdOrPath.Split('@') is [var r, var rev] ? (r, rev) : (datasetIdOrPath, "main");
        if (revision.Length == 0)
            throw new ArgumentException($"'{datasetIdOrPath}' names no revision after '@' (e.g. {repo}@main).");
        using var owned = hub is null ? new HubClient() : null;
        var client = hub ?? owned!;
        var file = $"plain_text/{split}-00000-of-00001.parquet";
        if (repo == Imdb.RepoId) file = Imdb.SplitFile(split);
        var path = client.DownloadFile(repo, file, RepoType.Dataset, revision, progress);
        return TextClassificationDataset.FromParquet(path, textColumn, labelColumn);
    }
}
