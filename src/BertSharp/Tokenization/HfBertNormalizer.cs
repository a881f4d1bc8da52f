using System.Buffers;
using System.Text;
using static BertSharp.Tokenization.UnicodeTables;
using MsNormalizer = Microsoft.ML.Tokenizers.Normalizer;

namespace BertSharp.Tokenization;

/// <summary>
/// Hugging Face's <c>BertNormalizer</c> (tokenizers crate) as a Microsoft.ML.Tokenizers normalizer:
/// clean text, space out CJK ideographs, strip accents (NFD, drop Mn), lowercase — in that order.
/// </summary>
/// <remarks>
/// Microsoft's own BertNormalizer differs from Hugging Face's (it deletes line breaks, drops some symbols,
/// keeps accents), so this replaces it through <c>BertOptions.Normalizer</c>. Stateless, hence thread-safe.
/// Offsets into the original text are not tracked: Microsoft's WordPiece only needs the normalized string.
/// </remarks>
internal sealed class HfBertNormalizer : MsNormalizer
{
    private const int StackLimit = 512;

    public HfBertNormalizer(bool cleanText, bool handleChineseChars, bool stripAccents, bool lowercase)
    {
        CleanText = cleanText;
        HandleChineseChars = handleChineseChars;
        StripAccents = stripAccents;
        Lowercase = lowercase;
    }

    public bool CleanText { get; }
    public bool HandleChineseChars { get; }
    public bool StripAccents { get; }
    public bool Lowercase { get; }

    public override string Normalize(string original) => Normalize(original.AsSpan());

    public override string Normalize(ReadOnlySpan<char> original)
    {
        if (original.IsEmpty)
            return string.Empty;

        // A CJK ideograph becomes " x ": at most three times the input.
        int capacity = original.Length * 3;
        char[]? rented = null;
        Span<char> cleaned = capacity <= StackLimit ? stackalloc char[StackLimit] : (rented = ArrayPool<char>.Shared.Rent(capacity));
        try
        {
            int length = CleanAndSpaceCjk(original, cleaned, out bool needsNfd);
            if (!StripAccents && !Lowercase)
                return new string(cleaned[..length]);
            if (StripAccents && needsNfd)
                return DecomposeStripAndLower(cleaned[..length]);
            return StripAndLower(cleaned[..length]);
        }
        finally
        {
            if (rented is not null)
                ArrayPool<char>.Shared.Return(rented);
        }
    }

    private int CleanAndSpaceCjk(ReadOnlySpan<char> input, Span<char> output, out bool needsNfd)
    {
        int w = 0;
        needsNfd = false;
        for (int i = 0; i < input.Length; i++)
        {
            char c = input[i];
            int cp = c;
            int units = 1;
            if (char.IsSurrogate(c))
            {
                // A lone surrogate cannot come from valid UTF-8, so Hugging Face never sees one; dropping it
                // is what a lossy UTF-8 round trip followed by clean_text would do.
                if (!char.IsHighSurrogate(c) || i + 1 >= input.Length || !char.IsLowSurrogate(input[i + 1]))
                    continue;
                cp = char.ConvertToUtf32(c, input[i + 1]);
                units = 2;
            }

            var cls = Classify(cp);
            if (CleanText)
            {
                if ((cls & CharClass.Dropped) != 0) { i += units - 1; continue; }
                if ((cls & CharClass.CleanSpace) != 0) { output[w++] = ' '; continue; }
            }

            bool cjk = HandleChineseChars && (cls & CharClass.Cjk) != 0;
            if (cjk) output[w++] = ' ';
            output[w++] = c;
            if (units == 2) output[w++] = input[++i];
            if (cjk) output[w++] = ' ';

            // Nothing below U+00C0 has a canonical decomposition, so pure ASCII/Latin-1-symbol text skips NFD.
            if (cp >= 0xC0)
                needsNfd = true;
        }
        return w;
    }

    /// <summary>NFD, then drop nonspacing marks and (optionally) lowercase.</summary>
    private string DecomposeStripAndLower(ReadOnlySpan<char> text)
    {
        int[] codePoints = ArrayPool<int>.Shared.Rent(text.Length * MaxDecompositionLength + 1);
        char[]? rented = null;
        try
        {
            int n = Decompose(text, codePoints);
            // Every code point is at most two UTF-16 units, and lowercasing at most doubles the count.
            int capacity = n * 4;
            Span<char> output = capacity <= StackLimit ? stackalloc char[StackLimit] : (rented = ArrayPool<char>.Shared.Rent(capacity));
            int w = 0;
            for (int i = 0; i < n; i++)
            {
                int cp = codePoints[i];
                var cls = Classify(cp);
                if ((cls & CharClass.NonspacingMark) != 0)
                    continue;
                w += WriteCased(cp, cls, output[w..]);
            }
            return new string(output[..w]);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(codePoints);
            if (rented is not null)
                ArrayPool<char>.Shared.Return(rented);
        }
    }

    /// <summary>Writes one code point, lower-cased when the model is uncased (one or more chars); returns chars written.</summary>
    private int WriteCased(int cp, CharClass cls, Span<char> output)
    {
        if (!Lowercase) return new Rune(cp).EncodeToUtf16(output);
        if ((cls & CharClass.LowerExpands) == 0) return new Rune(ToLower(cp)).EncodeToUtf16(output);
        var written = 0;
        foreach (int x in LowerExpansion(cp))
            written += new Rune(x).EncodeToUtf16(output[written..]);
        return written;
    }

    private string StripAndLower(ReadOnlySpan<char> text)
    {
        // Lowercasing can lengthen a code point (U+0130 -> "i\u0307"), never by more than a factor of two.
        int capacity = text.Length * 2;
        char[]? rented = null;
        Span<char> output = capacity <= StackLimit ? stackalloc char[StackLimit] : (rented = ArrayPool<char>.Shared.Rent(capacity));
        try
        {
            int w = 0;
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (c < 0x80)
                {
                    output[w++] = Lowercase && (uint)(c - 'A') <= 'Z' - 'A' ? (char)(c | 0x20) : c;
                    continue;
                }
                int cp = c;
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                    cp = char.ConvertToUtf32(c, text[++i]);

                var cls = Classify(cp);
                if (StripAccents && (cls & CharClass.NonspacingMark) != 0)
                    continue;
                w += WriteCased(cp, cls, output[w..]);
            }
            return new string(output[..w]);
        }
        finally
        {
            if (rented is not null)
                ArrayPool<char>.Shared.Return(rented);
        }
    }
}
