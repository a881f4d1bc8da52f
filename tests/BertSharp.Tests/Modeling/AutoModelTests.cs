using System.Text.Json.Nodes;
using BertSharp.Modeling;
using BertSharp.Safetensors;
using BertSharp.Tests.TestSupport;
using static TorchSharp.torch;

namespace BertSharp.Tests.Modeling;

/// <summary>AutoConfig and AutoModelForSequenceClassification: the family comes from config.json, as in transformers.</summary>
public class AutoModelTests
{
    private static readonly PretrainedOptions Quiet = new() { Log = _ => { } };

    private static TempDirectory CopyOf(string source, Action<JsonObject>? editConfig = null)
    {
        var dir = new TempDirectory();
        foreach (var f in new[] { "config.json", "model.safetensors" })
            File.Copy(Path.Combine(source, f), dir.File(f));
        if (editConfig is not null)
        {
            var config = JsonNode.Parse(File.ReadAllText(dir.File("config.json")))!.AsObject();
            editConfig(config);
            File.WriteAllText(dir.File("config.json"), config.ToJsonString());
        }
        return dir;
    }

    [Fact]
    public void BothFixturesLoadAsTheirFamilyAndReproduceTheirLogits()
    {
        foreach (var (fixture, type) in new[] { ("tiny-cls", typeof(BertForSequenceClassification)), ("tiny-distilbert-cls", typeof(DistilBertForSequenceClassification)) })
        {
            var dir = SharedFiles.Path("fixtures", "hf-reference", fixture);
            using var file = SafetensorsFile.Open(Path.Combine(dir, "reference.safetensors"));
            using var model = AutoModelForSequenceClassification.FromPretrained(dir, options: Quiet);
            Assert.IsType(type, model);
            Assert.True(model.LoadingInfo!.IsComplete);
            Assert.Equal(type.Name, model.LoadingInfo.ModelClass);
            model.eval();
            using var _ = no_grad();
            var types = file.Contains("token_type_ids") ? file.ReadTensor("token_type_ids") : null;
            var logits = model.forward(file.ReadTensor("input_ids"), file.ReadTensor("attention_mask"), types);
            ParityTests.AssertClose(file.ReadTensor("logits"), logits, 1e-5, $"{fixture} logits");
        }
    }

    [Fact]
    public void TheLegacyDistilBertCheckpointGivesTheSameReportThroughAuto()
    {
        var log = new List<string>();
        using var model = AutoModelForSequenceClassification.FromPretrained(
            Path.Combine(SharedFiles.TinyDistilBertClsDir, "legacy"), numLabels: 2, options: Quiet with { Log = log.Add });
        Assert.IsType<DistilBertForSequenceClassification>(model);
        Assert.Equal(["classifier.bias", "classifier.weight", "pre_classifier.bias", "pre_classifier.weight"], model.LoadingInfo!.MissingKeys);
        Assert.Equal(5, model.LoadingInfo.UnexpectedKeys.Count);
        Assert.Contains("initializing DistilBertForSequenceClassification", Assert.Single(log));
    }

    [Fact]
    public void AnUnknownModelTypeIsOneErrorListingTheSupportedOnes()
    {
        using var dir = CopyOf(SharedFiles.TinyDistilBertClsDir, c => c["model_type"] = "roberta");
        var error = Assert.Throws<NotSupportedException>(() => AutoModelForSequenceClassification.FromPretrained(dir.Path, options: Quiet));
        Assert.Contains("config.json", error.Message);
        Assert.Contains("model_type 'roberta' is not supported", error.Message);
        Assert.Contains("bert, distilbert", error.Message);
    }

    [Fact]
    public void WithoutModelTypeTheArchitecturesThenTheNameDecide()
    {
        using (var dir = CopyOf(SharedFiles.TinyDistilBertClsDir, c => c.Remove("model_type")))
        {
            using var model = AutoModelForSequenceClassification.FromPretrained(dir.Path, options: Quiet);
            Assert.IsType<DistilBertForSequenceClassification>(model);
        }
        using (var dir = CopyOf(SharedFiles.TinyClsDir, c => { c.Remove("model_type"); c["architectures"] = new JsonArray("BertForMaskedLM"); }))
            Assert.IsType<BertConfig>(AutoConfig.FromFile(dir.File("config.json")));
        using (var dir = CopyOf(SharedFiles.TinyDistilBertClsDir, c => { c.Remove("model_type"); c.Remove("architectures"); }))
        {
            // transformers' last resort: a model type in the name, the longest match first.
            Assert.IsType<DistilBertConfig>(AutoConfig.FromFile(dir.File("config.json"), "org/my-distilbert-finetune"));
            var error = Assert.Throws<InvalidDataException>(() => AutoConfig.FromFile(dir.File("config.json"), "org/model"));
            Assert.Contains("no 'model_type'", error.Message);
            Assert.Contains("bert, distilbert", error.Message);
        }
    }

    [Fact]
    public void AFamilyClassRefusesTheOtherFamilysCheckpointAndPointsToAuto()
    {
        var error = Assert.Throws<InvalidDataException>(() => BertForSequenceClassification.FromPretrained(SharedFiles.TinyDistilBertClsDir, options: Quiet));
        Assert.Contains("'model_type' is 'distilbert'", error.Message);
        Assert.Contains("AutoModelForSequenceClassification", error.Message);
    }

    [Fact]
    public void AnyDistilBertShapeSavesAndLoadsBackThroughAuto()
    {
        var config = (DistilBertConfig)AutoConfig.ForModelType("distilbert");
        (config.VocabSize, config.Dim, config.NHeads, config.NLayers, config.HiddenDim, config.MaxPositionEmbeddings) = (50, 48, 3, 3, 100, 40);
        (config.Activation, config.SinusoidalPosEmbds, config.PadTokenId) = ("gelu_new", true, 1);
        config.NumLabels = 3;
        using var dir = new TempDirectory();
        manual_seed(5);
        using var original = AutoModelForSequenceClassification.FromConfig(config);
        original.SavePretrained(dir.Path);
        using var reloaded = AutoModelForSequenceClassification.FromPretrained(dir.Path, options: Quiet);
        Assert.IsType<DistilBertForSequenceClassification>(reloaded);
        Assert.True(reloaded.LoadingInfo!.IsComplete);
        var reloadedConfig = (DistilBertConfig)reloaded.Config;
        config.Architectures = ["DistilBertForSequenceClassification"];
        Assert.Equal(config.ToJson(), reloadedConfig.ToJson());

        original.eval();
        reloaded.eval();
        using var _ = no_grad();
        var ids = randint(0, 50, [2, 40]);
        var mask = ones_like(ids);
        mask[1, TensorIndex.Slice(30)] = 0;
        Assert.True(TensorAssert.BitEqual(original.forward(ids, mask), reloaded.forward(ids, mask)));
        Assert.Equal([2L, 3L], reloaded.forward(ids, mask).shape);
        var tooLong = Assert.Throws<ArgumentException>(() => reloaded.forward(randint(0, 50, [1, 41])));
        Assert.Contains("max_position_embeddings", tooLong.Message);
    }
}
