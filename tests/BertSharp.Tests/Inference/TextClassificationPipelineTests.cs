using BertSharp.Inference;
using BertSharp.Modeling;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Inference;

public class TextClassificationPipelineTests
{
    [Fact]
    public void BatchedPredictionsEqualOneAtATimeInTheCallersOrder()
    {
        using var pipeline = TextClassificationPipeline.FromPretrained(SharedFiles.TinyModelDir, new PretrainedOptions { Log = _ => { } });
        var texts = TestData.Reviews.Take(12).Append("Short.").Append(new string('a', 3000) + " b").ToList();
        var together = pipeline.Predict(texts, batchSize: 5);
        for (var i = 0; i < texts.Count; i++)
        {
            var alone = pipeline.Predict(texts[i]);
            Assert.Equal(alone.TokenCount, together[i].TokenCount);
            Assert.Equal(alone.Truncated, together[i].Truncated);
            // Same maths, different shapes: a padded batch runs other GEMM kernels (and blockings) than one text
            // alone, so float32 sums round differently (6e-8 apart seen on an AMD EPYC). Masked padding itself adds
            // exactly nothing; a mask or position bug would move these logits by far more than 1e-5.
            for (var c = 0; c < alone.Logits.Count; c++)
                Assert.Equal(alone.Logits[c], together[i].Logits[c], 1e-5f);
        }
        Assert.True(together[^1].Truncated || together[^1].TokenCount <= 512);
    }

    private static class TestData
    {
        public static IEnumerable<string> Reviews =>
            BertSharp.Data.Imdb.Load("test", SharedFiles.Path("data", "imdb")).Shuffle(7).SelectRange(12).Select(e => e.Text);
    }
}

public class PipelineProbabilityTests
{
    [Fact]
    public void MultiLabelModelsGetIndependentSigmoidsLikeTransformers()
    {
        var options = new PretrainedOptions
        {
            Log = _ => { },
            NumLabels = 3,
            ConfigOverrides = c => c.ProblemType = "multi_label_classification",
        };
        var model = BertForSequenceClassification.FromPretrained(SharedFiles.TinyModelDir, options: options);
        using var pipeline = new TextClassificationPipeline(model, BertSharp.Tokenization.BertTokenizer.FromDirectory(SharedFiles.TinyModelDir), ownsModel: true);
        var p = pipeline.Predict("Funny, sad and scary at once.");
        // The pipeline computes the same double sigmoid and rounds it to float: within half a float ulp (3e-8 below 1).
        for (var i = 0; i < 3; i++)
            Assert.Equal(1 / (1 + Math.Exp(-p.Logits[i])), p.Probabilities[i], 1e-7);
        // Independent sigmoids of an untrained head (logits near 0) sum to about 1.5, nowhere near a softmax's 1.
        Assert.NotEqual(1.0, p.Probabilities.Sum(), 0.1);
    }
}
