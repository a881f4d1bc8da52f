using System.Text;
using System.Text.Json;
using BertSharp.Inference;
using BertSharp.Modeling;
using BertSharp.Tests.TestSupport;
using BertSharp.Tests.Web;

namespace BertSharp.Tests.Cli;

/// <summary><c>bertsharp predict / serve / train / evaluate</c> on a DistilBERT folder, run as a user runs them.</summary>
public class CliDistilBertTests
{
    [Fact]
    public void PredictOnADistilBertFolderGivesThePipelinesAnswer()
    {
        const string review = "A wonderful, moving film.";
        var result = CliProcess.Run(["predict", "--model", TinyDistilBert.Directory, "--text", review, "--json"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        // Every weight came from the folder: no loading report.
        Assert.DoesNotContain("newly initialized", result.Stderr);
        using var doc = JsonDocument.Parse(result.Stdout.Trim());
        using var pipeline = TextClassificationPipeline.FromPretrained(TinyDistilBert.Directory, new PretrainedOptions { Log = _ => { } });
        var expected = pipeline.Predict(review);
        Assert.Equal(expected.Label, doc.RootElement.GetProperty("label").GetString());
        var probabilities = doc.RootElement.GetProperty("probabilities").EnumerateArray().Select(x => x.GetDouble()).ToList();
        for (var i = 0; i < 2; i++) Assert.Equal(expected.Probabilities[i], probabilities[i], 1e-5);
    }

    [Fact]
    public async Task ServeOnADistilBertFolderAnswersTheApi()
    {
        var (server, address) = WebEndToEndTests.StartServer(TinyDistilBert.Directory);
        using var _ = server;
        using var client = WebEndToEndTests.LoopbackClient(address);
        string[] reviews = ["Great fun!", "Terrible. The worst film I have seen in years."];
        using var response = await client.PostAsync("/api/predict",
            new StringContent(JsonSerializer.Serialize(new { texts = reviews }), Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var predictions = JsonDocument.Parse(body).RootElement.GetProperty("predictions").EnumerateArray().ToList();
        using var pipeline = TextClassificationPipeline.FromPretrained(TinyDistilBert.Directory, new PretrainedOptions { Log = _ => { } });
        for (var i = 0; i < reviews.Length; i++)
        {
            var expected = pipeline.Predict(reviews[i]);
            Assert.Equal(expected.Label, predictions[i].GetProperty("label").GetString());
            Assert.Equal(expected.Probabilities[1], predictions[i].GetProperty("probabilities").GetProperty("pos").GetDouble(), 1e-4);
        }
        using var health = JsonDocument.Parse(await client.GetStringAsync("/healthz"));
        Assert.Equal(["neg", "pos"], health.RootElement.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
    }

    [Fact]
    public void TrainDistilBertBaseUncasedFromAHubFineTunesItAndEvaluateReadsTheResult()
    {
        // The tutorial's "try distilbert-base-uncased", through a loopback Hub whose distilbert-base-uncased is the tiny
        // DistilBERT laid out like the real repo's (no tokenizer_class: the class comes from config.json's model_type).
        using var hub = new TempDirectory();
        var repo = Path.Combine(hub.Path, "distilbert-base-uncased", "resolve", "main");
        Directory.CreateDirectory(repo);
        foreach (var file in Directory.GetFiles(TinyDistilBert.Directory))
            File.Copy(file, Path.Combine(repo, Path.GetFileName(file)));
        using var server = new LoopbackHubServer(hub.Path, LoopbackHubMode.Hub);
        using var cache = new TempDirectory();
        using var output = new TempDirectory();
        var train = CliProcess.Run([
            "train", "--model", "distilbert-base-uncased", "--dataset", SharedFiles.Path("data", "imdb"),
            "--train-samples", "32", "--eval-samples", "16", "--num-train-epochs", "1", "--max-length", "32",
            "--per-device-train-batch-size", "8", "--learning-rate", "1e-3", "--logging-steps", "2", "--output-dir", output.Path,
        ], new Dictionary<string, string?> { ["HF_ENDPOINT"] = server.Endpoint, ["HF_HUB_CACHE"] = cache.Path, ["HF_HUB_OFFLINE"] = "0" });
        Assert.True(train.ExitCode == 0, train.Stderr + train.Stdout);
        Assert.True(Directory.Exists(Path.Combine(cache.Path, "models--distilbert-base-uncased", "snapshots")));
        Assert.Contains("'eval_accuracy': ", train.Stdout);
        using (var config = JsonDocument.Parse(File.ReadAllText(output.File("config.json"))))
        {
            Assert.Equal("distilbert", config.RootElement.GetProperty("model_type").GetString());
            Assert.Equal("DistilBertForSequenceClassification", config.RootElement.GetProperty("architectures")[0].GetString());
        }
        using (var tokenizerConfig = JsonDocument.Parse(File.ReadAllText(output.File("tokenizer_config.json"))))
            Assert.Equal("DistilBertTokenizer", tokenizerConfig.RootElement.GetProperty("tokenizer_class").GetString());
        Assert.True(Directory.Exists(output.File("checkpoint-4")));
        // The weights moved: the saved classifier is not the folder's.
        using var before = AutoModelForSequenceClassification.FromPretrained(TinyDistilBert.Directory, options: new PretrainedOptions { Log = _ => { } });
        using var after = AutoModelForSequenceClassification.FromPretrained(output.Path, options: new PretrainedOptions { Log = _ => { } });
        Assert.False(TensorAssert.BitEqual(before.state_dict()["classifier.weight"], after.state_dict()["classifier.weight"]));

        var evaluate = CliProcess.Run(["evaluate", "--model", output.Path, "--dataset", SharedFiles.Path("data", "imdb"), "--samples", "16", "--max-length", "32", "--json"]);
        Assert.True(evaluate.ExitCode == 0, evaluate.Stderr);
        using var result = JsonDocument.Parse(evaluate.Stdout);
        Assert.Equal(16, result.RootElement.GetProperty("confusion_matrix").EnumerateArray().SelectMany(r => r.EnumerateArray()).Sum(x => x.GetInt64()));
    }
}
