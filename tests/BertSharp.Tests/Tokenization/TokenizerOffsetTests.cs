using BertSharp.Tokenization;

namespace BertSharp.Tests.Tokenization;

/// <summary>
/// <see cref="BertTokenizer.EncodeWithOffsets"/>: the same ids as Hugging Face, and spans that round-trip to the
/// original text through lower-casing, accent stripping, CJK spacing, control characters, markup and emoji.
/// </summary>
public sealed class TokenizerOffsetTests
{
    private static BertTokenizer Tok => HfReference.BaseUncased;

    /// <summary>What every encoding must satisfy, whatever the text.</summary>
    private static void AssertRoundTrips(string text, EncodingWithOffsets encoding)
    {
        var ids = encoding.Encoding.InputIds;
        Assert.Equal(ids.Length, encoding.Offsets.Count);
        Assert.Equal(ids.Length, encoding.WordIds.Count);
        Assert.Equal(default, encoding.Offsets[0]);
        Assert.Equal(default, encoding.Offsets[^1]);
        Assert.Null(encoding.WordIds[0]);
        Assert.Null(encoding.WordIds[^1]);
        var previousEnd = 0;
        for (var w = 0; w < encoding.Words.Count; w++)
        {
            var word = encoding.Words[w];
            Assert.InRange(word.Start, previousEnd, text.Length);
            Assert.InRange(word.End, word.Start + 1, text.Length);
            // Between two words there is nothing the tokenizer would keep.
            Assert.Empty(Tok.Tokenize(text[previousEnd..word.Start]));
            previousEnd = word.End;

            var pieces = Enumerable.Range(1, ids.Length - 2).Where(i => encoding.WordIds[i] == w).ToList();
            Assert.NotEmpty(pieces);
            Assert.Equal(Enumerable.Range(pieces[0], pieces.Count), pieces); // a word's tokens are contiguous
            Assert.Equal(word.Start, encoding.Offsets[pieces[0]].Start);
            foreach (var i in pieces)
                Assert.True(encoding.Offsets[i].Start >= word.Start && encoding.Offsets[i].End <= word.End && encoding.Offsets[i].Length > 0,
                    $"token {i} '{Tok.ConvertIdsToTokens([ids[i]])[0]}' at {encoding.Offsets[i]} is outside its word {word}");
            // The word's original characters tokenize to exactly its tokens (the last word may be cut by truncation).
            var again = Tok.Encode(text[word.Start..word.End], truncation: false).InputIds[1..^1];
            var own = pieces.Select(i => ids[i]).ToArray();
            if (w < encoding.Words.Count - 1 || !encoding.Encoding.Truncated) Assert.Equal(again, own);
            else Assert.Equal(again[..own.Length], own);
            // Pieces follow each other, and in plain ASCII words each piece's characters are the piece itself.
            for (var k = 1; k < pieces.Count; k++) Assert.Equal(encoding.Offsets[pieces[k - 1]].End, encoding.Offsets[pieces[k]].Start);
            if (text[word.Start..word.End].All(char.IsAsciiLetterOrDigit) && !own.Contains(Tok.UnkTokenId))
                foreach (var i in pieces)
                    Assert.Equal(Tok.ConvertIdsToTokens([ids[i]])[0].Replace("##", ""), text[encoding.Offsets[i].Start..encoding.Offsets[i].End].ToLowerInvariant());
        }
        if (!encoding.Encoding.Truncated) Assert.Empty(Tok.Tokenize(text[previousEnd..]));
    }

    [Fact]
    public void IdsAreHuggingFacesAndSpansRoundTripOnAllReferenceTexts()
    {
        foreach (var c in HfReference.Cases)
        {
            var encoding = Tok.EncodeWithOffsets(c.Text);
            Assert.True(c.InputIds.SequenceEqual(encoding.Encoding.InputIds), $"case {c.Index}: ids differ from Hugging Face's");
            Assert.Equal(Tok.Encode(c.Text), encoding.Encoding, new EncodedInputComparer());
            AssertRoundTrips(c.Text, encoding);
        }
    }

    [Theory]
    [InlineData("Naïve café ÜMLAUT", new[] { "Naïve", "café", "ÜMLAUT" })]
    [InlineData("cafe\u0301 ok", new[] { "cafe\u0301", "ok" })] // a decomposed accent belongs to its word
    [InlineData("<br /><br />Great!", new[] { "<", "br", "/", ">", "<", "br", "/", ">", "Great", "!" })]
    [InlineData("so good 😀👍🏽 yes", new[] { "so", "good", "😀👍🏽", "yes" })]
    [InlineData("北京欢迎你 and 東京", new[] { "北", "京", "欢", "迎", "你", "and", "東", "京" })]
    [InlineData("zero\u200bwidth and\u0000nul", new[] { "zero\u200bwidth", "and\u0000nul" })]
    [InlineData("tab\tnew\r\nline", new[] { "tab", "new", "line" })]
    [InlineData("don't", new[] { "don", "'", "t" })]
    public void WordsAreTheOriginalCharacters(string text, string[] words)
    {
        var encoding = Tok.EncodeWithOffsets(text);
        Assert.Equal(words, encoding.Words.Select(w => text[w.Start..w.End]));
        AssertRoundTrips(text, encoding);
    }

    [Fact]
    public void PiecesOfALongWordCoverItInOrder()
    {
        const string text = "Supercalifragilisticexpialidocious!";
        var encoding = Tok.EncodeWithOffsets(text);
        var pieces = encoding.Offsets.Skip(1).Take(encoding.Offsets.Count - 3).ToList();
        Assert.True(pieces.Count > 3);
        Assert.Equal(0, pieces[0].Start);
        for (var i = 1; i < pieces.Count; i++) Assert.Equal(pieces[i - 1].End, pieces[i].Start);
        Assert.Equal(text.Length - 1, pieces[^1].End);
        Assert.Equal(new TextSpan(text.Length - 1, text.Length), encoding.Offsets[^2]);
    }

    [Fact]
    public void AnUnknownWordSpansTheWholeWord()
    {
        const string text = "x 😀abc y";
        var encoding = Tok.EncodeWithOffsets(text);
        Assert.Equal(Tok.UnkTokenId, encoding.Encoding.InputIds[2]);
        Assert.Equal(new TextSpan(2, 7), encoding.Offsets[2]);
    }

    [Fact]
    public void TruncatedReviewsKeepTheWordsBeforeTheCut()
    {
        foreach (var text in HfReference.ImdbTexts.Where(t => Tok.Encode(t).Truncated).Take(10))
        {
            var encoding = Tok.EncodeWithOffsets(text);
            Assert.Equal(512, encoding.Encoding.InputIds.Length);
            Assert.Equal(encoding.WordIds[^2], encoding.Words.Count - 1);
            Assert.Equal(encoding.Offsets[^2].End, encoding.Words[^1].End);
            AssertRoundTrips(text, encoding);
        }
        var small = Tok.EncodeWithOffsets("unbelievably good", maxLength: 4);
        Assert.Equal(4, small.Encoding.InputIds.Length);
        Assert.Single(small.Words);
        Assert.Equal(small.Offsets[2].End, small.Words[0].End);
        Assert.True(small.Words[0].End < "unbelievably".Length);
    }

    [Fact]
    public void EmptyAndBlankTextsHaveNoWords()
    {
        foreach (var text in new[] { "", "   ", "\u0000\u200b" })
        {
            var encoding = Tok.EncodeWithOffsets(text);
            Assert.Equal([Tok.ClsTokenId, Tok.SepTokenId], encoding.Encoding.InputIds);
            Assert.Empty(encoding.Words);
        }
    }

    private sealed class EncodedInputComparer : IEqualityComparer<EncodedInput>
    {
        public bool Equals(EncodedInput? a, EncodedInput? b) =>
            a!.InputIds.SequenceEqual(b!.InputIds) && a.AttentionMask.SequenceEqual(b.AttentionMask) && a.TokenTypeIds.SequenceEqual(b.TokenTypeIds)
            && a.Truncated == b.Truncated && a.OriginalLength == b.OriginalLength;

        public int GetHashCode(EncodedInput obj) => obj.InputIds.Length;
    }
}
