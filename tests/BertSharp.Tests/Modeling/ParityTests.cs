using BertSharp.Modeling;
using BertSharp.Safetensors;
using BertSharp.Tests.TestSupport;
using static TorchSharp.torch;

namespace BertSharp.Tests.Modeling;

/// <summary>
/// The C# BERT against outputs that Python transformers 5.17 computed from the same files
/// (../shared/fixtures/hf-reference/tiny-cls): a wrong layer, eps, mask or activation moves them by far more than 1e-5.
/// </summary>
public class ParityTests
{
    private static readonly PretrainedOptions Quiet = new() { Log = _ => { } };

    private static Dictionary<string, Tensor> Reference()
    {
        using var file = SafetensorsFile.Open(System.IO.Path.Combine(SharedFiles.TinyClsDir, "reference.safetensors"));
        return file.Tensors.ToDictionary(t => t.Name, t => file.ReadTensor(t.Name));
    }

    internal static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        var maxDiff = (expected - actual).abs().max().item<float>();
        Assert.True(maxDiff <= tolerance, $"{what}: max |difference| {maxDiff:E3} exceeds {tolerance:E1}");
    }

    [Fact]
    public void ClassificationLogitsHiddenStatesAndPoolerMatchTransformers()
    {
        var reference = Reference();
        using var model = BertForSequenceClassification.FromPretrained(SharedFiles.TinyClsDir, options: Quiet);
        model.eval();
        Assert.True(model.LoadingInfo!.IsComplete);
        Assert.Empty(model.LoadingInfo.UnexpectedKeys);

        using var _ = no_grad();
        var logits = model.forward(reference["input_ids"], reference["attention_mask"], reference["token_type_ids"]);
        AssertClose(reference["logits"], logits, 1e-5, "logits");
        var encoder = model.Bert.forward(reference["input_ids"], reference["attention_mask"], reference["token_type_ids"]);
        AssertClose(reference["last_hidden_state"], encoder.LastHiddenState, 1e-5, "last_hidden_state");
        AssertClose(reference["pooler_output"], encoder.PoolerOutput!, 1e-5, "pooler_output");
    }

    [Fact]
    public void TheReferenceBatchReallyIsPadded()
    {
        // The parity test only proves the attention mask is applied if some rows have padding.
        var reference = Reference();
        var mask = reference["attention_mask"];
        Assert.True(mask.sum().item<long>() < mask.numel());
    }

    [Fact]
    public void BareBertModelLoadsATaskCheckpointByStrippingThePrefix()
    {
        var reference = Reference();
        using var model = BertModel.FromPretrained(SharedFiles.TinyClsDir, Quiet);
        model.eval();
        Assert.Empty(model.LoadingInfo!.MissingKeys);
        Assert.Equal(["classifier.bias", "classifier.weight"], model.LoadingInfo.UnexpectedKeys.Order());
        using var _ = no_grad();
        var output = model.forward(reference["input_ids"], reference["attention_mask"], reference["token_type_ids"]);
        AssertClose(reference["last_hidden_state"], output.LastHiddenState, 1e-5, "last_hidden_state");
    }

    [Fact]
    public void LegacyCheckpointLoadsWithTheTransformersStyleReport()
    {
        var reference = Reference();
        var log = new List<string>();
        using var model = BertForSequenceClassification.FromPretrained(
            System.IO.Path.Combine(SharedFiles.TinyClsDir, "legacy"), options: Quiet with { Log = log.Add });
        model.eval();
        var info = model.LoadingInfo!;
        Assert.Equal(["classifier.bias", "classifier.weight"], info.MissingKeys);
        Assert.All(info.UnexpectedKeys, k => Assert.StartsWith("cls.", k));
        Assert.Equal(7, info.UnexpectedKeys.Count);
        Assert.Contains("bert.embeddings.LayerNorm.gamma -> bert.embeddings.LayerNorm.weight", info.RenamedKeys);
        var report = Assert.Single(log);
        Assert.Contains("newly initialized: ['classifier.bias', 'classifier.weight']", report);
        Assert.Contains("were not used when initializing BertForSequenceClassification", report);
        Assert.Contains("TRAIN this model", report);

        using var _ = no_grad();
        var output = model.Bert.forward(reference["input_ids"], reference["attention_mask"], reference["token_type_ids"]);
        AssertClose(reference["last_hidden_state"], output.LastHiddenState, 1e-5, "legacy last_hidden_state");
        AssertClose(reference["pooler_output"], output.PoolerOutput!, 1e-5, "legacy pooler_output");
    }

    [Fact]
    public void SaveThenLoadIsBitIdenticalAndUsesTransformersNames()
    {
        using var dir = new TempDirectory();
        using var original = BertForSequenceClassification.FromPretrained(SharedFiles.TinyClsDir, options: Quiet);
        original.SavePretrained(dir.Path);
        Assert.Empty(Directory.GetFiles(dir.Path, ".*"));

        using var reloaded = BertForSequenceClassification.FromPretrained(dir.Path, options: Quiet);
        var a = original.state_dict();
        var b = reloaded.state_dict();
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var key in a.Keys)
            Assert.True(TensorAssert.BitEqual(a[key], b[key]), $"{key} changed in the round trip");

        using var saved = SafetensorsFile.Open(dir.File("model.safetensors"));
        using var python = SafetensorsFile.Open(System.IO.Path.Combine(SharedFiles.TinyClsDir, "model.safetensors"));
        Assert.Equal(python.Tensors.Select(t => t.Name).Order(), saved.Tensors.Select(t => t.Name).Order());
        Assert.Equal("pt", saved.Metadata["format"]);
        foreach (var t in python.Tensors)
        {
            Assert.Equal(t.Dtype, saved.GetInfo(t.Name).Dtype);
            Assert.Equal(t.Shape, saved.GetInfo(t.Name).Shape);
        }
    }

    [Fact]
    public void SavedConfigHasTheFieldsPythonReads()
    {
        using var dir = new TempDirectory();
        using var model = BertForSequenceClassification.FromPretrained(SharedFiles.TinyModelDir, numLabels: 2,
            options: Quiet with { Id2Label = new Dictionary<int, string> { [0] = "neg", [1] = "pos" } });
        model.SavePretrained(dir.Path);
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(dir.File("config.json")));
        var root = doc.RootElement;
        Assert.Equal("BertForSequenceClassification", root.GetProperty("architectures")[0].GetString());
        Assert.Equal("bert", root.GetProperty("model_type").GetString());
        Assert.Equal("neg", root.GetProperty("id2label").GetProperty("0").GetString());
        Assert.Equal(1, root.GetProperty("label2id").GetProperty("pos").GetInt32());
        Assert.Equal(1e-12, root.GetProperty("layer_norm_eps").GetDouble());
        Assert.Equal(128, root.GetProperty("hidden_size").GetInt32());
        // Fields BertSharp does not model survive the round trip.
        Assert.Equal("5.17.0", root.GetProperty("transformers_version").GetString());
    }

    [Fact]
    public void StandInMaskedLmCheckpointLoadsWithANewClassifierAndPooler()
    {
        using var model = BertForSequenceClassification.FromPretrained(SharedFiles.TinyModelDir, numLabels: 2, options: Quiet);
        var info = model.LoadingInfo!;
        Assert.Equal(["bert.pooler.dense.bias", "bert.pooler.dense.weight", "classifier.bias", "classifier.weight"], info.MissingKeys);
        Assert.Contains("cls.predictions.bias", info.UnexpectedKeys);
        model.eval();
        using var _ = no_grad();
        var ids = tensor(new long[] { 101, 2023, 3185, 2001, 2307, 999, 102 }, [1, 7]);
        var logits = model.forward(ids, ones_like(ids), zeros_like(ids));
        Assert.Equal([1L, 2L], logits.shape);
        Assert.True(isfinite(logits).all().item<bool>());
    }
}
