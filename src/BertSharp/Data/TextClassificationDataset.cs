using System.Collections;
using BertSharp.Tokenization;

namespace BertSharp.Data;

/// <summary>One labelled text. A negative label means "unlabelled" (IMDb's unsupervised split uses -1).</summary>
public sealed record TextExample(string Text, int Label);

/// <summary>
/// An immutable list of labelled texts that remembers where it came from, so that every error about it can say so.
/// Shuffling and selecting follow Hugging Face <c>datasets</c> exactly, so subsets match what Python users train on.
/// </summary>
public sealed class TextClassificationDataset : IReadOnlyList<TextExample>
{
    private readonly TextExample[] _examples;

    public TextClassificationDataset(IReadOnlyList<TextExample> examples, IReadOnlyList<string>? labelNames = null, string source = "in-memory")
        : this(CopyAndCheck(examples, source), CopyNames(labelNames, source), source, validateLabels: true, numLabels: null)
    {
    }

    private TextClassificationDataset(TextExample[] examples, IReadOnlyList<string>? labelNames, string source, bool validateLabels, int? numLabels)
    {
        ArgumentNullException.ThrowIfNull(source);
        _examples = examples;
        LabelNames = labelNames;
        Source = source;
        if (validateLabels && labelNames != null)
        {
            for (var i = 0; i < examples.Length; i++)
                if (examples[i].Label >= labelNames.Count)
                    throw new ArgumentException(
                        $"{source}: row {i} has label {examples[i].Label}, but there are only {labelNames.Count} label names ({string.Join(", ", labelNames)}).",
                        nameof(labelNames));
        }
        NumLabels = numLabels ?? labelNames?.Count ?? (examples.Length == 0 ? 0 : Math.Max(0, examples.Max(e => e.Label) + 1));
    }

    /// <summary>File path or description; every error message about this dataset starts with it.</summary>
    public string Source { get; }

    /// <summary>Class names by label id (e.g. <c>["neg", "pos"]</c>), when the source says them.</summary>
    public IReadOnlyList<string>? LabelNames { get; }

    /// <summary>
    /// <see cref="LabelNames"/>' count when known, else the largest label + 1. Subsets keep their parent's value:
    /// the classifier head must not shrink because a small sample happens to miss a class.
    /// </summary>
    public int NumLabels { get; }

    public int Count => _examples.Length;

    public TextExample this[int index] => _examples[index];

    public IEnumerator<TextExample> GetEnumerator() => ((IEnumerable<TextExample>)_examples).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Rows in <c>numpy.random.default_rng(seed).permutation(Count)</c> order, exactly like <c>datasets</c>' <c>shuffle(seed=seed)</c>.</summary>
    public TextClassificationDataset Shuffle(ulong seed)
    {
        var order = NumpyRandom.Permutation(seed, _examples.Length);
        var shuffled = new TextExample[order.Length];
        for (var i = 0; i < order.Length; i++)
            shuffled[i] = _examples[order[i]];
        return new TextClassificationDataset(shuffled, LabelNames, $"{Source}, shuffled (seed {seed})", validateLabels: false, NumLabels);
    }

    /// <summary>
    /// Rows <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> − 1, like <c>select(range(start, start + count))</c>.
    /// Asking for rows that do not exist is an error, not a silent shortfall. (Not called Select or Take: those are
    /// LINQ's, which this list also offers, with other meanings.)
    /// </summary>
    public TextClassificationDataset SelectRange(int start, int count)
    {
        if (start < 0 || count < 0)
            throw new ArgumentOutOfRangeException(start < 0 ? nameof(start) : nameof(count),
                $"SelectRange(start: {start}, count: {count}) on {Source}: start and count cannot be negative; it has {_examples.Length} rows.");
        if (start > _examples.Length - count)
            throw new ArgumentOutOfRangeException(start > _examples.Length ? nameof(start) : nameof(count),
                $"SelectRange(start: {start}, count: {count}) needs rows up to {(long)start + count - 1}, but {Source} has {_examples.Length} rows.");
        return new TextClassificationDataset(_examples.AsSpan(start, count).ToArray(), LabelNames,
            count == 0 ? $"{Source}, no rows" : $"{Source}, rows {start}-{start + count - 1}", validateLabels: false, NumLabels);
    }

    /// <summary>The first <paramref name="count"/> rows, like <c>select(range(count))</c>.</summary>
    public TextClassificationDataset SelectRange(int count) => SelectRange(0, count);

    /// <summary>How many rows carry each label, in label order.</summary>
    public IReadOnlyDictionary<int, int> LabelCounts()
    {
        var counts = new SortedDictionary<int, int>();
        foreach (var example in _examples)
            counts[example.Label] = counts.GetValueOrDefault(example.Label) + 1;
        return counts;
    }

    /// <summary>Fails early, naming the source, when a row has no label: training on -1 would only fail later inside the loss.</summary>
    public void EnsureLabeled() => LabelChecks.EnsureLabeled(Source, _examples.Length, i => _examples[i].Label >= 0);

    /// <summary>
    /// <c>dataset.map(tokenize)</c>: every text as token ids, truncated to <paramref name="maxLength"/> tokens ([CLS] and
    /// [SEP] included; default: the tokenizer's <c>model_max_length</c>), ready for the Trainer and its collator.
    /// </summary>
    public TokenizedDataset Tokenize(BertTokenizer tokenizer, int? maxLength = null, IProgress<int>? progress = null) =>
        TokenizedDataset.Tokenize(this, tokenizer, maxLength, progress);

    public static TextClassificationDataset FromParquet(string path, string textColumn = "text", string labelColumn = "label") =>
        ParquetLoader.Load(path, textColumn, labelColumn);

    public static Task<TextClassificationDataset> FromParquetAsync(string path, string textColumn = "text", string labelColumn = "label", CancellationToken cancellationToken = default) =>
        ParquetLoader.LoadAsync(path, textColumn, labelColumn, cancellationToken);

    /// <summary>
    /// RFC 4180 CSV with a header row. Labels are integers, or names that become ids in ordinal name order
    /// (then <see cref="LabelNames"/> holds the names).
    /// </summary>
    public static TextClassificationDataset FromCsv(string path, string textColumn = "text", string labelColumn = "label") =>
        DelimitedLoader.Load(path, ',', textColumn, labelColumn);

    /// <summary>Like <see cref="FromCsv"/>, with tabs between fields.</summary>
    public static TextClassificationDataset FromTsv(string path, string textColumn = "text", string labelColumn = "label") =>
        DelimitedLoader.Load(path, '\t', textColumn, labelColumn);

    /// <summary>One JSON object per line; labels are integers, or strings that become ids as in <see cref="FromCsv"/>.</summary>
    public static TextClassificationDataset FromJsonl(string path, string textField = "text", string labelField = "label") =>
        JsonlLoader.Load(path, textField, labelField);

    /// <summary>Picks the reader by extension: .parquet, .csv, .tsv, .jsonl (or .ndjson).</summary>
    public static TextClassificationDataset FromFile(string path, string textColumn = "text", string labelColumn = "label")
    {
        ArgumentNullException.ThrowIfNull(path);
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".parquet" => FromParquet(path, textColumn, labelColumn),
            ".csv" => FromCsv(path, textColumn, labelColumn),
            ".tsv" => FromTsv(path, textColumn, labelColumn),
            ".jsonl" or ".ndjson" => FromJsonl(path, textColumn, labelColumn),
            var other => throw new ArgumentException(
                $"{path}: cannot tell the format from the extension '{other}'; use .parquet, .csv, .tsv, .jsonl or .ndjson.", nameof(path)),
        };
    }

    /// <summary>For readers that built the array themselves and already checked it.</summary>
    internal static TextClassificationDataset FromTrusted(TextExample[] examples, IReadOnlyList<string>? labelNames, string source) =>
        new(examples, labelNames, source, validateLabels: false, numLabels: null);

    private static TextExample[] CopyAndCheck(IReadOnlyList<TextExample> examples, string source)
    {
        ArgumentNullException.ThrowIfNull(examples);
        var copy = new TextExample[examples.Count];
        for (var i = 0; i < copy.Length; i++)
        {
            var example = examples[i];
            if (example is null || example.Text is null)
                throw new ArgumentException($"{source}: row {i} is null or has null text.", nameof(examples));
            copy[i] = example;
        }
        return copy;
    }

    private static IReadOnlyList<string>? CopyNames(IReadOnlyList<string>? labelNames, string source)
    {
        if (labelNames == null)
            return null;
        var copy = labelNames.ToArray();
        if (copy.Any(n => n is null))
            throw new ArgumentException($"{source}: a label name is null.", nameof(labelNames));
        return Array.AsReadOnly(copy);
    }
}
