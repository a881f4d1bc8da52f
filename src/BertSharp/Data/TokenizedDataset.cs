using BertSharp.Tokenization;

namespace BertSharp.Data;

/// <summary>One example after tokenisation: its ids ([CLS] … [SEP], truncated, not padded) and its label.</summary>
public sealed record TokenizedExample(int[] InputIds, int Label, bool Truncated);

/// <summary>
/// A dataset tokenised once up front, like <c>dataset.map(tokenize, batched=True)</c> in the Python tutorial; padding
/// is left to the collator so each batch pads only to its own longest example (dynamic padding).
/// </summary>
public sealed class TokenizedDataset : IReadOnlyList<TokenizedExample>
{
    private readonly TokenizedExample[] _examples;

    private TokenizedDataset(TokenizedExample[] examples, string source)
    {
        _examples = examples;
        Source = source;
    }

    public string Source { get; }
    public int Count => _examples.Length;
    public TokenizedExample this[int index] => _examples[index];

    /// <summary>Tokenises every text (in parallel: the tokenizer is thread-safe), truncating to <paramref name="maxLength"/>.</summary>
    public static TokenizedDataset Tokenize(TextClassificationDataset dataset, BertTokenizer tokenizer, int maxLength, IProgress<int>? progress = null)
    {
        if (dataset.Count == 0) throw new InvalidDataException($"{dataset.Source}: the dataset is empty.");
        var examples = new TokenizedExample[dataset.Count];
        var done = 0;
        Parallel.For(0, dataset.Count, i =>
        {
            var encoded = tokenizer.Encode(dataset[i].Text, maxLength: maxLength);
            examples[i] = new TokenizedExample(encoded.InputIds, dataset[i].Label, encoded.Truncated);
            var count = Interlocked.Increment(ref done);
            if (progress is not null && (count % 256 == 0 || count == examples.Length)) progress.Report(count);
        });
        return new TokenizedDataset(examples, dataset.Source);
    }

    public IEnumerator<TokenizedExample> GetEnumerator() => ((IEnumerable<TokenizedExample>)_examples).GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => _examples.GetEnumerator();
}
