using BertSharp.Tokenization;

namespace BertSharp.Tests.Tokenization;

/// <summary>The places where Microsoft.ML.Tokenizers' defaults and Hugging Face's BERT tokenisation part ways.</summary>
public sealed class TokenizerTrapTests
{
    private static BertTokenizer Tok => HfReference.BaseUncased;

    [Theory]
    [InlineData("<br />", new[] { "<", "br", "/", ">" })]
    [InlineData("$5|x", new[] { "$", "5", "|", "x" })]
    [InlineData("emoji 😀", new[] { "em", "##oj", "##i", "[UNK]" })]
    [InlineData("a\nb", new[] { "a", "b" })]
    [InlineData("a\r\nb\tc\u00A0d\u2028e", new[] { "a", "b", "c", "d", "e" })]
    [InlineData("snake_case", new[] { "snake", "_", "case" })]
    [InlineData("Café naïve", new[] { "cafe", "naive" })]
    [InlineData("北京abc東", new[] { "北", "京", "abc", "東" })]
    [InlineData("con\u0000tr\u0007ol\u200B\uFFFD\u00AD", new[] { "control" })]
    [InlineData("ÀÉÎÕÜ", new[] { "ae", "##io", "##u" })]
    [InlineData("[CLS] x", new[] { "[", "cl", "##s", "]", "x" })]
    [InlineData("", new string[0])]
    [InlineData(" \t\n ", new string[0])]
    public void TokenizesLikeHuggingFace(string text, string[] expected) =>
        Assert.Equal(expected, Tok.Tokenize(text));

    [Fact]
    public void WordsLongerThan100CharactersBecomeUnk()
    {
        Assert.Equal(["[UNK]"], Tok.Tokenize(new string('a', 200)));
        Assert.Equal(["[UNK]"], Tok.Tokenize(new string('a', 101)));
        Assert.Equal(50, Tok.Tokenize(new string('a', 100)).Count); // the limit is inclusive, as in the Rust library
        Assert.Equal(["x", "[UNK]", "y"], Tok.Tokenize("x " + new string('b', 150) + " y"));
    }

    [Fact]
    public void EmptyTextEncodesToClsSep()
    {
        var enc = Tok.Encode("");
        Assert.Equal([Tok.ClsTokenId, Tok.SepTokenId], enc.InputIds);
        Assert.Equal([101, 102], enc.InputIds);
        Assert.Equal([1, 1], enc.AttentionMask);
        Assert.Equal([0, 0], enc.TokenTypeIds);
        Assert.False(enc.Truncated);
        Assert.Equal(2, enc.OriginalLength);
    }

    [Fact]
    public void LowercasingFollowsRustNotDotNet()
    {
        // Rust's char::to_lowercase maps U+0130 to two code points ("i" + U+0307); .NET maps it to U+0130 or "i".
        var lowerOnly = new HfBertNormalizer(cleanText: true, handleChineseChars: true, stripAccents: false, lowercase: true);
        Assert.Equal("i\u0307stanbul", lowerOnly.Normalize("İstanbul"));
        Assert.Equal("abc i\u0307 \u0131", lowerOnly.Normalize("ABC İ ı"));
        // With accent stripping the dot is a decomposed mark and goes away before lowercasing.
        Assert.Equal(["istanbul"], Tok.Tokenize("İstanbul"));
        // Unicode 16 case pairs that .NET 10 does not lowercase yet.
        Assert.Equal("\u1C8A", lowerOnly.Normalize("\u1C89"));
        var noStrip = BertTokenizer.FromVocabFile(HfReference.VocabPath, stripAccents: false);
        Assert.False(noStrip.StripAccents);
        Assert.Equal(["cafe"], noStrip.Tokenize("cafe"));
        Assert.NotEqual(["cafe"], noStrip.Tokenize("café"));
    }

    [Fact]
    public void StripAccentsFollowsLowercaseWhenUnset()
    {
        var cased = BertTokenizer.FromVocabFile(HfReference.VocabPath, doLowerCase: false);
        Assert.Null(cased.StripAccents);
        Assert.Equal(["[UNK]"], cased.Tokenize("Café")); // neither lowercased nor stripped: not in an uncased vocabulary
        var casedStripped = BertTokenizer.FromVocabFile(HfReference.VocabPath, doLowerCase: false, stripAccents: true);
        Assert.Equal(["[UNK]"], casedStripped.Tokenize("Cafe")); // uppercase C stays
        Assert.Equal(["cafe"], casedStripped.Tokenize("café"));
    }

    [Fact]
    public void ChineseCharactersAreNotSplitWhenDisabled()
    {
        var noCjk = BertTokenizer.FromVocabFile(HfReference.VocabPath, tokenizeChineseChars: false);
        Assert.Equal(["北", "##京"], noCjk.Tokenize("北京")); // one word, matched piecewise
        Assert.Equal(["北", "京"], Tok.Tokenize("北京"));
        // The Rust ranges start Extension E at U+2B920 (Google's Python code says U+2B820); Rust wins here.
        var n = new HfBertNormalizer(true, true, true, true);
        Assert.Equal("a\U0002B820b", n.Normalize("a\U0002B820b"));
        Assert.Equal("a \U0002B920 b", n.Normalize("a\U0002B920b"));
    }

    [Fact]
    public void LoneSurrogatesAreDroppedInsteadOfThrowing()
    {
        Assert.Equal(["ab"], Tok.Tokenize("a\uD800b"));
        Assert.Equal(["ab"], Tok.Tokenize("a\uDC00b"));
    }

    [Fact]
    public void WordLengthIsCountedInCodePointsLikeRust()
    {
        // With supplementary-plane tokens in the vocabulary, 100 emoji (200 UTF-16 units) are still one matchable word.
        string dir = Directory.CreateTempSubdirectory("bertsharp-astral-").FullName;
        try
        {
            string vocab = Path.Combine(dir, "vocab.txt");
            File.WriteAllText(vocab, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n😀\n##😀\na\n##a\n");
            var tok = BertTokenizer.FromVocabFile(vocab);
            string Emoji(int n) => string.Concat(Enumerable.Repeat("😀", n));
            // Expected values come from Hugging Face tokenizers 0.23.2 with this vocabulary.
            Assert.Equal([5, .. Enumerable.Repeat(6, 99), 7], tok.Encode(Emoji(100) + " a", addSpecialTokens: false).InputIds);
            Assert.Equal([1, 7], tok.Encode(Emoji(101) + " a", addSpecialTokens: false).InputIds);
            Assert.Equal(100, tok.Tokenize(new string('a', 30) + Emoji(70)).Count);
            Assert.Equal(["[UNK]"], tok.Tokenize(new string('a', 31) + Emoji(70)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void EncodingIsThreadSafe()
    {
        var texts = HfReference.ImdbTexts;
        var sequential = texts.Select(t => Tok.Encode(t).InputIds).ToArray();
        var parallel = new int[texts.Count][];
        Parallel.For(0, texts.Count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => parallel[i] = Tok.Encode(texts[i]).InputIds);
        for (int i = 0; i < texts.Count; i++)
            Assert.Equal(sequential[i], parallel[i]);
    }
}
