using System.Text.Json;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Cli;

/// <summary><c>bertsharp train / evaluate / bench</c> end to end, with the model and IMDb coming through a loopback Hub.</summary>
public class CliTrainingTests
{
    private static Dictionary<string, string?> HubEnvironment(LoopbackHubServer server, TempDirectory cache) => new()
    {
        ["HF_ENDPOINT"] = server.Endpoint,
        ["HF_HUB_CACHE"] = cache.Path,
        ["HF_HUB_OFFLINE"] = "0",
    };

    [Fact]
    public void TrainFromTheHubWritesModelMetricsLogsAndCheckpointsThenEvaluateReadsThem()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub);
        using var cache = new TempDirectory();
        using var output = new TempDirectory();
        var train = CliProcess.Run([
            "train", "--model", "standin/bert-tiny-imdb-mlm", "--dataset", "stanfordnlp/imdb",
            "--train-samples", "32", "--eval-samples", "16", "--num-train-epochs", "1", "--max-length", "32",
            "--per-device-train-batch-size", "8", "--learning-rate", "1e-4", "--logging-steps", "2", "--output-dir", output.Path,
        ], HubEnvironment(server, cache));
        Assert.True(train.ExitCode == 0, train.Stderr + train.Stdout);
        Assert.Contains("{'loss': ", train.Stdout);
        Assert.Contains("'grad_norm': ", train.Stdout);
        Assert.Contains("'eval_accuracy': ", train.Stdout);
        Assert.Contains("'train_runtime': ", train.Stdout);
        foreach (var file in new[] { "config.json", "model.safetensors", "vocab.txt", "metrics.json", "log_history.json" })
            Assert.True(File.Exists(output.File(file)), $"{file} missing");
        Assert.True(Directory.Exists(output.File("checkpoint-4")));
        using (var metrics = JsonDocument.Parse(File.ReadAllText(output.File("metrics.json"))))
        {
            Assert.InRange(metrics.RootElement.GetProperty("eval_accuracy").GetDouble(), 0, 1);
            Assert.True(metrics.RootElement.TryGetProperty("train_samples_per_second", out _));
        }
        using (var config = JsonDocument.Parse(File.ReadAllText(output.File("config.json"))))
            Assert.Equal("pos", config.RootElement.GetProperty("id2label").GetProperty("1").GetString());
        // Both the model and the dataset went through the Hub cache, laid out like huggingface_hub's.
        Assert.True(Directory.Exists(Path.Combine(cache.Path, "models--standin--bert-tiny-imdb-mlm", "snapshots")));
        Assert.True(Directory.Exists(Path.Combine(cache.Path, "datasets--stanfordnlp--imdb", "snapshots")));

        var evaluate = CliProcess.Run(["evaluate", "--model", output.Path, "--dataset", SharedFiles.Path("data", "imdb"), "--samples", "24", "--max-length", "32", "--json"]);
        Assert.True(evaluate.ExitCode == 0, evaluate.Stderr);
        using var result = JsonDocument.Parse(evaluate.Stdout);
        Assert.Equal(24, result.RootElement.GetProperty("confusion_matrix").EnumerateArray().SelectMany(r => r.EnumerateArray()).Sum(x => x.GetInt64()));
        Assert.InRange(result.RootElement.GetProperty("metrics").GetProperty("eval_f1").GetDouble(), 0, 1);
    }

    [Fact]
    public void BenchPrintsThroughputAsJson()
    {
        var tokenize = CliProcess.Run(["bench", "tokenize", "--model", SharedFiles.TinyModelDir, "--dataset", SharedFiles.Path("data", "imdb"), "--samples", "200"]);
        Assert.True(tokenize.ExitCode == 0, tokenize.Stderr);
        using (var doc = JsonDocument.Parse(tokenize.Stdout))
        {
            Assert.Equal(200, doc.RootElement.GetProperty("reviews").GetInt32());
            Assert.True(doc.RootElement.GetProperty("reviews_per_second").GetDouble() > 0);
        }
        var train = CliProcess.Run(["bench", "train", "--model", SharedFiles.TinyModelDir, "--dataset", SharedFiles.Path("data", "imdb"),
            "--samples", "16", "--batch-size", "8", "--max-length", "32", "--device", "cpu"]);
        Assert.True(train.ExitCode == 0, train.Stderr);
        using var trainDoc = JsonDocument.Parse(train.Stdout);
        Assert.Equal("fp32", trainDoc.RootElement.GetProperty("common").GetProperty("precision").GetString());
        Assert.True(trainDoc.RootElement.GetProperty("train").GetProperty("train_samples_per_second").GetDouble() > 0);
    }

    [Theory]
    [InlineData(new[] { "train", "--learning-rate", "-1" }, "LearningRate must be a positive number")]
    [InlineData(new[] { "train", "--load-best-model-at-end", "--eval-strategy", "no" }, "LoadBestModelAtEnd needs an EvalStrategy")]
    [InlineData(new[] { "train", "--bf16", "--device", "cpu" }, "Bf16 = true needs a CUDA GPU")]
    [InlineData(new[] { "train", "--train-samples", "999999", "--dataset", "IMDB" }, "more than the 25,000 rows")]
    [InlineData(new[] { "evaluate", "--model", "MODEL", "--dataset", "IMDB", "--split", "validation" }, "no 'validation' split")]
    public void BadTrainingInputIsOneClearLine(string[] args, string expected)
    {
        var result = CliProcess.Run(args.Select(a => a switch
        {
            "MODEL" => SharedFiles.TinyModelDir,
            "IMDB" => SharedFiles.Path("data", "imdb"),
            _ => a,
        }).Concat(args[0] == "train" ? ["--model", SharedFiles.TinyModelDir, "--output-dir", Path.Combine(Path.GetTempPath(), "bertsharp-unused")] : []));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(expected, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public void AnUnwritableOutputFolderFailsBeforeAnythingIsLoaded()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("a-file"), "not a folder");
        // A dataset that does not exist: the output folder must be refused first, before any data or model is read.
        var result = CliProcess.Run(["train", "--model", SharedFiles.TinyModelDir, "--dataset", dir.File("missing.jsonl"), "--output-dir", Path.Combine(dir.File("a-file"), "out")]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("cannot be written", result.Stderr);
        Assert.DoesNotContain("missing.jsonl", result.Stderr);
    }

    [Fact]
    public void ANewRunRefusesAnotherRunsCheckpointsAndAResumeRefusesAnotherRunsData()
    {
        using var output = new TempDirectory();
        string[] Run(int samples, params string[] extra) =>
        [
            "train", "--model", SharedFiles.TinyModelDir, "--dataset", SharedFiles.Path("data", "imdb"), "--train-samples", samples.ToString(),
            "--eval-samples", "8", "--num-train-epochs", "2", "--max-length", "32", "--per-device-train-batch-size", "8",
            "--learning-rate", "1e-4", "--output-dir", output.Path, .. extra,
        ];
        var first = CliProcess.Run(Run(16));
        Assert.True(first.ExitCode == 0, first.Stderr + first.Stdout);
        Assert.True(Directory.Exists(output.File("checkpoint-4")));
        var metricsBefore = File.ReadAllText(output.File("metrics.json"));

        var second = CliProcess.Run(Run(24));
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("--overwrite-output-dir", second.Stderr);
        Assert.Contains("checkpoint-2 … checkpoint-4", second.Stderr);

        // Resuming the first run's checkpoint with other data is another run, not a continuation.
        var mixed = CliProcess.Run(Run(24, "--resume-from-checkpoint", "last"));
        Assert.Equal(1, mixed.ExitCode);
        Assert.Contains("the training data differ", mixed.Stderr);
        Assert.DoesNotContain("   at ", mixed.Stderr);

        // Resuming a finished run trains nothing and keeps the real figures.
        var finished = CliProcess.Run(Run(16, "--resume-from-checkpoint", "last"));
        Assert.True(finished.ExitCode == 0, finished.Stderr);
        Assert.Contains("Nothing is left to train", finished.Stdout);
        Assert.Equal(metricsBefore, File.ReadAllText(output.File("metrics.json")));

        var overwritten = CliProcess.Run(Run(24, "--overwrite-output-dir"));
        Assert.True(overwritten.ExitCode == 0, overwritten.Stderr);
        Assert.False(Directory.Exists(output.File("checkpoint-4")));
        Assert.True(Directory.Exists(output.File("checkpoint-6")));
    }

    [Fact]
    public void TrainHelpDocumentsEveryTrainingArgument()
    {
        var help = CliProcess.Run(["train", "--help"]);
        Assert.Equal(0, help.ExitCode);
        foreach (var flag in new[] { "--per-device-train-batch-size", "--learning-rate", "--weight-decay", "--eval-strategy", "--warmup-ratio", "--bf16", "--early-stopping-patience", "--train-samples" })
            Assert.Contains(flag, help.Stdout);
        Assert.Contains("Peak learning rate of AdamW", help.Stdout);
    }
}

/// <summary><c>bertsharp evaluate</c> scores named labels as the model names its classes (issue 10, defect 1).</summary>
public class CliEvaluateLabelTests
{
    [Fact]
    public void NamedLabelsResolveThroughTheModelsLabel2IdAndUnknownNamesAreErrors()
    {
        using var dir = new TempDirectory();
        var modelDir = dir.File("model");
        using (var model = BertSharp.Modeling.BertForSequenceClassification.FromPretrained(SharedFiles.TinyModelDir, numLabels: 2,
                   options: new BertSharp.Modeling.PretrainedOptions { Id2Label = new Dictionary<int, string> { [0] = "neg", [1] = "pos" }, Log = _ => { } }))
            model.SavePretrained(modelDir);
        BertSharp.Tokenization.BertTokenizer.FromDirectory(SharedFiles.TinyModelDir).SavePretrained(modelDir);

        // Only "pos" in the file: in sorted order it would be id 0, the model's "neg".
        File.WriteAllText(dir.File("pos.jsonl"), string.Concat(Enumerable.Repeat("{\"text\": \"A wonderful film.\", \"label\": \"pos\"}\n", 20)));
        var result = CliProcess.Run(["evaluate", "--model", modelDir, "--dataset", dir.File("pos.jsonl"), "--json"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var doc = JsonDocument.Parse(result.Stdout);
        var matrix = doc.RootElement.GetProperty("confusion_matrix").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt64()).ToArray()).ToArray();
        Assert.Equal([0L, 0L], matrix[0]); // no true "neg"
        Assert.Equal(20, matrix[1].Sum());  // all 20 are true "pos"

        File.WriteAllText(dir.File("odd.jsonl"), "{\"text\": \"Fine.\", \"label\": \"pos\"}\n{\"text\": \"Meh.\", \"label\": \"mixed\"}\n");
        var odd = CliProcess.Run(["evaluate", "--model", modelDir, "--dataset", dir.File("odd.jsonl")]);
        Assert.Equal(1, odd.ExitCode);
        Assert.Contains("'mixed'", odd.Stderr);
        Assert.Contains("0: neg, 1: pos", odd.Stderr);
    }
}
