using BertSharp.Tokenization;

namespace BertSharp.Tests.Tokenization;

public sealed class TokenizerEncodingTests
{
    private static BertTokenizer Tok => HfReference.BaseUncased;
    private static int Id(string token) => Tok.ConvertTokenToId(token);
    private static string Words(int n) => string.Join(' ', Enumerable.Repeat("the", n));

    [Fact]
    public void LongTextIsTruncatedTo512WithSep()
    {
        string text = string.Join(' ', HfReference.ImdbTexts.Take(5));
        var enc = Tok.Encode(text);
        Assert.Equal(512, Tok.ModelMaxLength);
        Assert.Equal(512, enc.InputIds.Length);
        Assert.True(enc.Truncated);
        Assert.True(enc.OriginalLength > 512);
        Assert.Equal(Tok.ClsTokenId, enc.InputIds[0]);
        Assert.Equal(Tok.SepTokenId, enc.InputIds[^1]);
        Assert.Equal(Tok.Encode(text, truncation: false).InputIds[..511], enc.InputIds[..511]);
        Assert.Equal(enc.OriginalLength, Tok.Encode(text, truncation: false).InputIds.Length);
    }

    [Fact]
    public void SmallMaxLengthKeepsTheFirstTokens()
    {
        var enc = Tok.Encode("a b c d e", maxLength: 4);
        Assert.Equal([Tok.ClsTokenId, Id("a"), Id("b"), Tok.SepTokenId], enc.InputIds);
        Assert.True(enc.Truncated);
        Assert.Equal(7, enc.OriginalLength);
        Assert.False(Tok.Encode("a b", maxLength: 4).Truncated);
        Assert.Equal(7, Tok.Encode("a b c d e", maxLength: 4, truncation: false).InputIds.Length);
    }

    [Fact]
    public void MaxLengthAboveModelMaxLengthIsHonouredWhenExplicit()
    {
        string text = Words(700);
        Assert.Equal(512, Tok.Encode(text).InputIds.Length);
        var enc = Tok.Encode(text, maxLength: 1000);
        Assert.Equal(702, enc.InputIds.Length);
        Assert.False(enc.Truncated);
        Assert.Throws<ArgumentOutOfRangeException>(() => Tok.Encode(text, maxLength: 0));
    }

    [Fact]
    public void PairsGetTokenTypeIdsAndTwoSeps()
    {
        var enc = Tok.Encode("a b c", "d e");
        Assert.Equal([Tok.ClsTokenId, Id("a"), Id("b"), Id("c"), Tok.SepTokenId, Id("d"), Id("e"), Tok.SepTokenId], enc.InputIds);
        Assert.Equal([0, 0, 0, 0, 0, 1, 1, 1], enc.TokenTypeIds);
        Assert.Equal(Enumerable.Repeat(1, 8), enc.AttentionMask);
        Assert.Equal(8, enc.OriginalLength);
        Assert.False(enc.Truncated);
        var noSpecials = Tok.Encode("a b", "c", addSpecialTokens: false);
        Assert.Equal([Id("a"), Id("b"), Id("c")], noSpecials.InputIds);
        Assert.Equal([0, 0, 1], noSpecials.TokenTypeIds);
    }

    // Kept lengths measured with Hugging Face tokenizers 0.23.2 (longest_first), "the" repeated n1 and n2 times.
    [Theory]
    [InlineData(8, 3, 3, 2, 3)]
    [InlineData(8, 4, 3, 3, 2)]
    [InlineData(8, 3, 8, 2, 3)]
    [InlineData(12, 8, 2, 7, 2)]
    [InlineData(12, 6, 6, 4, 5)]
    [InlineData(12, 7, 5, 5, 4)]
    [InlineData(12, 6, 2, 6, 2)]
    [InlineData(4, 3, 2, 1, 0)]
    [InlineData(4, 1, 4, 0, 1)]
    [InlineData(3, 5, 5, 0, 0)]
    [InlineData(2, 3, 2, 2, 2)]
    [InlineData(1, 1, 4, 1, 1)]
    public void PairTruncationIsLongestFirst(int maxLength, int n1, int n2, int keep1, int keep2)
    {
        var enc = Tok.Encode(Words(n1), Words(n2), maxLength: maxLength);
        Assert.Equal(keep1 + 2, enc.TokenTypeIds.Count(t => t == 0));
        Assert.Equal(keep2 + 1, enc.TokenTypeIds.Count(t => t == 1));
        Assert.Equal(n1 + n2 + 3, enc.OriginalLength);
        Assert.Equal(keep1 != n1 || keep2 != n2, enc.Truncated);
    }

    [Theory]
    [InlineData(1, 5, 1)] // specials alone exceed max_length: the Rust tokenizer then caps the text at max_length
    [InlineData(2, 5, 0)]
    [InlineData(3, 5, 1)]
    [InlineData(6, 5, 4)]
    public void SingleTruncationMatchesRustAtTinyLengths(int maxLength, int n, int keep) =>
        Assert.Equal(keep + 2, Tok.Encode(Words(n), maxLength: maxLength).InputIds.Length);

    // Expected strings come from Hugging Face tokenizers 0.23.2's WordPiece decoder (cleanup on).
    [Theory]
    [InlineData("Hello, World! How are you?", "hello, world! how are you?")]
    [InlineData("don't can't I'm", "don ' t can ' t i ' m")]
    [InlineData("supercalifragilisticexpialidocious", "supercalifragilisticexpialidocious")]
    [InlineData("e-mail: someone@example.com $5.00", "e - mail : someone @ example. com $ 5. 00")]
    [InlineData("He said \"wow\" (really).", "he said \" wow \" ( really ).")]
    [InlineData("do not panic", "do not panic")]
    public void DecodeMatchesHuggingFace(string text, string expected)
    {
        var ids = Tok.Encode(text).InputIds;
        Assert.Equal(expected, Tok.Decode(ids));
        Assert.Equal("[CLS] " + expected + " [SEP]", Tok.Decode(ids, skipSpecialTokens: false));
    }

    [Fact]
    public void DecodeSkipsSpecialsAndUnknownIds()
    {
        Assert.Equal("hello", Tok.Decode([101, Id("hello"), Tok.UnkTokenId, 102, 0, 0, Tok.MaskTokenId, -5, 999_999]));
        Assert.Equal("", Tok.Decode([]));
    }

    [Fact]
    public void TokenIdConversions()
    {
        Assert.Equal(30522, Tok.VocabSize);
        Assert.Equal((0, 101, 102, 100, 103), (Tok.PadTokenId, Tok.ClsTokenId, Tok.SepTokenId, Tok.UnkTokenId, Tok.MaskTokenId));
        Assert.Equal(["[CLS]", "the", "movie", "##s"], Tok.ConvertIdsToTokens([101, 1996, 3185, 2015]));
        Assert.Equal(3185, Tok.ConvertTokenToId("movie"));
        Assert.Equal(Tok.UnkTokenId, Tok.ConvertTokenToId("not-a-token"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tok.ConvertIdsToTokens([30522]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tok.ConvertIdsToTokens([-1]));
    }
}
