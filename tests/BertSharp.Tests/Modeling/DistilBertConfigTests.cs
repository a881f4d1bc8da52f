using System.Text.Json;
using BertSharp.Modeling;
using BertSharp.Tests.TestSupport;
using static TorchSharp.torch;

namespace BertSharp.Tests.Modeling;

public class DistilBertConfigTests
{
    [Fact]
    public void ReadsTheFixtureAndTheLegacyHubLayoutWithTheirFieldNames()
    {
        var config = DistilBertConfig.FromFile(Path.Combine(SharedFiles.TinyDistilBertClsDir, "config.json"));
        Assert.Equal((64, 2, 4, 256, 128, 1000), (config.Dim, config.NLayers, config.NHeads, config.HiddenDim, config.MaxPositionEmbeddings, config.VocabSize));
        Assert.Equal((0.1, 0.1, 0.2, 0.1), (config.Dropout, config.AttentionDropout, config.SeqClassifDropout, config.QaDropout));
        Assert.Equal("gelu", config.Activation);
        Assert.False(config.SinusoidalPosEmbds);
        Assert.True(config.TieWeights);
        Assert.Equal("POSITIVE", config.Id2Label[1]);
        Assert.Equal("5.17.0", config.ExtraFields["transformers_version"]!.GetValue<string>());

        var legacy = DistilBertConfig.FromFile(Path.Combine(SharedFiles.TinyDistilBertClsDir, "legacy", "config.json"));
        Assert.Equal(["DistilBertForMaskedLM"], legacy.Architectures);
        Assert.Equal(["LABEL_0", "LABEL_1"], legacy.Id2Label.Values);
    }

    [Fact]
    public void JsonRoundTripIsStable()
    {
        var config = DistilBertConfig.FromFile(Path.Combine(SharedFiles.TinyDistilBertClsDir, "config.json"));
        config.ProblemType = "single_label_classification";
        var again = DistilBertConfig.FromJson(config.ToJson());
        Assert.Equal(config.ToJson(), again.ToJson());
        using var doc = JsonDocument.Parse(again.ToJson());
        Assert.Equal("distilbert", doc.RootElement.GetProperty("model_type").GetString());
        Assert.True(doc.RootElement.GetProperty("tie_weights_").GetBoolean());
    }

    [Theory]
    [InlineData("{\"dim\": 60, \"n_heads\": 7}", "'dim' (60) must be a multiple of 'n_heads' (7)")]
    [InlineData("{\"n_layers\": \"six\"}", "'n_layers' must be an integer")]
    [InlineData("{\"activation\": \"mish\"}", "'activation' = 'mish' is not supported")]
    [InlineData("{\"seq_classif_dropout\": 1}", "'seq_classif_dropout' must be in [0, 1)")]
    [InlineData("{\"sinusoidal_pos_embds\": \"yes\"}", "'sinusoidal_pos_embds' must be true or false")]
    [InlineData("{\"pad_token_id\": 40000}", "'pad_token_id' (40000) must be in [0, vocab_size = 30522)")]
    [InlineData("{\"model_type\": \"bert\"}", "'model_type' is 'bert', but a DistilBertConfig is for 'distilbert'")]
    public void BadFieldsAreNamedWithTheFile(string json, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => DistilBertConfig.FromJson(json, "dir/config.json"));
        Assert.Contains(expected, error.Message);
        Assert.StartsWith("dir/config.json: ", error.Message);
    }

    [Fact]
    public void SinusoidalPositionsFollowTransformersTableAndACheckpointStillWins()
    {
        var config = new DistilBertConfig { VocabSize = 20, Dim = 6, NHeads = 2, NLayers = 1, HiddenDim = 8, MaxPositionEmbeddings = 10, SinusoidalPosEmbds = true };
        using var model = new DistilBertModel(config);
        var table = model.Embeddings.PositionEmbeddings.weight!;
        for (var p = 0; p < 10; p++)
            for (var j = 0; j < 6; j++)
            {
                var angle = p / Math.Pow(10000, 2.0 * (j / 2) / 6);
                Assert.Equal(j % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle), table[p, j].item<float>(), 1e-7);
            }
        Assert.True(table.requires_grad);

        // Only the initial values change: the fixture's trained positions load over them, so the outputs are the fixture's.
        var reference = DistilBertParityTests.Reference();
        using var loaded = DistilBertForSequenceClassification.FromPretrained(SharedFiles.TinyDistilBertClsDir,
            options: new PretrainedOptions { Log = _ => { }, ConfigOverrides = c => ((DistilBertConfig)c).SinusoidalPosEmbds = true });
        loaded.eval();
        using var _ = no_grad();
        ParityTests.AssertClose(reference["logits"], loaded.forward(reference["input_ids"], reference["attention_mask"]), 1e-5, "logits");
    }
}
