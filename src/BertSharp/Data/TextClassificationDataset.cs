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
        : this(CopyAndCheck(examples, source), CopyNames(labelNames, source), source, validateLabels: true, numLabels: null, labelsFromNames: false)
    {
    }

    private TextClassificationDataset(TextExample[] examples, IReadOnlyList<string>? labelNames, string source, bool validateLabels, int? numLabels,
        bool labelsFromNames)
    {
        ArgumentNullException.ThrowIfNull(source);
        _examples = examples;
        LabelNames = labelNames;
        Source = source;
        LabelsFromNames = labelsFromNames;
        if (validateLabels && labelNames != null)
        {
            for (var i = 0; i < examples.Length; i++)
                if (examples[i].Label >= labelNames.Count)
                    throw new ArgumentException(
                        $"{source}: row {i} has label {examples[i].Label}, but there are only {labelNames.Count} label names ({string.Join(", ", labelNames)}).");
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

    /// <summary>
    /// True when the source gave its labels as names (a text file's "pos"/"neg"): the ids are then only the names'
    /// positions in sorted order, and only the names say which class a row is (see <see cref="WithLabelIds"/>).
    /// </summary>
    public bool LabelsFromNames { get; }

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
        return new TextClassificationDataset(shuffled, LabelNames, $"{Source}, shuffled (seed {seed})", validateLabels: false, NumLabels, LabelsFromNames);
    }

    /// <summary>
    /// Rows <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> − 1, like <c>select(range(start, start + count))</c>.
    /// Asking for rows that do not exist is an error, not a silent shortfall. (Not called Select or Take: those are
    /// LINQ's, which this list also offers, with other meanings.)
    /// </summary>
    public TextClassificationDataset SelectRange(int start, int count)
    {
        if (start < 0 || count < 0)
            throw new ArgumentOutOfRangeException(null,
                $"SelectRange(start: {start}, count: {count}) on {Source}: start and count cannot be negative; it has {_examples.Length} rows.");
        if (start > _examples.Length - count)
            throw new ArgumentOutOfRangeException(null,
                $"SelectRange(start: {start}, count: {count}) needs rows up to {(long)start + count - 1}, but {Source} has {_examples.Length} rows.");
        return new TextClassificationDataset(_examples.AsSpan(start, count).ToArray(), LabelNames,
            count == 0 ? $"{Source}, no rows" : $"{Source}, rows {start}-{start + count - 1}", validateLabels: false, NumLabels, LabelsFromNames);
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

    /// <summary>
    /// Fails, naming the source, the row and the value, unless this data can train (or be scored against) a
    /// single-label classifier of <paramref name="numLabels"/> classes: every row labelled with a class id in
    /// [0, <paramref name="numLabels"/>), at least two classes in the model, and — for training — at least two classes
    /// among the rows. One class teaches nothing: the loss falls to zero and the "trained" model answers that class for
    /// everything, with exit code 0.
    /// </summary>
    /// <param name="numLabels">The classifier's number of classes (its config's <c>num_labels</c>).</param>
    /// <param name="training">False for evaluation data, where a sample of one class is legitimate.</param>
    /// <exception cref="InvalidDataException">As described.</exception>
    public void EnsureClassificationLabels(int numLabels, bool training = true)
    {
        if (numLabels < 2)
            throw new InvalidDataException(
                $"{Source}: a classifier needs at least two classes, but there {(numLabels == 1 ? "is one" : $"are {numLabels}")}" +
                (LabelNames is { Count: 1 } only ? $" ('{only[0]}')" : "") + "; the data must have rows of at least two classes.");
        var unlabeled = Array.FindIndex(_examples, e => e.Label < 0);
        if (unlabeled >= 0)
            throw new InvalidDataException(
                $"{Source}: row {unlabeled} has no label ({_examples[unlabeled].Label}), and {_examples.Count(e => e.Label < 0)} of {_examples.Length} rows have none; " +
                "every row needs a class.");
        var outside = Array.FindIndex(_examples, e => e.Label >= numLabels);
        if (outside >= 0)
            throw new InvalidDataException(
                $"{Source}: row {outside} has label {Describe(_examples[outside].Label)}, but the classifier has {numLabels} classes (0 to {numLabels - 1}); " +
                $"{_examples.Count(e => e.Label >= numLabels)} of {_examples.Length} rows are outside them.");
        if (training && _examples.Length > 0 && _examples.All(e => e.Label == _examples[0].Label))
            throw new InvalidDataException(
                $"{Source}: every one of its {_examples.Length} rows has label {Describe(_examples[0].Label)}; a classifier cannot learn from a single class, " +
                "so the training data needs rows of at least two classes.");
    }

    /// <summary>
    /// This data with labels numbered as a model numbers them. Class names resolve through the model's
    /// <paramref name="label2id"/> (its config's <c>label2id</c>), so "pos" means the model's "pos" whatever position it
    /// sorts to here: a file of 20 "pos" reviews used to be scored as class 0 (the only name it had). Ids without names
    /// are kept and must be among the model's. Rows without a label (negative) stay so.
    /// </summary>
    /// <remarks>
    /// A model saved without label names (LABEL_0, LABEL_1, …) says nothing about names: ids from the file are then
    /// kept, and names from a text file are an error, because which id each means is unknown.
    /// </remarks>
    /// <param name="warn">Told when id labels whose names differ from the model's are kept as they are.</param>
    /// <exception cref="InvalidDataException">A name the model does not have (all the model's labels are listed), an id outside the model's range, or names a model without names cannot resolve.</exception>
    public TextClassificationDataset WithLabelIds(IReadOnlyDictionary<string, int> label2id, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(label2id);
        var modelNames = new string[label2id.Count];
        foreach (var (name, id) in label2id)
        {
            if ((uint)id >= (uint)modelNames.Length || modelNames[id] is not null)
                throw new ArgumentException($"label2id must number its {label2id.Count} labels 0 to {label2id.Count - 1} once each; '{name}' has {id}.");
            modelNames[id] = name;
        }
        var modelLabels = string.Join(", ", modelNames.Select((n, i) => $"{i}: {n}"));
        var unnamedModel = modelNames.Select((n, i) => n == $"LABEL_{i}").All(x => x);

        int[]? byDataId = null;
        if (LabelNames is { } dataNames && (LabelsFromNames || !unnamedModel))
        {
            byDataId = new int[dataNames.Count];
            for (var i = 0; i < dataNames.Count; i++)
                byDataId[i] = Resolve(dataNames[i], label2id, modelNames);
            var firstUnknown = Array.FindIndex(_examples, e => e.Label >= 0 && byDataId[e.Label] < 0);
            if (firstUnknown >= 0 && !LabelsFromNames && dataNames.Count == modelNames.Length)
            {
                // The file holds ids and only names them (IMDb's neg/pos against an SST-2 model's NEGATIVE/POSITIVE): as
                // transformers' run_glue does, the ids are taken as they are, and the mismatch is said rather than fatal.
                warn?.Invoke($"{Source}: its label names ({string.Join(", ", dataNames.Select((n, i) => $"{i}: {n}"))}) differ from the model's ({modelLabels}); " +
                             "its label ids are used as they are.");
                byDataId = null;
            }
            else if (firstUnknown >= 0)
            {
                var unknown = _examples.Where(e => e.Label >= 0 && byDataId[e.Label] < 0).Select(e => $"'{dataNames[e.Label]}'").Distinct().ToList();
                throw new InvalidDataException(unnamedModel
                    ? $"{Source}: its labels are names ({string.Join(", ", unknown)}), but the model's labels have no names ({modelLabels}), so which id each name means is unknown; " +
                      "use data with the model's ids, or a model saved with its label names (id2label)."
                    : $"{Source}: label {unknown[0]} (row {firstUnknown}) is not one of the model's labels ({modelLabels})" +
                      (unknown.Count > 1 ? $"; neither are {string.Join(", ", unknown.Skip(1))}." : "."));
            }
        }

        var mapped = new TextExample[_examples.Length];
        for (var i = 0; i < mapped.Length; i++)
        {
            var label = _examples[i].Label;
            var id = label < 0 ? label : byDataId?[label] ?? label;
            if (id >= modelNames.Length)
                throw new InvalidDataException(
                    $"{Source}: row {i} has label {label}, but the model has {modelNames.Length} labels ({modelLabels}); " +
                    $"{_examples.Count(e => e.Label >= modelNames.Length)} of {_examples.Length} rows are outside them.");
            mapped[i] = id == label ? _examples[i] : _examples[i] with { Label = id };
        }
        return new TextClassificationDataset(mapped, Array.AsReadOnly(modelNames), Source, validateLabels: false, modelNames.Length, labelsFromNames: false);
    }

    /// <summary>A data label's id in the model: the exact name, else the one name that differs only in case (as transformers' run_glue compares them); -1 when none.</summary>
    private static int Resolve(string name, IReadOnlyDictionary<string, int> label2id, string[] modelNames)
    {
        if (label2id.TryGetValue(name, out var id)) return id;
        var matches = modelNames.Select((n, i) => (n, i)).Where(x => string.Equals(x.n, name, StringComparison.OrdinalIgnoreCase)).ToList();
        return matches.Count == 1 ? matches[0].i : -1;
    }

    private string Describe(int label) => LabelNames is { } names && label >= 0 && label < names.Count ? $"{label} ('{names[label]}')" : $"{label}";

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
                $"{path}: cannot tell the format from the extension '{other}'; use .parquet, .csv, .tsv, .jsonl or .ndjson."),
        };
    }

    /// <summary>For readers that built the array themselves and already checked it.</summary>
    internal static TextClassificationDataset FromTrusted(TextExample[] examples, IReadOnlyList<string>? labelNames, string source, bool labelsFromNames = false) =>
        new(examples, labelNames, source, validateLabels: false, numLabels: null, labelsFromNames);

    private static TextExample[] CopyAndCheck(IReadOnlyList<TextExample> examples, string source)
    {
        ArgumentNullException.ThrowIfNull(examples);
        var copy = new TextExample[examples.Count];
        for (var i = 0; i < copy.Length; i++)
        {
            var example = examples[i];
            if (example is null || example.Text is null)
                throw new ArgumentException($"{source}: row {i} is null or has null text.");
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
            throw new ArgumentException($"{source}: a label name is null.");
        return Array.AsReadOnly(copy);
    }
}
