using BertSharp.Inference;
using BertSharp.Modeling;
using BertSharp.Tests.TestSupport;
using BertSharp.Training;
using static TorchSharp.torch;

namespace BertSharp.Tests.Inference;

/// <summary><see cref="TextClassificationPipeline.Explain"/>: what it returns, and what it leaves as it was.</summary>
public class ExplainTests
{
    private static readonly PretrainedOptions Quiet = new() { Log = _ => { } };

    internal static TextClassificationPipeline Pipeline(int? maxLength = null)
    {
        manual_seed(5);
        return TextClassificationPipeline.FromPretrained(SharedFiles.TinyModelDir, Quiet, maxLength);
    }

    [Fact]
    public void TheExplanationCarriesThePredictionTokensWordsAndOffsets()
    {
        using var pipeline = Pipeline();
        const string text = "Naïve but <b>charming</b>: I loved it!";
        var explanation = pipeline.Explain(text);
        var prediction = pipeline.Predict(text);
        Assert.Equal(prediction.Label, explanation.Prediction.Label);
        Assert.Equal(prediction.Logits, explanation.Prediction.Logits, (a, b) => Math.Abs(a - b) < 1e-5);
        Assert.Equal(prediction.LabelId, explanation.TargetLabelId);
        Assert.Equal(prediction.Label, explanation.TargetLabel);
        Assert.Equal(prediction.Logits[prediction.LabelId], explanation.TargetLogit, 1e-5);
        Assert.Equal(AttributionMethod.IntegratedGradients, explanation.Method);
        Assert.Equal(IntegrationMethod.GaussLegendre, explanation.Integration);
        Assert.Equal(50, explanation.Steps);
        Assert.False(explanation.Truncated);

        Assert.Equal(pipeline.Tokenizer.Encode(text).InputIds, explanation.Tokens.Select(t => t.TokenId));
        Assert.Equal("[CLS]", explanation.Tokens[0].Token);
        Assert.Equal("[SEP]", explanation.Tokens[^1].Token);
        Assert.Null(explanation.Tokens[0].Word);
        Assert.Equal(["Naïve", "but", "<", "b", ">", "charming", "<", "/", "b", ">", ":", "I", "loved", "it", "!"], explanation.Words.Select(w => w.Word));
        foreach (var word in explanation.Words)
        {
            Assert.Equal(text[word.Start..word.End], word.Word);
            var tokens = explanation.Tokens.Skip(word.FirstToken).Take(word.TokenCount).ToList();
            Assert.All(tokens, t => Assert.InRange(t.Start, word.Start, word.End));
            Assert.Equal(tokens.Sum(t => t.Attribution), word.Attribution, 1e-12);
        }
    }

    [Fact]
    public void AnotherTargetLabelCanBeExplainedByNameOrIdAndUnknownOnesAreNamed()
    {
        using var pipeline = Pipeline();
        var predicted = pipeline.Explain("Dull.");
        var other = 1 - predicted.TargetLabelId;
        var byName = pipeline.Explain("Dull.", pipeline.Model.Config.Id2Label[other]);
        var byId = pipeline.Explain("Dull.", other.ToString());
        Assert.Equal(other, byName.TargetLabelId);
        Assert.Equal(byName.Tokens.Select(t => t.Attribution), byId.Tokens.Select(t => t.Attribution));
        Assert.Equal(predicted.Prediction.Label, byName.Prediction.Label); // the prediction stays the model's
        var e = Assert.Throws<ArgumentException>(() => pipeline.Explain("Dull.", "positive"));
        Assert.Contains("Unknown label 'positive'; the model's labels are LABEL_0, LABEL_1", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => pipeline.Explain("Dull.", steps: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => pipeline.Explain("Dull.", steps: 1, integration: IntegrationMethod.RiemannTrapezoid));
    }

    [Fact]
    public void WeightsGradientsModeAndPredictionsAreUnchangedAfterwards()
    {
        using var pipeline = Pipeline();
        var model = pipeline.Model;
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        var predictionBefore = pipeline.Predict("A moving, funny film.");
        model.train(); // a caller left it in training mode: Explain must still run without dropout, and restore it

        var first = pipeline.Explain("A moving, funny film.");
        var second = pipeline.Explain("A moving, funny film.");
        var gradientTimesInput = pipeline.Explain("A moving, funny film.", method: AttributionMethod.GradientTimesInput);

        Assert.True(model.training);
        Assert.Equal(first.Tokens.Select(t => t.Attribution), second.Tokens.Select(t => t.Attribution)); // no dropout: deterministic
        Assert.Null(gradientTimesInput.ConvergenceDelta);
        Assert.All(model.parameters(), p => Assert.True(p.grad is null, "a parameter got a gradient"));
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
        foreach (var (name, tensor) in model.state_dict())
            Assert.True(TensorAssert.BitEqual(before[name], tensor), $"{name} changed");
        model.eval();
        Assert.Equal(predictionBefore.Logits, pipeline.Predict("A moving, funny film.").Logits);
        Assert.True(is_grad_enabled(), "Explain left gradients switched off");
    }

    [Fact]
    public void ALongReviewIsTruncatedAtMaxLengthAndItsWordsStopAtTheCut()
    {
        using var pipeline = Pipeline();
        var review = string.Join(' ', Enumerable.Range(0, 400).Select(i => i % 9 == 0 ? "wonderfully" : i % 5 == 0 ? "café<br />" : "film"));
        var explanation = pipeline.Explain(review, steps: 8);
        Assert.True(explanation.Truncated);
        Assert.Equal(512, explanation.Tokens.Count);
        Assert.Equal(pipeline.Tokenizer.Encode(review).InputIds, explanation.Tokens.Select(t => t.TokenId));
        var last = explanation.Words[^1];
        Assert.Equal(explanation.Tokens[^2].End, last.End);
        Assert.True(last.End < review.Length);
        Assert.All(explanation.Words, w => Assert.Equal(review[w.Start..w.End], w.Word));
    }

    [Fact]
    public void FaithfulnessDeletesTheRankedWordsTokens()
    {
        using var pipeline = Pipeline();
        var explanation = pipeline.Explain("Lovely acting; dreadful script.");
        var ranking = Faithfulness.Ranking(explanation);
        Assert.Equal(explanation.Words.Count, ranking.Length);
        Assert.True(explanation.Words[ranking[0]].Attribution >= explanation.Words[ranking[^1]].Attribution);
        var without = Faithfulness.WithoutWords(explanation, [ranking[0]]);
        var removed = explanation.Words[ranking[0]];
        Assert.Equal(explanation.Tokens.Count - removed.TokenCount, without.Length);
        Assert.Equal(pipeline.Tokenizer.ClsTokenId, without[0]);
        Assert.Equal(pipeline.Tokenizer.SepTokenId, without[^1]);

        var result = Faithfulness.Run(pipeline, ["Lovely acting; dreadful script.", "A dull, lifeless and far too long film."], maxWords: 3, steps: 8, randomDraws: 2);
        Assert.Equal(3, result.Curves.Count);
        Assert.All(result.Curves, c => Assert.Equal(3, c.ProbabilityDrop.Count));
        // AOPC up to k is the mean of (0, drop_1, ..., drop_k).
        var ig = result.Curves[0];
        Assert.Equal((ig.ProbabilityDrop[0] + ig.ProbabilityDrop[1]) / 3, ig.Aopc[1], 1e-12);
    }
}

/// <summary>The opt-in attention probabilities: exactly the weights the fused attention applies.</summary>
public class AttentionProbabilityTests
{
    [Fact]
    public void RecomputedProbabilitiesReproduceTheFusedAttentionAndHideMaskedKeys()
    {
        using var file = BertSharp.Safetensors.SafetensorsFile.Open(Path.Combine(SharedFiles.TinyClsDir, "reference.safetensors"));
        using var model = BertForSequenceClassification.FromPretrained(SharedFiles.TinyClsDir, options: new PretrainedOptions { Log = _ => { } });
        model.eval();
        using var noGrad = no_grad();
        var (ids, mask) = (file.ReadTensor("input_ids"), file.ReadTensor("attention_mask"));
        var attention = model.Bert.LastLayerAttentions(ids, mask);
        Assert.Equal([3, 4, 32, 32], attention.shape);
        Modeling.ParityTests.AssertClose(ones(3, 4, 32), attention.sum(-1), 1e-5, "rows sum to 1");
        // Keys that are padding get nothing.
        var hidden = mask.eq(0).unsqueeze(1).unsqueeze(1).expand_as(attention);
        Assert.Equal(0f, attention.masked_select(hidden).abs().max().item<float>());

        // Weights · values equal what scaled_dot_product_attention computes (a fresh layer, random input).
        var self = new BertSelfAttention(model.Config, new MixedPrecision());
        self.eval(); // no attention dropout, as in evaluation
        manual_seed(1);
        var x = randn(3, 32, 64);
        var additive = AttentionMask.ForScores(mask, ScalarType.Float32, [3, 32]);
        Modeling.ParityTests.AssertClose(self.forward(x, additive), self.Context(self.AttentionProbabilities(x, additive), x), 1e-5, "context");
    }

    [Fact]
    public void ThePipelineGivesEachHeadsAttentionFromCls()
    {
        manual_seed(5);
        using var pipeline = TextClassificationPipeline.FromPretrained(SharedFiles.TinyModelDir, new PretrainedOptions { Log = _ => { } });
        var attention = pipeline.AttentionFromCls("A quietly brilliant film.");
        Assert.Equal(pipeline.Tokenizer.ConvertIdsToTokens(pipeline.Tokenizer.Encode("A quietly brilliant film.").InputIds), attention.Tokens);
        Assert.Equal(((BertConfig)pipeline.Model.Config).NumAttentionHeads, attention.Heads.Count);
        Assert.All(attention.Heads, h => Assert.Equal(1.0, h.Sum(v => (double)v), 1e-5));
        Assert.All(attention.Heads, h => Assert.Equal(attention.Tokens.Count, h.Count));

        // DistilBERT's blocks give theirs the same way.
        using var distil = TextClassificationPipeline.FromPretrained(TinyDistilBert.Directory, new PretrainedOptions { Log = _ => { } });
        var distilAttention = distil.AttentionFromCls("A quietly brilliant film.");
        Assert.Equal(((DistilBertConfig)distil.Model.Config).NHeads, distilAttention.Heads.Count);
        Assert.All(distilAttention.Heads, h => Assert.Equal(1.0, h.Sum(v => (double)v), 1e-5));
    }
}

[Collection(ProcessMemoryCollection.Name)]
public class ExplainMemoryTests
{
    [Fact]
    public void NativeMemoryStaysFlatOverRepeatedExplanations()
    {
        using var pipeline = ExplainTests.Pipeline();
        var review = string.Join(' ', Enumerable.Repeat("An uneven but often brilliant film.", 80));
        for (var i = 0; i < 2; i++) pipeline.Explain(review, steps: 16);
        // In use after each of 8 more: a leak raises the floor, the process's transients (the JIT's arenas, allocator
        // caches) only add spikes, so the lowest of the first three is compared with the lowest of the last three.
        var inUse = new List<long>();
        for (var i = 0; i < 8; i++)
        {
            pipeline.Explain(review, steps: 16);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            inUse.Add(NativeAllocator.BytesInUse() ?? -1);
        }
        Assert.True(inUse[0] >= 0, "mallinfo2 is not available");
        var growth = (inUse.TakeLast(3).Min() - inUse.Take(3).Min()) / 1048576.0;
        Assert.True(growth < 2, $"the floor of native memory in use rose by {growth:F2} MiB over 8 explanations of {pipeline.Tokenizer.Encode(review).InputIds.Length} tokens");
    }
}
