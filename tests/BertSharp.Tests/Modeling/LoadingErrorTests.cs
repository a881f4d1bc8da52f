using BertSharp.Modeling;
using BertSharp.Safetensors;
using BertSharp.Tests.TestSupport;
using static TorchSharp.torch;

namespace BertSharp.Tests.Modeling;

/// <summary>Bad model folders fail with a message that names the file and what is wrong.</summary>
public class LoadingErrorTests
{
    private static readonly PretrainedOptions Quiet = new() { Log = _ => { } };

    private static TempDirectory CopyOfTinyCls()
    {
        var dir = new TempDirectory();
        foreach (var f in new[] { "config.json", "model.safetensors" })
            File.Copy(System.IO.Path.Combine(SharedFiles.TinyClsDir, f), dir.File(f));
        return dir;
    }

    [Fact]
    public void ADifferentNumberOfLabelsIsAShapeErrorUnlessMismatchesAreIgnored()
    {
        var error = Assert.Throws<InvalidDataException>(() =>
            BertForSequenceClassification.FromPretrained(SharedFiles.TinyClsDir, numLabels: 3, options: Quiet));
        Assert.Contains("classifier.weight", error.Message);
        Assert.Contains("[2, 64]", error.Message);
        Assert.Contains("IgnoreMismatchedSizes", error.Message);

        using var model = BertForSequenceClassification.FromPretrained(SharedFiles.TinyClsDir, numLabels: 3,
            options: Quiet with { IgnoreMismatchedSizes = true });
        Assert.Equal(2, model.LoadingInfo!.MismatchedKeys.Count);
        Assert.Equal(3, model.Config.NumLabels);
    }

    [Fact]
    public void NonFiniteWeightsAreRejectedByName()
    {
        using var dir = CopyOfTinyCls();
        using (var model = BertForSequenceClassification.FromPretrained(dir.Path, options: Quiet))
        {
            using (no_grad()) model.state_dict()["bert.encoder.layer.1.output.dense.weight"][0, 0] = float.NaN;
            model.SavePretrained(dir.Path);
        }
        var error = Assert.Throws<InvalidDataException>(() => BertForSequenceClassification.FromPretrained(dir.Path, options: Quiet));
        Assert.Contains("bert.encoder.layer.1.output.dense.weight", error.Message);
        Assert.Contains("NaN", error.Message);
    }

    [Theory]
    [InlineData(ScalarType.Int32, "I32")]
    [InlineData(ScalarType.Int64, "I64")]
    [InlineData(ScalarType.Bool, "BOOL")]
    [InlineData(ScalarType.Byte, "U8")]
    public void AWeightStoredAsIntegersIsRefusedNotCastToFloat(ScalarType stored, string dtype)
    {
        using var dir = CopyOfTinyCls();
        using (var source = SafetensorsFile.Open(System.IO.Path.Combine(SharedFiles.TinyClsDir, "model.safetensors")))
        {
            var tensors = source.Tensors.Select(t =>
            {
                var tensor = source.ReadTensor(t.Name);
                return KeyValuePair.Create(t.Name, t.Name == "bert.encoder.layer.0.attention.self.key.weight" ? tensor.to(stored) : tensor);
            }).ToList();
            SafetensorsWriter.Save(dir.File("model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        }
        var error = Assert.Throws<InvalidDataException>(() => BertForSequenceClassification.FromPretrained(dir.Path, options: Quiet));
        Assert.Contains("bert.encoder.layer.0.attention.self.key.weight", error.Message);
        Assert.Contains(dtype, error.Message);
        Assert.Contains("model.safetensors", error.Message);
    }

    [Theory]
    [InlineData("{\"\\ud800\": 1, \"hidden_size\": 64}")]
    [InlineData("{\"hidden_act\": \"gelu\\udc00\"}")]
    [InlineData("{\"id2label\": {\"0\": \"\\ud83d\", \"1\": \"pos\"}}")]
    public void AConfigWithHalfASurrogatePairIsAnErrorNamingTheFile(string json)
    {
        using var dir = CopyOfTinyCls();
        File.WriteAllText(dir.File("config.json"), json);
        var error = Assert.Throws<InvalidDataException>(() => BertForSequenceClassification.FromPretrained(dir.Path, options: Quiet));
        Assert.Contains("config.json", error.Message);
        Assert.Contains("surrogate", error.Message);
    }

    [Fact]
    public void TruncatedWeightsFileNamesTheFile()
    {
        using var dir = CopyOfTinyCls();
        var path = dir.File("model.safetensors");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var error = Assert.Throws<SafetensorsFormatException>(() => BertForSequenceClassification.FromPretrained(dir.Path, options: Quiet));
        Assert.Contains("model.safetensors", error.Message);
    }

    [Theory]
    [InlineData("{\"hidden_size\": \"big\"}", "'hidden_size' must be an integer")]
    [InlineData("{\"hidden_size\": 60, \"num_attention_heads\": 7}", "must be a multiple of 'num_attention_heads'")]
    [InlineData("{\"hidden_act\": \"mish\"}", "'hidden_act' = 'mish' is not supported")]
    [InlineData("{\"model_type\": \"gpt2\"}", "'model_type' is 'gpt2'")]
    [InlineData("{\"id2label\": {\"zero\": \"neg\"}}", "'id2label' key 'zero'")]
    [InlineData("{\"hidden_dropout_prob\": 1.5}", "'hidden_dropout_prob' must be in [0, 1)")]
    [InlineData("[1, 2]", "must be a JSON object")]
    [InlineData("{\"vocab_size\": 30522,", "not valid JSON")]
    public void MalformedConfigNamesTheFieldAndTheFile(string json, string expected)
    {
        using var dir = CopyOfTinyCls();
        File.WriteAllText(dir.File("config.json"), json);
        var error = Assert.Throws<InvalidDataException>(() => BertForSequenceClassification.FromPretrained(dir.Path, options: Quiet));
        Assert.Contains(expected, error.Message);
        Assert.Contains("config.json", error.Message);
    }

    [Fact]
    public void MissingWeightsAndPickleOnlyFoldersSayWhatToDo()
    {
        using var dir = CopyOfTinyCls();
        File.Delete(dir.File("model.safetensors"));
        var missing = Assert.Throws<FileNotFoundException>(() => BertForSequenceClassification.FromPretrained(dir.Path, options: Quiet));
        Assert.Contains("model.safetensors", missing.Message);

        File.WriteAllBytes(dir.File("pytorch_model.bin"), [0x80, 0x02]);
        var pickle = Assert.Throws<NotSupportedException>(() => BertForSequenceClassification.FromPretrained(dir.Path, options: Quiet));
        Assert.Contains("safe_serialization", pickle.Message);
    }

    [Fact]
    public void ShardedCheckpointsLoadThroughTheirIndex()
    {
        using var dir = new TempDirectory();
        File.Copy(System.IO.Path.Combine(SharedFiles.TinyClsDir, "config.json"), dir.File("config.json"));
        using var source = SafetensorsFile.Open(System.IO.Path.Combine(SharedFiles.TinyClsDir, "model.safetensors"));
        var names = source.Tensors.Select(t => t.Name).ToList();
        var halves = new[] { names.Take(names.Count / 2).ToList(), names.Skip(names.Count / 2).ToList() };
        var map = new Dictionary<string, string>();
        for (var i = 0; i < 2; i++)
        {
            var shard = $"model-0000{i + 1}-of-00002.safetensors";
            SafetensorsWriter.Save(dir.File(shard), halves[i].Select(n => KeyValuePair.Create(n, source.ReadTensor(n))),
                new Dictionary<string, string> { ["format"] = "pt" });
            foreach (var n in halves[i]) map[n] = shard;
        }
        File.WriteAllText(dir.File("model.safetensors.index.json"),
            System.Text.Json.JsonSerializer.Serialize(new { metadata = new { total_size = 0 }, weight_map = map }));

        using var sharded = BertForSequenceClassification.FromPretrained(dir.Path, options: Quiet);
        using var single = BertForSequenceClassification.FromPretrained(SharedFiles.TinyClsDir, options: Quiet);
        Assert.True(sharded.LoadingInfo!.IsComplete);
        foreach (var (key, value) in single.state_dict())
            Assert.True(TensorAssert.BitEqual(value, sharded.state_dict()[key]), key);
    }

    [Fact]
    public void NeitherAFolderNorARepoIdIsAClearError()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() =>
            BertForSequenceClassification.FromPretrained("/no/such/folder//x", options: Quiet));
        Assert.Contains("/no/such/folder//x", error.Message);
    }
}
