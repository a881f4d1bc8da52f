using BertSharp.Tokenization;

namespace BertSharp.Data;

/// <summary>One example after tokenisation: its ids ([CLS] … [SEP], truncated, not padded), its label (null when unlabelled) and whether it was cut.</summary>
public sealed record TokenizedExample(int[] InputIds, int? Label = null, bool Truncated = false);

/// <summary>
/// A dataset tokenised once up front — the Python tutorial's <c>dataset.map(tokenize, batched=True)</c> — and what the
/// <see cref="Training.Trainer"/> trains and evaluates on. Only the ids are kept: the attention mask is all ones until
/// the collator pads a batch, and single texts have segment 0 throughout, which the models assume when given none.
/// </summary>
public sealed class TokenizedDataset : IReadOnlyList<TokenizedExample>
{
    private readonly TokenizedExample[] _examples;

    /// <param name="examples">Tokenised examples; ids must not be empty.</param>
    /// <param name="source">Where they came from, for error messages.</param>
    /// <param name="maxLength">The length the ids were truncated to, specials included.</param>
    /// <param name="labelNames">Class names by label id, when the source named its labels.</param>
    /// <param name="numLabels">The parent dataset's number of classes (a subset may miss some).</param>
    public TokenizedDataset(IReadOnlyList<TokenizedExample> examples, string source, int maxLength, IReadOnlyList<string>? labelNames = null, int? numLabels = null)
    {
        ArgumentNullException.ThrowIfNull(examples);
        _examples = examples.ToArray();
        for (var i = 0; i < _examples.Length; i++)
            if (_examples[i]?.InputIds is not { Length: > 0 })
                throw new ArgumentException($"{source}: example {i} has no token ids.");
        Source = source;
        MaxLength = maxLength;
        LabelNames = labelNames;
        NumLabels = numLabels ?? labelNames?.Count ?? (_examples.Length == 0 ? 0 : _examples.Max(e => e.Label ?? -1) + 1);
    }

    public string Source { get; }

    /// <summary>The truncation length the ids were made with ([CLS] and [SEP] included).</summary>
    public int MaxLength { get; }

    public IReadOnlyList<string>? LabelNames { get; }

    /// <summary>The number of classes of the dataset this was tokenised from.</summary>
    public int NumLabels { get; }

    public int Count => _examples.Length;
    public TokenizedExample this[int index] => _examples[index];

    /// <summary>Token counts of every example, in order: what batching by length sorts on.</summary>
    public IReadOnlyList<int> Lengths => _examples.Select(e => e.InputIds.Length).ToArray();

    /// <summary>
    /// Tokenises every text (in parallel: the tokenizer is thread-safe), truncating to <paramref name="maxLength"/>
    /// tokens. Negative labels (IMDb's unsupervised split uses -1) become "no label".
    /// </summary>
    public static TokenizedDataset Tokenize(TextClassificationDataset dataset, BertTokenizer tokenizer, int? maxLength = null, IProgress<int>? progress = null)
    {
        if (dataset.Count == 0) throw new InvalidDataException($"{dataset.Source}: the dataset is empty.");
        var length = maxLength ?? tokenizer.ModelMaxLength;
        if (length < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), length, "The maximum length must leave room for [CLS] and [SEP] (at least 2).");
        var examples = new TokenizedExample[dataset.Count];
        var done = 0;
        Parallel.For(0, dataset.Count, i =>
        {
            var encoded = tokenizer.Encode(dataset[i].Text, maxLength: length);
            examples[i] = new TokenizedExample(encoded.InputIds, dataset[i].Label >= 0 ? dataset[i].Label : null, encoded.Truncated);
            var count = Interlocked.Increment(ref done);
            if (progress is not null && (count % 256 == 0 || count == examples.Length)) progress.Report(count);
        });
        return new TokenizedDataset(examples, dataset.Source, length, dataset.LabelNames, dataset.NumLabels);
    }

    /// <summary>
    /// SHA-256 of the token ids, labels and truncation length of every example in order: equal exactly when the same
    /// texts, in the same order, were tokenised the same way. A resumed run compares it with its checkpoint's.
    /// </summary>
    public string Fingerprint()
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var word = new byte[4];
        void Add(int value)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(word, value);
            hash.AppendData(word);
        }
        Add(_examples.Length);
        Add(MaxLength);
        foreach (var example in _examples)
        {
            Add(example.Label ?? -1);
            Add(example.InputIds.Length);
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(example.InputIds.AsSpan()));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>How many examples carry each label, in label order.</summary>
    public IReadOnlyDictionary<int, int> LabelCounts()
    {
        var counts = new SortedDictionary<int, int>();
        foreach (var example in _examples)
            if (example.Label is { } label) counts[label] = counts.GetValueOrDefault(label) + 1;
        return counts;
    }

    /// <summary>Fails, naming the source, when an example has no label: training or evaluating on it would only fail later inside the loss.</summary>
    public void EnsureLabeled() => LabelChecks.EnsureLabeled(Source, _examples.Length, i => _examples[i].Label is not null);

    public IEnumerator<TokenizedExample> GetEnumerator() => ((IEnumerable<TokenizedExample>)_examples).GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => _examples.GetEnumerator();
}
