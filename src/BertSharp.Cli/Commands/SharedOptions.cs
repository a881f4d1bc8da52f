using System.CommandLine;

namespace BertSharp.Cli.Commands;

internal static class SharedOptions
{
    public static Option<string> Model(string? defaultValue = null)
    {
        var option = new Option<string>("--model", "-m")
        {
            Description = "A local model folder or a Hugging Face Hub id (org/name[@revision]); HF_ENDPOINT points at a mirror.",
            Required = defaultValue is null,
        };
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        return option;
    }

    public static Option<string?> Text() => new("--text", "-t") { Description = "One text to process." };

    public static Option<FileInfo?> File() => new("--file", "-f") { Description = "A .jsonl file with one JSON string per line." };

    public static Option<bool> Json() => new("--json") { Description = "Print one JSON object per input on standard output." };

    public static Option<string> Dataset() => new("--dataset", "-d")
    {
        Description = "A Hub dataset id laid out like stanfordnlp/imdb, a folder with {split}.parquet/.csv/.jsonl, or a data file.",
        DefaultValueFactory = _ => "stanfordnlp/imdb",
    };

    public static Option<int> DataSeed() => new("--data-seed")
    {
        Description = "Seed of the subset order (numpy's default_rng permutation, as datasets' shuffle(seed=) uses).",
        DefaultValueFactory = _ => 42,
    };

    public static Option<int?> MaxLength() => new("--max-length") { Description = "Truncate to this many tokens, [CLS] and [SEP] included (default: the model's maximum, 512 for BERT)." };

    /// <summary>An option's value, or a usage error naming it when it is below <paramref name="minimum"/>.</summary>
    internal static int CheckAtLeast(int value, int minimum, string option) =>
        value >= minimum ? value : throw new CliUsageException($"{option} must be at least {minimum} (got {value})");
}
