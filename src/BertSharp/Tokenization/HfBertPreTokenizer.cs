using static BertSharp.Tokenization.UnicodeTables;
using MsPreTokenizer = Microsoft.ML.Tokenizers.PreTokenizer;

namespace BertSharp.Tokenization;

/// <summary>
/// Hugging Face's <c>BertPreTokenizer</c> as a Microsoft.ML.Tokenizers pre-tokenizer: split on whitespace
/// (Rust's <c>char::is_whitespace</c>), then isolate every punctuation character.
/// </summary>
/// <remarks>
/// Replaces Microsoft's regex-based word/punctuation splitter, which keeps '_' inside words and drops
/// symbols such as '&lt;', '$' and '|' that Hugging Face isolates. No regex and one list per call.
/// </remarks>
internal sealed class HfBertPreTokenizer : MsPreTokenizer
{
    public static HfBertPreTokenizer Instance { get; } = new();

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) =>
        text is null ? [] : Split(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text);

    internal static List<(int Offset, int Length)> Split(ReadOnlySpan<char> text)
    {
        var words = new List<(int Offset, int Length)>(text.Length / 5 + 4);
        int start = -1;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            int units = 1;
            CharClass cls;
            if (c < 0x80)
            {
                cls = c == ' ' || (uint)(c - '\t') <= '\r' - '\t' ? CharClass.Whitespace
                    : IsAsciiPunctuation(c) ? CharClass.Punctuation
                    : CharClass.None;
            }
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cls = Classify(char.ConvertToUtf32(c, text[i + 1]));
                units = 2;
            }
            else
            {
                cls = Classify(c);
            }

            if ((cls & CharClass.Whitespace) != 0)
            {
                Flush(words, ref start, i);
            }
            else if ((cls & CharClass.Punctuation) != 0)
            {
                Flush(words, ref start, i);
                words.Add((i, units));
            }
            else if (start < 0)
            {
                start = i;
            }
            i += units - 1;
        }
        Flush(words, ref start, text.Length);
        return words;
    }

    private static bool IsAsciiPunctuation(char c) =>
        c is (>= '!' and <= '/') or (>= ':' and <= '@') or (>= '[' and <= '`') or (>= '{' and <= '~');

    private static void Flush(List<(int Offset, int Length)> words, ref int start, int end)
    {
        if (start >= 0)
        {
            words.Add((start, end - start));
            start = -1;
        }
    }
}
