using BertSharp.Modeling;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Modeling;

public class BertConfigTests
{
    [Fact]
    public void ReadsBertBaseUncasedConfig()
    {
        var config = BertConfig.FromFile(SharedFiles.Path("data", "bert-base-uncased", "config.json"));
        Assert.Equal(768, config.HiddenSize);
        Assert.Equal(12, config.NumHiddenLayers);
        Assert.Equal(12, config.NumAttentionHeads);
        Assert.Equal(3072, config.IntermediateSize);
        Assert.Equal(30522, config.VocabSize);
        Assert.Equal(1e-12, config.LayerNormEps);
        Assert.Equal(2, config.NumLabels);
        Assert.Equal(["BertForMaskedLM"], config.Architectures);
    }

    [Fact]
    public void JsonRoundTripKeepsEveryFieldAndLabels()
    {
        var config = BertConfig.FromFile(System.IO.Path.Combine(SharedFiles.TinyModelDir, "config.json"));
        config.Id2Label = new Dictionary<int, string> { [0] = "neg", [1] = "pos" };
        config.ClassifierDropout = 0.2;
        var again = BertConfig.FromJson(config.ToJson());
        Assert.Equal(config.ToJson(), again.ToJson());
        Assert.Equal("pos", again.Id2Label[1]);
        Assert.Equal(0, again.Label2Id["neg"]);
        Assert.Equal(0.2, again.EffectiveClassifierDropout);
        Assert.True(again.ExtraFields.ContainsKey("tie_word_embeddings"));
    }

    [Fact]
    public void ClassifierDropoutFallsBackToHiddenDropout()
    {
        var config = BertConfig.FromJson("{\"hidden_dropout_prob\": 0.3, \"classifier_dropout\": null}");
        Assert.Equal(0.3, config.EffectiveClassifierDropout);
    }

    [Fact]
    public void NumLabelsResetsLabelNames()
    {
        var config = new BertConfig { NumLabels = 3 };
        Assert.Equal(["LABEL_0", "LABEL_1", "LABEL_2"], config.Id2Label.Values);
        var fromFile = BertConfig.FromJson("{\"num_labels\": 5}");
        Assert.Equal(5, fromFile.NumLabels);
    }
}
