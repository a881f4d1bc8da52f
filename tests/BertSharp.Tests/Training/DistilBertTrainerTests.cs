using System.Text.Json;
using BertSharp.Data;
using BertSharp.Modeling;
using BertSharp.Tests.TestSupport;
using BertSharp.Tokenization;
using BertSharp.Training;
using static TorchSharp.torch;

namespace BertSharp.Tests.Training;

/// <summary>The Trainer on a DistilBERT: it learns, checkpoints resume exactly, and the saved folder is a DistilBERT one.</summary>
public class DistilBertTrainerTests
{
    private static SequenceClassificationModel Model(int seed = 1)
    {
        manual_seed(seed);
        return AutoModelForSequenceClassification.FromPretrained(TinyDistilBert.Directory, options: new PretrainedOptions { Log = _ => { } });
    }

    private static TokenizedDataset Tokens(BertTokenizer tokenizer, int count) =>
        Imdb.Load("train", SharedFiles.Path("data", "imdb")).Shuffle(42).SelectRange(count).Tokenize(tokenizer, maxLength: 32);

    private static TrainingArguments Run(string outputDir, int epochs) => new()
    {
        OutputDir = outputDir,
        PerDeviceTrainBatchSize = 8,
        PerDeviceEvalBatchSize = 16,
        NumTrainEpochs = epochs,
        LearningRate = 3e-3,
        WeightDecay = 0.01,
        LoggingSteps = 2,
        SaveStrategy = IntervalStrategy.No,
        Device = DeviceChoice.Cpu,
    };

    [Fact]
    public void FineTuningLowersTheLossAndSavesADistilBertFolder()
    {
        using var dir = new TempDirectory();
        var tokenizer = AutoTokenizer.FromPretrained(TinyDistilBert.Directory);
        var data = Tokens(tokenizer, 16);
        using var model = Model();
        Assert.IsType<DistilBertForSequenceClassification>(model);
        using var trainer = new Trainer(model, Run(dir.Path, epochs: 10), data, evalDataset: data, tokenizer: tokenizer);
        var before = trainer.Evaluate()["eval_loss"];
        trainer.Train();
        var after = trainer.Evaluate()["eval_loss"];
        // 16 reviews seen 10 times: a model that trains at all fits them (0.69 to about 0.28 in a measured run); a broken
        // backward pass, optimizer or head would not.
        Assert.True(after < before - 0.1, $"eval loss on the training reviews went from {before:F4} to {after:F4}");
        var losses = trainer.State.LogHistory.Where(e => e.ContainsKey("loss")).Select(e => e["loss"]).ToList();
        Assert.True(losses[^1] < losses[0], $"training loss went from {losses[0]:F4} to {losses[^1]:F4}");

        trainer.SaveModel(dir.File("model"));
        using (var config = JsonDocument.Parse(File.ReadAllText(dir.File("model/config.json"))))
        {
            Assert.Equal("distilbert", config.RootElement.GetProperty("model_type").GetString());
            Assert.Equal("DistilBertForSequenceClassification", config.RootElement.GetProperty("architectures")[0].GetString());
            Assert.Equal("pos", config.RootElement.GetProperty("id2label").GetProperty("1").GetString());
        }
        using (var tokenizerConfig = JsonDocument.Parse(File.ReadAllText(dir.File("model/tokenizer_config.json"))))
            Assert.Equal("DistilBertTokenizer", tokenizerConfig.RootElement.GetProperty("tokenizer_class").GetString());
        using var reloaded = AutoModelForSequenceClassification.FromPretrained(dir.File("model"), options: new PretrainedOptions { Log = _ => { } });
        Assert.True(reloaded.LoadingInfo!.IsComplete);
        foreach (var (key, value) in model.state_dict())
            Assert.True(TensorAssert.BitEqual(value, reloaded.state_dict()[key]), key);
    }

    [Fact]
    public void ResumingADistilBertCheckpointContinuesExactly()
    {
        using var straightDir = new TempDirectory();
        using var resumedDir = new TempDirectory();
        var tokenizer = AutoTokenizer.FromPretrained(TinyDistilBert.Directory);
        var data = Tokens(tokenizer, 16);
        var args = Run(straightDir.Path, epochs: 2) with { SaveStrategy = IntervalStrategy.Epoch };

        Dictionary<string, Tensor> straight;
        using (var model = Model())
        using (var trainer = new Trainer(model, args, data, tokenizer: tokenizer))
        {
            trainer.Train();
            straight = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        }
        using (var model = Model())
        using (var trainer = new Trainer(model, args with { OutputDir = resumedDir.Path }, data, tokenizer: tokenizer))
        {
            using var cancel = new CancellationTokenSource();
            trainer.CheckpointSaved += _ => cancel.Cancel();
            Assert.ThrowsAny<OperationCanceledException>(() => trainer.Train(cancellationToken: cancel.Token));
        }
        using var resumed = Model(seed: 999);
        using var resumedTrainer = new Trainer(resumed, args with { OutputDir = resumedDir.Path }, data, tokenizer: tokenizer);
        resumedTrainer.Train(resumeFromCheckpoint: Checkpoint.Latest(resumedDir.Path)!.Directory);
        foreach (var (key, value) in resumed.state_dict())
            Assert.True(TensorAssert.BitEqual(straight[key], value), $"{key} differs after resuming");
    }
}
