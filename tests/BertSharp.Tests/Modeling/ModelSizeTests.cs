using System.Text.Json.Nodes;
using BertSharp.Modeling;
using BertSharp.Safetensors;
using BertSharp.Tests.TestSupport;
using static TorchSharp.torch;

namespace BertSharp.Tests.Modeling;

/// <summary>
/// Sizes that cannot be allocated, or that disagree with the weights file, are one clear error before any tensor is
/// made: before, libtorch's allocator aborted the whole process (SIGABRT, a native stack trace).
/// None of these tests allocates the absurd model: a failing check would abort or exhaust the machine, not fail.
/// </summary>
public class ModelSizeTests
{
    private static readonly PretrainedOptions Quiet = new() { Log = _ => { } };

    internal static TempDirectory CopyWithConfig(string sourceDir, string field, long value, params string[] extraFiles)
    {
        var dir = new TempDirectory();
        foreach (var f in new[] { "config.json", "model.safetensors" }.Concat(extraFiles))
            File.Copy(System.IO.Path.Combine(sourceDir, f), dir.File(f));
        var config = JsonNode.Parse(File.ReadAllText(dir.File("config.json")))!.AsObject();
        config[field] = value;
        File.WriteAllText(dir.File("config.json"), config.ToJsonString());
        return dir;
    }

    [Theory]
    [InlineData("vocab_size", 2147483647L, "[1000, 64]")]
    [InlineData("hidden_size", 1000000000L, "[1000, 64]")]
    [InlineData("max_position_embeddings", 4096L, "[64, 64]")]
    [InlineData("intermediate_size", 100000L, "[128, 64]")]
    [InlineData("type_vocab_size", 10L, "[2, 64]")]
    public void AConfigThatDisagreesWithItsWeightsNamesTheFieldTheValueAndTheFilesShape(string field, long value, string fileShape)
    {
        using var dir = CopyWithConfig(SharedFiles.TinyClsDir, field, value);
        var error = Assert.Throws<InvalidDataException>(() => BertForSequenceClassification.FromPretrained(dir.Path, options: Quiet));
        Assert.Contains($"'{field}'", error.Message);
        Assert.Contains(value.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message);
        Assert.Contains(fileShape, error.Message);
        Assert.Contains("model.safetensors", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("n_layers", 1_000_000L, "holds 2 layers")]
    [InlineData("dim", 1_000_000_000L, "[1000, 64]")]
    [InlineData("vocab_size", 2147483647L, "[1000, 64]")]
    [InlineData("hidden_dim", 100000L, "[256, 64]")]
    public void DistilBertSizesAreCheckedAgainstItsWeightsToo(string field, long value, string expected)
    {
        using var dir = CopyWithConfig(SharedFiles.TinyDistilBertClsDir, field, value);
        var error = Assert.Throws<InvalidDataException>(() => AutoModelForSequenceClassification.FromPretrained(dir.Path, options: Quiet));
        Assert.Contains($"'{field}' = {value}", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void AMillionLayersAgainstAFileOfTwoIsOneErrorNotAnExhaustedMachine()
    {
        using var dir = CopyWithConfig(SharedFiles.TinyClsDir, "num_hidden_layers", 1_000_000);
        var error = Assert.Throws<InvalidDataException>(() => BertForSequenceClassification.FromPretrained(dir.Path, options: Quiet));
        Assert.Contains("'num_hidden_layers' = 1000000", error.Message);
        Assert.Contains("holds 2 layers", error.Message);
    }

    [Fact]
    public void FewerLayersThanTheFileHoldsStillLoadAsTransformersAllows()
    {
        using var dir = CopyWithConfig(SharedFiles.TinyClsDir, "num_hidden_layers", 1);
        using var model = BertForSequenceClassification.FromPretrained(dir.Path, options: Quiet);
        Assert.True(model.LoadingInfo!.IsComplete);
        Assert.Contains("bert.encoder.layer.1.output.dense.weight", model.LoadingInfo.UnexpectedKeys);
    }

    [Fact]
    public void IgnoreMismatchedSizesStillReinitialisesWhatDiffers()
    {
        using var dir = CopyWithConfig(SharedFiles.TinyClsDir, "vocab_size", 1200);
        using var model = BertForSequenceClassification.FromPretrained(dir.Path, options: Quiet with { IgnoreMismatchedSizes = true });
        Assert.Contains(model.LoadingInfo!.MismatchedKeys, k => k.StartsWith("bert.embeddings.word_embeddings.weight", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("hidden_size", 1_200_000_000L)]
    [InlineData("num_hidden_layers", 1_000_000L)]
    [InlineData("vocab_size", 2_147_483_647L)]
    [InlineData("intermediate_size", 2_000_000_000L)]
    public void AModelWithoutWeightsThatCannotFitInMemoryIsRefusedBeforeAllocation(string field, long value)
    {
        // As `bertsharp bench --config` builds one: a config alone, no file to compare with.
        var json = JsonNode.Parse(File.ReadAllText(SharedFiles.Path("data", "bert-base-uncased", "config.json")))!.AsObject();
        json[field] = value;
        var config = BertConfig.FromJson(json.ToJsonString(), "huge.json");
        var error = Assert.Throws<InvalidDataException>(() => new BertForSequenceClassification(config));
        Assert.Contains($"{field} = {value}", error.Message);
        Assert.Contains("memory", error.Message);
        Assert.Throws<InvalidDataException>(() => new BertModel(config));
    }

    [Fact]
    public void TheParameterCountFromTheConfigIsTheModelsCount()
    {
        foreach (var dir in new[] { SharedFiles.TinyClsDir, SharedFiles.TinyModelDir })
        {
            var config = BertConfig.FromFile(System.IO.Path.Combine(dir, "config.json"));
            using var classifier = new BertForSequenceClassification(config);
            Assert.Equal(classifier.parameters().Sum(p => p.numel()), (long)config.ParameterCount(withClassifier: true));
            using var encoder = new BertModel(config, addPoolingLayer: false);
            Assert.Equal(encoder.parameters().Sum(p => p.numel()), (long)config.ParameterCount(addPoolingLayer: false, withClassifier: false));
        }
        var distil = DistilBertConfig.FromFile(System.IO.Path.Combine(SharedFiles.TinyDistilBertClsDir, "config.json"));
        using (var distilClassifier = new DistilBertForSequenceClassification(distil))
            Assert.Equal(distilClassifier.parameters().Sum(p => p.numel()), (long)distil.ParameterCount(withClassifier: true));
        using (var distilEncoder = new DistilBertModel(distil))
            Assert.Equal(distilEncoder.parameters().Sum(p => p.numel()), (long)distil.ParameterCount());
    }

    [Fact]
    public void AvailableMemoryIsPositiveAndAtMostThePhysicalMemory()
    {
        var available = ModelSizeCheck.AvailableMemoryBytes();
        Assert.InRange(available, 1, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
    }

    [Fact]
    public void NumLabelsBeyondTheLimitIsAConfigError()
    {
        // tiny-cls has no id2label, so num_labels decides; names for 2·10^9 labels would fill memory.
        using var dir = CopyWithConfig(SharedFiles.TinyClsDir, "num_labels", 2_000_000_000);
        var error = Assert.Throws<InvalidDataException>(() => BertConfig.FromFile(dir.File("config.json")));
        Assert.Contains("num_labels must be at most 1000000, got 2000000000", error.Message);
        Assert.Contains("config.json", error.Message);
    }

    [Fact]
    public void ATokenizerLargerThanTheModelsVocabularyIsRefusedAndAnEqualOneIsNot()
    {
        var tokenizer = BertSharp.Tokenization.BertTokenizer.FromDirectory(SharedFiles.TinyModelDir);
        var small = BertConfig.FromFile(System.IO.Path.Combine(SharedFiles.TinyClsDir, "config.json"));
        var error = Assert.Throws<InvalidDataException>(() => TokenizerCompatibility.Ensure(tokenizer, small, "tiny-cls"));
        Assert.StartsWith("tiny-cls: the tokenizer has 30,522 tokens but the model's 'vocab_size' = 1000 embedding rows", error.Message);
        TokenizerCompatibility.Ensure(tokenizer, BertConfig.FromFile(System.IO.Path.Combine(SharedFiles.TinyModelDir, "config.json")), "stand-in");
        small.VocabSize = 40_000; // a padded embedding table is fine
        TokenizerCompatibility.Ensure(tokenizer, small, "padded");
    }
}
