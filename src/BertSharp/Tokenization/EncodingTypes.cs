namespace BertSharp.Tokenization;

/// <summary>One encoded text (or text pair).</summary>
/// <param name="InputIds">Token ids, with [CLS]/[SEP] when special tokens were requested.</param>
/// <param name="AttentionMask">1 for every token: padding, and its 0s, is the collator's job (<see cref="Data.DataCollatorWithPadding"/>).</param>
/// <param name="TokenTypeIds">0 for the first sequence and its specials, 1 for the second sequence and its final [SEP].</param>
/// <param name="Truncated">Whether tokens were dropped to fit the maximum length.</param>
/// <param name="OriginalLength">The length, special tokens included, before truncation.</param>
public sealed record EncodedInput(int[] InputIds, int[] AttentionMask, int[] TokenTypeIds, bool Truncated, int OriginalLength);
