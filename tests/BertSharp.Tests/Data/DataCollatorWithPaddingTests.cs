using BertSharp.Data;
using BertSharp.Tests.Tokenization;
using BertSharp.Tokenization;
using static TorchSharp.torch;

namespace BertSharp.Tests.Data;

public sealed class DataCollatorWithPaddingTests
{
    private static BertTokenizer Tok => HfReference.BaseUncased;
    private static int Id(string token) => Tok.ConvertTokenToId(token);
    private static TokenizedExample Example(string text, int? label = null, int? maxLength = null)
    {
        var encoded = Tok.Encode(text, maxLength: maxLength);
        return new TokenizedExample(encoded.InputIds, label, encoded.Truncated);
    }

    private static long[] Row(Tensor t, int row) => t[row].data<long>().ToArray();

    [Fact]
    public void LongestPadsEveryRowToTheBatchsLongestWithPadIdAndMaskZero()
    {
        var batch = new DataCollatorWithPadding(Tok.PadTokenId).Collate([Example("hello world"), Example("hi"), Example("a b c d")], CPU);
        Assert.Equal((3, 6), (batch.Size, batch.SequenceLength));
        Assert.Equal([101L, Id("hello"), Id("world"), 102, 0, 0], Row(batch.InputIds, 0));
        Assert.Equal([101L, Id("hi"), 102, 0, 0, 0], Row(batch.InputIds, 1));
        Assert.Equal([1L, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1], batch.AttentionMask.data<long>().ToArray());
        Assert.Null(batch.Labels); // prediction: no labels, no fake ones
    }

    [Fact]
    public void ABatchWithoutPaddingHandsTheModelNoMaskAndTheSameLogits()
    {
        var collator = new DataCollatorWithPadding(Tok.PadTokenId);
        var padded = collator.Collate([Example("hello world"), Example("hi")], CPU);
        Assert.True(padded.HasPadding);
        Assert.Same(padded.AttentionMask, padded.ModelAttentionMask);
        var even = collator.Collate([Example("hello world"), Example("good film")], CPU);
        Assert.False(even.HasPadding);
        Assert.Null(even.ModelAttentionMask);
        Assert.Equal(Enumerable.Repeat(1L, 8), even.AttentionMask.data<long>().ToArray()); // still there for callers that read it

        // Without padding, no mask and an all-ones mask are the same attention: bit-identical logits.
        using var model = BertSharp.Tests.Training.TrainerTests.StandIn();
        model.eval();
        using var noGrad = no_grad();
        var withMask = model.ForwardWithLoss(even.InputIds, even.AttentionMask, null, null).Logits;
        var withoutMask = model.ForwardWithLoss(even.InputIds, even.ModelAttentionMask, null, null).Logits;
        Assert.True(TestSupport.TensorAssert.BitEqual(withMask, withoutMask));
    }

    [Fact]
    public void MaxLengthPadsToTheFixedLengthAndRefusesLongerExamples()
    {
        var collator = new DataCollatorWithPadding(Tok.PadTokenId, PaddingStrategy.MaxLength, maxLength: 8);
        var batch = collator.Collate([Example("hello world", 0), Example("a b c d e f g h i j", 1, maxLength: 8)], CPU);
        Assert.Equal(8, batch.SequenceLength);
        Assert.Equal([1L, 1, 1, 1, 0, 0, 0, 0], Row(batch.AttentionMask, 0));
        Assert.Equal(Enumerable.Repeat(1L, 8), Row(batch.AttentionMask, 1));
        Assert.Equal(102L, Row(batch.InputIds, 1)[7]);
        Assert.Equal([0L, 1], batch.Labels!.data<long>().ToArray());
        var error = Assert.Throws<ArgumentException>(() => collator.Collate([Example("a b c d e f g h i j")], CPU));
        Assert.Contains("maxLength: 8", error.Message);
        Assert.Throws<ArgumentException>(() => new DataCollatorWithPadding(0, PaddingStrategy.MaxLength));
    }

    [Fact]
    public void RowsEqualSingleEncodingsFollowedByPadding()
    {
        var texts = HfReference.ImdbTexts.Take(40).ToList();
        var batch = new DataCollatorWithPadding(Tok.PadTokenId).Collate(texts.Select(t => Example(t)).ToList(), CPU);
        for (var i = 0; i < texts.Count; i++)
        {
            var single = Tok.Encode(texts[i]).InputIds;
            var row = Row(batch.InputIds, i);
            Assert.Equal(single.Select(x => (long)x), row[..single.Length]);
            Assert.All(row[single.Length..], x => Assert.Equal((long)Tok.PadTokenId, x));
            Assert.Equal(single.Length, Row(batch.AttentionMask, i).Sum());
        }
        Assert.Equal(512, batch.SequenceLength);
    }

    [Fact]
    public void DoNotPadNeedsEqualLengthsAndLabelsAreAllOrNothing()
    {
        var collator = new DataCollatorWithPadding(Tok.PadTokenId, PaddingStrategy.DoNotPad);
        Assert.Equal(4, collator.Collate([Example("a b"), Example("c d")], CPU).SequenceLength);
        Assert.Throws<ArgumentException>(() => collator.Collate([Example("a b"), Example("c")], CPU));
        Assert.Throws<ArgumentException>(() => collator.Collate([], CPU));
        var mixed = Assert.Throws<ArgumentException>(() => new DataCollatorWithPadding(0).Collate([Example("a", 1), Example("b")], CPU));
        Assert.Contains("1 of the batch's 2 examples", mixed.Message);
    }
}
