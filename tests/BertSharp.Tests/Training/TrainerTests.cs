using System.Diagnostics;
using System.Text.Json;
using BertSharp.Data;
using BertSharp.Modeling;
using BertSharp.Tests.TestSupport;
using BertSharp.Tokenization;
using BertSharp.Training;
using static TorchSharp.torch;

namespace BertSharp.Tests.Training;

/// <summary>The Trainer on the stand-in model and small IMDb subsets, short sequences, so each run takes seconds.</summary>
public class TrainerTests
{
    private static readonly Lazy<TextClassificationDataset> ImdbTrain = new(() => Imdb.Load("train", SharedFiles.Path("data", "imdb")));
    internal static readonly Lazy<BertTokenizer> StandInTokenizer = new(() => BertTokenizer.FromDirectory(SharedFiles.TinyModelDir));

    internal static BertForSequenceClassification StandIn(int seed = 1)
    {
        manual_seed(seed);
        return BertForSequenceClassification.FromPretrained(SharedFiles.TinyModelDir, numLabels: 2, options: new PretrainedOptions { Log = _ => { } });
    }

    internal static TextClassificationDataset Subset(int count, int skip = 0) => ImdbTrain.Value.Shuffle(42).SelectRange(skip, count);

    /// <summary>A subset tokenised to 48 tokens: short sequences keep each run to seconds.</summary>
    internal static TokenizedDataset Tokens(int count, int skip = 0) => Subset(count, skip).Tokenize(StandInTokenizer.Value, maxLength: 48);

    private static TrainingArguments SmallRun(string outputDir) => new()
    {
        OutputDir = outputDir,
        PerDeviceTrainBatchSize = 8,
        PerDeviceEvalBatchSize = 16,
        NumTrainEpochs = 2,
        LearningRate = 1e-4,
        WeightDecay = 0.01,
        LoggingSteps = 2,
        SaveStrategy = IntervalStrategy.No,
        Device = DeviceChoice.Cpu,
    };

    private static Dictionary<string, Tensor> Weights(BertForSequenceClassification model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());

    private static void AssertSameWeights(Dictionary<string, Tensor> expected, BertForSequenceClassification actual)
    {
        foreach (var (key, value) in actual.state_dict())
            Assert.True(TensorAssert.BitEqual(expected[key], value), $"{key} differs");
    }

    [Fact]
    public void SameSeedGivesTheSameRunAndLogsHuggingFaceKeys()
    {
        using var dir = new TempDirectory();
        var data = Tokens(48);
        Dictionary<string, Tensor> first;
        List<Dictionary<string, double>> firstLog;
        using (var model = StandIn())
        using (var trainer = new Trainer(model, SmallRun(dir.Path), data, tokenizer: StandInTokenizer.Value))
        {
            trainer.Train();
            first = Weights(model);
            firstLog = trainer.State.LogHistory;
        }
        using var again = StandIn();
        using var trainer2 = new Trainer(again, SmallRun(dir.Path), data, tokenizer: StandInTokenizer.Value);
        var output = trainer2.Train();
        AssertSameWeights(first, again);
        Assert.Equal(firstLog[0]["loss"], trainer2.State.LogHistory[0]["loss"]);

        Assert.Equal(12, output.GlobalStep); // 48 / 8 = 6 steps per epoch, 2 epochs
        var log = trainer2.State.LogHistory[0];
        Assert.Equal(["loss", "grad_norm", "learning_rate", "epoch", "step"], log.Keys);
        Assert.Equal(2, log["step"]);
        // Plain double arithmetic on counts: exact up to an ulp or two of how the divisions are ordered.
        Assert.Equal(2.0 / 6, log["epoch"], 1e-15);
        Assert.Equal(1e-4 * 10 / 12, log["learning_rate"], 1e-4 * 1e-12); // after step 2 of 12, linear decay, no warm-up
        var summary = trainer2.State.LogHistory[^1];
        Assert.True(summary.ContainsKey("train_runtime") && summary.ContainsKey("train_samples_per_second") && summary.ContainsKey("train_loss"));
    }

    [Fact]
    public void ResumingFromACheckpointContinuesExactly()
    {
        using var straightDir = new TempDirectory();
        using var resumedDir = new TempDirectory();
        var data = Tokens(40);
        var args = SmallRun(straightDir.Path) with { SaveStrategy = IntervalStrategy.Epoch };

        Dictionary<string, Tensor> straight;
        using (var model = StandIn())
        using (var trainer = new Trainer(model, args, data, tokenizer: StandInTokenizer.Value))
        {
            trainer.Train();
            straight = Weights(model);
        }

        // The interrupted run: cancelled (as Ctrl+C would) right after the checkpoint at the end of epoch 1.
        using (var model = StandIn())
        using (var trainer = new Trainer(model, args with { OutputDir = resumedDir.Path }, data, tokenizer: StandInTokenizer.Value))
        {
            using var cancel = new CancellationTokenSource();
            trainer.CheckpointSaved += _ => cancel.Cancel();
            Assert.ThrowsAny<OperationCanceledException>(() => trainer.Train(cancellationToken: cancel.Token));
        }
        var checkpoint = Checkpoint.Latest(resumedDir.Path)!.Directory;
        Assert.EndsWith("checkpoint-5", checkpoint);
        using var resumed = StandIn(seed: 999); // different init: the checkpoint must overwrite everything
        using var resumedTrainer = new Trainer(resumed, args with { OutputDir = resumedDir.Path }, data, tokenizer: StandInTokenizer.Value);
        resumedTrainer.Train(resumeFromCheckpoint: checkpoint);
        AssertSameWeights(straight, resumed);
        Assert.Equal(10, resumedTrainer.State.GlobalStep);
    }

    [Fact]
    public void CheckpointsHoldModelOptimizerAndStateAndRespectTheLimit()
    {
        using var dir = new TempDirectory();
        var args = SmallRun(dir.Path) with
        {
            SaveStrategy = IntervalStrategy.Steps, SaveSteps = 2, SaveTotalLimit = 2,
            EvalStrategy = IntervalStrategy.Steps, EvalSteps = 2, MetricForBestModel = "accuracy", LoadBestModelAtEnd = true,
            NumTrainEpochs = 1,
        };
        using var model = StandIn();
        using var trainer = new Trainer(model, args, Tokens(48), Tokens(32, skip: 100), StandInTokenizer.Value);
        var saved = new List<string>();
        trainer.CheckpointSaved += saved.Add;
        trainer.Train();

        Assert.Equal(3, saved.Count);
        var remaining = Checkpoint.List(dir.Path).Select(c => c.Directory).ToList();
        var best = trainer.State.BestModelCheckpoint!;
        Assert.Contains(best, remaining);
        Assert.True(remaining.Count <= 3 && remaining.Contains(saved[^1]));
        foreach (var file in new[] { "config.json", "model.safetensors", "vocab.txt", "optimizer.safetensors", "trainer_state.json", "rng_state.safetensors", "training_args.json" })
            Assert.True(File.Exists(Path.Combine(saved[^1], file)), $"{file} missing from the checkpoint");
        Assert.Empty(Directory.GetDirectories(dir.Path, ".checkpoint-*"));
        using var stateJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(saved[^1], "trainer_state.json")));
        Assert.Equal(6, stateJson.RootElement.GetProperty("global_step").GetInt32());
        Assert.Contains(stateJson.RootElement.GetProperty("log_history").EnumerateArray(), e => e.TryGetProperty("eval_accuracy", out _));

        // Loading the best checkpoint at the end means the model now predicts what that checkpoint predicted.
        var evalAtBest = trainer.State.LogHistory.First(e => e.TryGetValue("eval_accuracy", out var a) && a == trainer.State.BestMetric);
        var again = trainer.Evaluate(Tokens(32, skip: 100));
        Assert.Equal(evalAtBest["eval_accuracy"], again["eval_accuracy"]);
    }

    [Fact]
    public void EvaluationReportsTheEvalKeysAndLeavesDropoutOffOnlyWhileItRuns()
    {
        using var dir = new TempDirectory();
        using var model = StandIn();
        using var trainer = new Trainer(model, SmallRun(dir.Path), Tokens(16), Tokens(20, skip: 50), StandInTokenizer.Value);
        model.train();
        var first = trainer.Evaluate();
        Assert.True(model.training);
        var second = trainer.Evaluate();
        Assert.Equal(first["eval_loss"], second["eval_loss"]); // dropout off: deterministic
        foreach (var key in new[] { "eval_loss", "eval_accuracy", "eval_f1", "eval_precision", "eval_recall", "eval_runtime", "eval_samples_per_second", "eval_steps_per_second", "epoch" })
            Assert.True(first.ContainsKey(key), key);
        var prediction = trainer.Predict(Tokens(20, skip: 50));
        Assert.Equal(20, prediction.Predictions.Length);
        Assert.Equal(20, prediction.Classification.ConfusionMatrix.Total);
        Assert.Equal(first["eval_accuracy"], prediction.Classification.Accuracy);
    }

    [Fact]
    public void EarlyStoppingStopsAfterPatienceEvaluationsWithoutImprovement()
    {
        using var dir = new TempDirectory();
        // A learning rate of ~0 never improves eval_loss after the first evaluation.
        var args = SmallRun(dir.Path) with
        {
            LearningRate = 1e-12, EvalStrategy = IntervalStrategy.Steps, EvalSteps = 1, EarlyStoppingPatience = 2, NumTrainEpochs = 3,
        };
        using var model = StandIn();
        using var trainer = new Trainer(model, args, Tokens(32), Tokens(16, skip: 60), StandInTokenizer.Value);
        var output = trainer.Train();
        Assert.True(output.GlobalStep < 12, $"trained {output.GlobalStep} steps instead of stopping early");
        Assert.Equal(2, trainer.State.EarlyStoppingPatienceCounter);
    }

    [Fact]
    public void NonFiniteLossStopsWithTheStepAndAdvice()
    {
        using var dir = new TempDirectory();
        using var model = StandIn();
        using (no_grad()) model.state_dict()["classifier.weight"].fill_(float.NaN);
        using var trainer = new Trainer(model, SmallRun(dir.Path), Tokens(16), tokenizer: StandInTokenizer.Value);
        var error = Assert.Throws<TrainingDivergedException>(() => trainer.Train());
        Assert.Contains("at step 1", error.Message);
        Assert.Contains("lower LearningRate", error.Message);
    }

    [Fact]
    public void MismatchedLabelsAndUnlabeledDataAreClearErrors()
    {
        using var dir = new TempDirectory();
        using var model = StandIn();
        // Refused when the Trainer is made, before any step runs.
        var threeClasses = new TextClassificationDataset([new TextExample("a", 0), new TextExample("b", 2)], source: "three.csv").Tokenize(StandInTokenizer.Value);
        Assert.Contains("numLabels: 3", Assert.Throws<InvalidDataException>(() => new Trainer(model, SmallRun(dir.Path), threeClasses)).Message);
        var unlabeled = new TextClassificationDataset([new TextExample("a", -1)], source: "unsup.parquet").Tokenize(StandInTokenizer.Value);
        Assert.Contains("unsup.parquet", Assert.Throws<InvalidDataException>(() => new Trainer(model, SmallRun(dir.Path), unlabeled)).Message);
        var oneClass = new TextClassificationDataset([new TextExample("a", 1), new TextExample("b", 1)], source: "positive.jsonl").Tokenize(StandInTokenizer.Value);
        var single = Assert.Throws<InvalidDataException>(() => new Trainer(model, SmallRun(dir.Path), oneClass)).Message;
        Assert.Contains("positive.jsonl", single);
        Assert.Contains("label 1", single);
        var longReview = string.Join(" ", Enumerable.Repeat("film", 700));
        var tooLong = new TextClassificationDataset([new TextExample(longReview, 0), new TextExample("Dull.", 1)], source: "long.jsonl").Tokenize(StandInTokenizer.Value, maxLength: 600);
        Assert.Contains("512 positions", Assert.Throws<InvalidDataException>(() => new Trainer(model, SmallRun(dir.Path), tooLong)).Message);
    }

    [Fact]
    public void GradientAccumulationAveragesMicroBatches()
    {
        // Two micro-batches of 4 accumulated must move the weights like one batch of 8 (dropout off, same examples).
        var examples = Subset(8).Tokenize(StandInTokenizer.Value, maxLength: 32).ToList();
        var noDropout = new PretrainedOptions { Log = _ => { }, ConfigOverrides = c => { var bert = (BertConfig)c; (bert.HiddenDropoutProb, bert.AttentionProbsDropoutProb) = (0, 0); } };
        using var dir = new TempDirectory();
        manual_seed(3);
        using var a = BertForSequenceClassification.FromPretrained(SharedFiles.TinyModelDir, numLabels: 2, options: noDropout);
        manual_seed(3);
        using var b = BertForSequenceClassification.FromPretrained(SharedFiles.TinyModelDir, numLabels: 2, options: noDropout);
        using var whole = new Trainer(a, SmallRun(dir.Path));
        using var accumulated = new Trainer(b, SmallRun(dir.Path) with { GradientAccumulationSteps = 2 });
        var (lossWhole, normWhole) = whole.TrainingStep([examples], 1e-3);
        var (lossAcc, normAcc) = accumulated.TrainingStep([examples.Take(4).ToList(), examples.Skip(4).ToList()], 1e-3);
        // Micro-batches pad to their own longest example; with the attention mask the math is the same. Only float32
        // rounding differs: batches of 4 may run other GEMM kernels than one of 8, the mean of two means sums in
        // another order, and the accumulated gradient adds one rounding per weight. That is ~1e-7 on a loss of 0.69
        // and on a norm's relative size (bit-equal on the machine that set these bounds); 10x that is allowed.
        Assert.Equal(lossWhole, lossAcc, 1e-6);
        Assert.Equal(normWhole, normAcc, 1e-5 * normWhole);
        // Adam's first step moves every weight by about ±lr whatever the gradient's size, so rounding noise in a
        // near-zero gradient can flip a few weights' direction; all but a sliver must agree.
        // The attention key bias has an exactly zero true gradient (it shifts every score of a query equally, which
        // softmax ignores), so its update is all rounding noise and is left out.
        foreach (var (key, value) in a.state_dict().Where(kv => !kv.Key.EndsWith("attention.self.key.bias")))
        {
            using var differ = (value - b.state_dict()[key]).abs() > 1e-6;
            var fraction = differ.to(ScalarType.Float32).mean().item<float>();
            Assert.True(fraction < 0.01, $"{key}: {fraction:P2} of the weights differ");
        }
    }
}
