namespace BertSharp.Tokenization;

/// <summary>One encoded text (or text pair).</summary>
/// <param name="InputIds">Token ids, with [CLS]/[SEP] when special tokens were requested.</param>
/// <param name="AttentionMask">1 for every token: padding, and its 0s, is the collator's job (<see cref="Data.DataCollatorWithPadding"/>).</param>
/// <param name="TokenTypeIds">0 for the first sequence and its specials, 1 for the second sequence and its final [SEP].</param>
/// <param name="Truncated">Whether tokens were dropped to fit the maximum length.</param>
/// <param name="OriginalLength">The length, special tokens included, before truncation.</param>
public sealed record EncodedInput(int[] InputIds, int[] AttentionMask, int[] TokenTypeIds, bool Truncated, int OriginalLength);

/// <summary>A span of UTF-16 code units in a string, end exclusive: <c>text[Start..End]</c>.</summary>
public readonly record struct TextSpan(int Start, int End)
{
    public int Length => End - Start;
}

/// <summary>
/// An encoding with every token's place in the original text, like transformers' <c>return_offsets_mapping=True</c>
/// and <c>word_ids()</c>: <see cref="Offsets"/>[i] is token i's span in the text given to
/// <see cref="BertTokenizer.EncodeWithOffsets"/> ((0, 0) for [CLS] and [SEP]), and <see cref="WordIds"/>[i] the index
/// in <see cref="Words"/> of the word it belongs to (null for [CLS] and [SEP]).
/// </summary>
/// <param name="Encoding">The ids, exactly those <see cref="BertTokenizer.Encode"/> gives.</param>
/// <param name="Offsets">Each token's span in the original text: a "##" piece's own characters, an [UNK] its whole word.</param>
/// <param name="WordIds">Each token's word (the pre-tokenizer's words: split on whitespace, every punctuation mark alone).</param>
/// <param name="Words">The words with at least one token kept, in order; a word cut by truncation ends at its last kept piece.</param>
public sealed record EncodingWithOffsets(EncodedInput Encoding, IReadOnlyList<TextSpan> Offsets, IReadOnlyList<int?> WordIds, IReadOnlyList<TextSpan> Words);
