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
        return $"plain_text/{split}-00000-of-00001.parquet";
    }

    /// <summary>
    /// Loads a split from <paramref name="localDirectory"/> (a folder holding <c>plain_text/…</c>, or the Parquet
    /// files themselves), or else from the local path that <paramref name="download"/> returns for
    /// <see cref="SplitFile"/>. Kept free of any Hub client so callers choose how files arrive.
    /// </summary>
    public static TextClassificationDataset Load(string split, string? localDirectory = null, Func<string, string>? download = null)
    {
        var file = SplitFile(split);
        string path;
        if (localDirectory != null)
        {
            if (!Directory.Exists(localDirectory))
                throw new DirectoryNotFoundException($"IMDb folder '{localDirectory}' does not exist.");
            var nested = Path.Combine(localDirectory, file);
            var flat = Path.Combine(localDirectory, Path.GetFileName(file));
            path = File.Exists(nested) ? nested
                : File.Exists(flat) ? flat
                : throw new FileNotFoundException(
                    $"IMDb split '{split}' is not in '{localDirectory}': looked for {nested} and {flat}.", nested);
        }
        else if (download != null)
        {
            path = download(file);
            if (string.IsNullOrEmpty(path) || !File.Exists(path))
                throw new FileNotFoundException(
                    $"Downloading {RepoId}/{file} returned '{path}', which is not a file.", path);
        }
        else
        {
            throw new ArgumentException(
                $"Loading IMDb split '{split}' needs a localDirectory holding {file}, or a download function that fetches it from {RepoId}.");
        }
        return TextClassificationDataset.FromParquet(path);
    }
}
