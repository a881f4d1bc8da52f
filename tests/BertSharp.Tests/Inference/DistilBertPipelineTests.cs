using BertSharp.Inference;
using BertSharp.Modeling;
using BertSharp.Tests.TestSupport;
using static TorchSharp.torch;

namespace BertSharp.Tests.Inference;

/// <summary>transformers' pipeline("sentiment-analysis", model=folder) on a DistilBERT folder.</summary>
public class DistilBertPipelineTests
{
    [Fact]
    public void ThePipelineLoadsADistilBertFolderAndItsLogitsAreTheModels()
    {
        using var pipeline = TextClassificationPipeline.FromPretrained(TinyDistilBert.Directory, new PretrainedOptions { Log = _ => { } });
        Assert.IsType<DistilBertForSequenceClassification>(pipeline.Model);
        Assert.Equal("DistilBertTokenizer", pipeline.Tokenizer.TokenizerClass);
        Assert.Equal(128, pipeline.MaxLength); // the model's max_position_embeddings, below the tokenizer's 512

        string[] texts = ["A wonderful, moving film.", "Dull and far too long; I left halfway through.", new string('x', 2000) + " film"];
        var together = pipeline.Predict(texts, batchSize: 2);
        for (var i = 0; i < texts.Length; i++)
        {
            var p = together[i];
            Assert.Contains(p.Label, new[] { "neg", "pos" });
            Assert.Equal(1.0, p.Probabilities.Sum(), 1e-5);
            var encoded = pipeline.Tokenizer.Encode(texts[i], maxLength: pipeline.MaxLength);
            Assert.Equal(encoded.InputIds.Length, p.TokenCount);
            using var _ = no_grad();
            var ids = tensor(encoded.InputIds.Select(x => (long)x).ToArray(), [1, encoded.InputIds.Length]);
            var logits = pipeline.Model.forward(ids).data<float>().ToArray();
            for (var c = 0; c < 2; c++)
                Assert.Equal(logits[c], p.Logits[c], 1e-5);
        }
    }
}
