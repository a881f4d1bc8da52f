using System.Text.Json;
using BertSharp.Hub;

namespace BertSharp.Tokenization;

/// <summary>
/// transformers' <c>AutoTokenizer.from_pretrained</c> for the BERT family: a local folder or a Hub id, fetching only the
/// tokenizer files that exist (transformers 5 saves tokenizer.json without vocab.txt; older repos the reverse). BERT and
/// DistilBERT share one WordPiece tokenizer; the class (tokenizer_config.json's <c>tokenizer_class</c>, else the one of
/// config.json's <c>model_type</c>, as transformers decides) sets <see cref="BertTokenizer.ModelInputNames"/> and is
/// written back on save.
/// </summary>
public static class AutoTokenizer
{
    private static readonly string[] Files = ["tokenizer_config.json", "vocab.txt", "tokenizer.json"];

    // transformers' TOKENIZER_MAPPING for the families BertSharp has: every one is the WordPiece tokenizer it implements.
    private static readonly Dictionary<string, string> ClassByModelType = new(StringComparer.Ordinal)
    {
        ["bert"] = "BertTokenizer",
        ["distilbert"] = "DistilBertTokenizer",
    };

    private static readonly string[] SupportedClasses = ["BertTokenizer", "BertTokenizerFast", "DistilBertTokenizer", "DistilBertTokenizerFast"];

    public static BertTokenizer FromPretrained(string modelIdOrPath, HubClient? hub = null, IProgress<DownloadProgress>? progress = null)
    {
        using var owned = hub is null && !Directory.Exists(modelIdOrPath) ? new HubClient() : null;
        hub ??= owned;
        string directory;
        if (Directory.Exists(modelIdOrPath))
        {
            directory = modelIdOrPath;
        }
        else
        {
            var found = Files.Select(f => Pretrained.ResolveFile(modelIdOrPath, f, hub, optional: true, progress))
                .OfType<string>().ToList();
            if (!found.Any(f => f.EndsWith("vocab.txt", StringComparison.Ordinal) || f.EndsWith("tokenizer.json", StringComparison.Ordinal)))
                throw new FileNotFoundException($"{modelIdOrPath}: the Hub repo has neither vocab.txt nor tokenizer.json.");
            // Hub files of one revision share a snapshot folder, so the folder loader sees them together.
            directory = Path.GetDirectoryName(found[0])!;
        }

        var tokenizerConfig = Path.Combine(directory, TokenizerFiles.ConfigFile);
        var tokenizerClass = File.Exists(tokenizerConfig) ? TokenizerFiles.ReadTokenizerClass(tokenizerConfig) : null;
        if (tokenizerClass is not null && !SupportedClasses.Contains(tokenizerClass, StringComparer.Ordinal))
            throw new NotSupportedException(
                $"{tokenizerConfig}: tokenizer_class '{tokenizerClass}' is not supported; BertSharp has the WordPiece tokenizers {string.Join(", ", SupportedClasses)}.");
        // Like transformers: without a class in tokenizer_config.json, the model's config.json decides.
        tokenizerClass ??= ClassOfModel(modelIdOrPath, hub, progress);
        return BertTokenizer.FromDirectory(directory, tokenizerClass);
    }

    private static string? ClassOfModel(string modelIdOrPath, HubClient? hub, IProgress<DownloadProgress>? progress)
    {
        var configPath = Pretrained.ResolveFile(modelIdOrPath, "config.json", hub, optional: true, progress);
        if (configPath is null) return null;
        using var config = TokenizerFiles.ParseJson(configPath);
        if (config.RootElement.ValueKind != JsonValueKind.Object
            || !config.RootElement.TryGetProperty("model_type", out var modelType) || modelType.ValueKind != JsonValueKind.String)
            return null;
        return ClassByModelType.TryGetValue(modelType.GetString()!, out var name) ? name
            : throw new NotSupportedException(
                $"{configPath}: model_type '{modelType.GetString()}' has no tokenizer in BertSharp; supported: {string.Join(", ", ClassByModelType.Keys)}.");
    }
}
