using System.Diagnostics;

namespace BertSharp.Tokenization;

/// <summary>Single-threaded encoding throughput, comparable with Hugging Face's Rust tokenizer on one thread.</summary>
public static class TokenizerBenchmark
{
    /// <summary>Encodes every text once (with [CLS]/[SEP], truncated to <paramref name="maxLength"/>) and times it.</summary>
    /// <returns>Texts encoded, elapsed seconds, texts per second, and the number of tokens produced.</returns>
    public static (int Reviews, double Seconds, double ReviewsPerSecond, long Tokens) Run(BertTokenizer tok, IReadOnlyList<string> texts, int maxLength = 512)
    {
        ArgumentNullException.ThrowIfNull(tok);
        ArgumentNullException.ThrowIfNull(texts);
        // One warm-up pass over a few texts so JIT compilation and table initialisation are not timed.
        for (int i = 0; i < Math.Min(texts.Count, 50); i++)
            tok.Encode(texts[i], maxLength: maxLength);

        long tokens = 0;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < texts.Count; i++)
            tokens += tok.Encode(texts[i], maxLength: maxLength, truncation: true).InputIds.Length;
        sw.Stop();
        double seconds = sw.Elapsed.TotalSeconds;
        return (texts.Count, seconds, seconds > 0 ? texts.Count / seconds : double.PositiveInfinity, tokens);
    }
}
