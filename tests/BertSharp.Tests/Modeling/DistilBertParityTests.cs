using System.Text.Json;
using BertSharp.Modeling;
using BertSharp.Safetensors;
using BertSharp.Tests.TestSupport;
using static TorchSharp.torch;

namespace BertSharp.Tests.Modeling;

/// <summary>
/// The C# DistilBERT against ../shared/fixtures/hf-reference/tiny-distilbert-cls: outputs of a line-by-line port of
/// transformers' DistilBERT run on PyTorch (the same method reproduces the transformers-made BERT fixture to 1e-6).
/// The fixture's README lists what each deliberate bug moves: a missing mask, shifted positions, no ReLU or a wrong
/// LayerNorm eps all exceed these tolerances on last_hidden_state.
/// </summary>
public class DistilBertParityTests
{
    private static readonly PretrainedOptions Quiet = new() { Log = _ => { } };

    internal static Dictionary<string, Tensor> Reference()
    {
        using var file = SafetensorsFile.Open(Path.Combine(SharedFiles.TinyDistilBertClsDir, "reference.safetensors"));
        return file.Tensors.ToDictionary(t => t.Name, t => file.ReadTensor(t.Name));
    }

    [Fact]
    public void LogitsAndLastHiddenStateMatchTheReference()
    {
        var reference = Reference();
        using var model = DistilBertForSequenceClassification.FromPretrained(SharedFiles.TinyDistilBertClsDir, options: Quiet);
        model.eval();
        Assert.True(model.LoadingInfo!.IsComplete);
        Assert.Empty(model.LoadingInfo.UnexpectedKeys);
        Assert.Equal(["NEGATIVE", "POSITIVE"], model.Config.Id2Label.Values);

        using var _ = no_grad();
        var logits = model.forward(reference["input_ids"], reference["attention_mask"]);
        ParityTests.AssertClose(reference["logits"], logits, 1e-5, "logits");
        var hidden = model.DistilBert.forward(reference["input_ids"], reference["attention_mask"]);
        ParityTests.AssertClose(reference["last_hidden_state"], hidden, 1e-5, "last_hidden_state");
        // The reference batch is padded (lengths 12, 7, 4), so the comparison covers the attention mask.
        Assert.True(reference["attention_mask"].sum().item<long>() < reference["attention_mask"].numel());
    }

    [Fact]
    public void ABatchWithoutPaddingRunsWithoutAMaskAndStillMatches()
    {
        // Row 0 has no padding: alone it is a batch for which no attention mask is built at all.
        var reference = Reference();
        using var model = DistilBertForSequenceClassification.FromPretrained(SharedFiles.TinyDistilBertClsDir, options: Quiet);
        model.eval();
        using var _ = no_grad();
        var ids = reference["input_ids"].narrow(0, 0, 1);
        Assert.Equal(ids.numel(), reference["attention_mask"].narrow(0, 0, 1).sum().item<long>());
        ParityTests.AssertClose(reference["logits"].narrow(0, 0, 1), model.forward(ids, ones_like(ids)), 1e-5, "logits, explicit all-ones mask");
        ParityTests.AssertClose(reference["logits"].narrow(0, 0, 1), model.forward(ids), 1e-5, "logits, no mask");
        ParityTests.AssertClose(reference["last_hidden_state"].narrow(0, 0, 1), model.DistilBert.forward(ids), 1e-5, "last_hidden_state, no mask");
    }

    [Fact]
    public void TheLegacyMaskedLmCheckpointGivesTransformersReport()
    {
        var reference = Reference();
        var log = new List<string>();
        using var model = DistilBertForSequenceClassification.FromPretrained(
            Path.Combine(SharedFiles.TinyDistilBertClsDir, "legacy"), options: Quiet with { Log = log.Add });
        var info = model.LoadingInfo!;
        Assert.Equal(["classifier.bias", "classifier.weight", "pre_classifier.bias", "pre_classifier.weight"], info.MissingKeys);
        Assert.Equal(["vocab_layer_norm.bias", "vocab_layer_norm.weight", "vocab_projector.bias", "vocab_transform.bias", "vocab_transform.weight"],
            info.UnexpectedKeys.Order(StringComparer.Ordinal));
        Assert.Empty(info.MismatchedKeys);
        Assert.Empty(info.RenamedKeys);
        var report = Assert.Single(log);
        Assert.Contains("were not used when initializing DistilBertForSequenceClassification", report);
        Assert.Contains("newly initialized: ['classifier.bias', 'classifier.weight', 'pre_classifier.bias', 'pre_classifier.weight']", report);
        Assert.Contains("TRAIN this model", report);
        // No id2label in the config: two labels, LABEL_0 and LABEL_1.
        Assert.Equal(["LABEL_0", "LABEL_1"], model.Config.Id2Label.Values);

        model.eval();
        using var _ = no_grad();
        var hidden = model.DistilBert.forward(reference["input_ids"], reference["attention_mask"]);
        ParityTests.AssertClose(reference["last_hidden_state"], hidden, 1e-5, "legacy last_hidden_state");
    }

    [Fact]
    public void SaveThenLoadIsBitIdenticalWithTransformersNamesAndConfig()
    {
        using var dir = new TempDirectory();
        using var original = DistilBertForSequenceClassification.FromPretrained(SharedFiles.TinyDistilBertClsDir, options: Quiet);
        original.SavePretrained(dir.Path);
        Assert.Empty(Directory.GetFiles(dir.Path, ".*"));

        using var reloaded = DistilBertForSequenceClassification.FromPretrained(dir.Path, options: Quiet);
        Assert.True(reloaded.LoadingInfo!.IsComplete);
        var (a, b) = (original.state_dict(), reloaded.state_dict());
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var key in a.Keys)
            Assert.True(TensorAssert.BitEqual(a[key], b[key]), $"{key} changed in the round trip");

        using (var saved = SafetensorsFile.Open(dir.File("model.safetensors")))
        using (var python = SafetensorsFile.Open(Path.Combine(SharedFiles.TinyDistilBertClsDir, "model.safetensors")))
        {
            Assert.Equal(python.Tensors.Select(t => t.Name).Order(), saved.Tensors.Select(t => t.Name).Order());
            foreach (var t in python.Tensors)
                Assert.True(TensorAssert.BitEqual(python.ReadTensor(t.Name), saved.ReadTensor(t.Name)), $"{t.Name} differs from the fixture");
        }

        using var doc = JsonDocument.Parse(File.ReadAllText(dir.File("config.json")));
        using var fixture = JsonDocument.Parse(File.ReadAllText(Path.Combine(SharedFiles.TinyDistilBertClsDir, "config.json")));
        // Every key of the fixture's config survives with its value (modelled fields and kept extra fields alike).
        foreach (var property in fixture.RootElement.EnumerateObject())
            Assert.True(doc.RootElement.TryGetProperty(property.Name, out var value) && JsonElement.DeepEquals(property.Value, value),
                $"config.json: '{property.Name}' was {property.Value.GetRawText()}, saved as {(doc.RootElement.TryGetProperty(property.Name, out var v) ? v.GetRawText() : "nothing")}");
    }

    [Fact]
    public void TokenTypeIdsThatMarkASecondSegmentAreRefused()
    {
        var reference = Reference();
        using var model = DistilBertForSequenceClassification.FromPretrained(SharedFiles.TinyDistilBertClsDir, options: Quiet);
        model.eval();
        using var _ = no_grad();
        var ids = reference["input_ids"];
        // All zeros says "one segment", which is all DistilBERT knows: accepted, same logits.
        ParityTests.AssertClose(reference["logits"], model.forward(ids, reference["attention_mask"], zeros_like(ids)), 1e-5, "zero token types");
        var error = Assert.Throws<ArgumentException>(() => model.forward(ids, reference["attention_mask"], ones_like(ids)));
        Assert.Contains("token type", error.Message);
    }
}
