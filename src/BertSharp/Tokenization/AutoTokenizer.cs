using BertSharp.Hub;

namespace BertSharp.Tokenization;

/// <summary>
/// transformers' <c>AutoTokenizer.from_pretrained</c> for BERT: a local folder or a Hub id, fetching only the
/// tokenizer files that exist (transformers 5 saves tokenizer.json without vocab.txt; older repos the reverse).
/// </summary>
public static class AutoTokenizer
{
    private static readonly string[] Files = ["tokenizer_config.json", "vocab.txt", "tokenizer.json"];

    public static BertTokenizer FromPretrained(string modelIdOrPath, HubClient? hub = null, IProgress<DownloadProgress>? progress = null)
    {
        if (Directory.Exists(modelIdOrPath)) return BertTokenizer.FromDirectory(modelIdOrPath);
        using var owned = hub is null ? new HubClient() : null;
        var found = Files.Select(f => Pretrained.ResolveFile(modelIdOrPath, f, hub ?? owned, optional: true, progress))
            .OfType<string>().ToList();
        if (!found.Any(f => f.EndsWith("vocab.txt", StringComparison.Ordinal) || f.EndsWith("tokenizer.json", StringComparison.Ordinal)))
            throw new FileNotFoundException($"{modelIdOrPath}: the Hub repo has neither vocab.txt nor tokenizer.json.");
        // Hub files of one revision share a snapshot folder, so the folder loader sees them together.
        return BertTokenizer.FromDirectory(Path.GetDirectoryName(found[0])!);
    }
}
