namespace BertSharp.Tokenization;

/// <summary>
/// Normalises a text the way <see cref="HfBertNormalizer"/> does while remembering where each output character came
/// from, which the normalizer itself cannot: it lower-cases, strips accents (é → e, or drops a combining mark), spaces
/// out CJK ideographs, turns control characters into nothing and whitespace into ' '. Every one of those steps maps
/// one code point to zero or more characters on its own, so normalising code point by code point and concatenating
/// gives the same string with an exact alignment. A code point that vanishes (a combining accent, a zero-width space)
/// is attached to the character before it, so a word's span in the original covers its accents.
/// </summary>
internal sealed class OffsetNormalizer(HfBertNormalizer normalizer)
{
    // Most review text is ASCII: its 128 normalisations are computed once.
    private readonly string[] _ascii = Enumerable.Range(0, 128).Select(c => normalizer.Normalize(((char)c).ToString())).ToArray();

    /// <summary>The normalised text, and for each of its characters the span of the original it came from.</summary>
    /// <exception cref="NotSupportedException">The text normalises differently as a whole than code point by code point
    /// (canonical reordering of unusual combining marks); offsets cannot be given for it.</exception>
    public (string Normalized, TextSpan[] Sources) Normalize(string text)
    {
        var output = new System.Text.StringBuilder(text.Length + 8);
        var sources = new List<TextSpan>(text.Length + 8);
        for (var i = 0; i < text.Length;)
        {
            var units = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            var piece = text[i] < 128 ? _ascii[text[i]] : normalizer.Normalize(text.AsSpan(i, units));
            if (piece.Length == 0)
            {
                // Attach what vanished to the previous character, unless that was whitespace (then it starts nothing).
                if (sources.Count > 0 && output[^1] != ' ' && sources[^1].End == i)
                    sources[^1] = sources[^1] with { End = i + units };
            }
            else
            {
                output.Append(piece);
                for (var k = 0; k < piece.Length; k++) sources.Add(new TextSpan(i, i + units));
            }
            i += units;
        }
        var normalized = output.ToString();
        var whole = normalizer.Normalize(text);
        if (!string.Equals(normalized, whole, StringComparison.Ordinal))
        {
            var at = 0;
            while (at < normalized.Length && at < whole.Length && normalized[at] == whole[at]) at++;
            var original = at < sources.Count ? sources[at].Start : text.Length;
            throw new NotSupportedException(
                $"Cannot map token offsets for this text: its normalisation as a whole differs from character by character near character {original} " +
                "(combining marks that Unicode reorders); the token ids are unaffected, only offsets cannot be given.");
        }
        return (normalized, sources.ToArray());
    }
}
