namespace BertSharp.Tokenization;

/// <summary>How <see cref="BertTokenizer.EncodeBatch"/> pads rows, as in Hugging Face's <c>padding=</c> argument.</summary>
public enum PaddingStrategy
{
    /// <summary>No padding: every row must already have the same length, since the batch is a rectangle.</summary>
    DoNotPad,
    /// <summary>Pad to the longest row of the batch (dynamic padding).</summary>
    Longest,
    /// <summary>Pad every row to the maximum length.</summary>
    MaxLength,
}

/// <summary>One encoded text (or text pair).</summary>
/// <param name="InputIds">Token ids, with [CLS]/[SEP] when special tokens were requested.</param>
/// <param name="AttentionMask">1 for every token (an unpadded row).</param>
/// <param name="TokenTypeIds">0 for the first sequence and its specials, 1 for the second sequence and its final [SEP].</param>
/// <param name="Truncated">Whether tokens were dropped to fit the maximum length.</param>
/// <param name="OriginalLength">The length, special tokens included, before truncation.</param>
public sealed record EncodedInput(int[] InputIds, int[] AttentionMask, int[] TokenTypeIds, bool Truncated, int OriginalLength);

/// <summary>
/// A padded batch as row-major <c>[Count, SequenceLength]</c> arrays, ready for
/// <c>torch.tensor(data, new long[] { Count, SequenceLength })</c>.
/// </summary>
public sealed class BatchEncoding
{
    internal BatchEncoding(int count, int sequenceLength, long[] inputIds, long[] attentionMask, long[] tokenTypeIds, int[] lengths, bool[] truncated)
    {
        Count = count;
        SequenceLength = sequenceLength;
        InputIds = inputIds;
        AttentionMask = attentionMask;
        TokenTypeIds = tokenTypeIds;
        Lengths = lengths;
        Truncated = truncated;
    }

    /// <summary>Number of rows.</summary>
    public int Count { get; }

    /// <summary>Padded length of every row.</summary>
    public int SequenceLength { get; }

    /// <summary>Token ids, padded on the right with the [PAD] id.</summary>
    public long[] InputIds { get; }

    /// <summary>1 for real tokens, 0 for padding.</summary>
    public long[] AttentionMask { get; }

    /// <summary>Segment ids; 0 on padding.</summary>
    public long[] TokenTypeIds { get; }

    /// <summary>Unpadded length of each row.</summary>
    public int[] Lengths { get; }

    /// <summary>Whether each row was truncated.</summary>
    public bool[] Truncated { get; }
}
