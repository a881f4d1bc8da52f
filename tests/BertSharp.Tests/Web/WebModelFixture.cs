using BertSharp.Data;
using BertSharp.Inference;
using BertSharp.Modeling;
using BertSharp.Tests.TestSupport;
using BertSharp.Tokenization;
using BertSharp.Training;
using BertSharp.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace BertSharp.Tests.Web;

/// <summary>
/// A classifier fine-tuned from the stand-in for the web tests: 64 IMDb reviews, 64 tokens, one epoch (seconds),
/// saved once per test run to a temporary folder named like a model (<c>tiny-imdb-sentiment</c>).
/// </summary>
public sealed class WebModelFixture : IDisposable
{
    public const string ModelName = "tiny-imdb-sentiment";

    private readonly TempDirectory _root = new("bertsharp-web-model");

    public WebModelFixture()
    {
        ModelDir = Path.Combine(_root.Path, ModelName);
        var data = Imdb.Load("train", SharedFiles.Path("data", "imdb")).Shuffle(42).SelectRange(64);
        manual_seed(7);
        var id2Label = (data.LabelNames ?? ["neg", "pos"]).Select((name, i) => (name, i)).ToDictionary(x => x.i, x => x.name);
        using var model = BertForSequenceClassification.FromPretrained(SharedFiles.TinyModelDir, numLabels: 2,
            options: new PretrainedOptions { Id2Label = id2Label, Log = _ => { } });
        var tokenizer = BertTokenizer.FromDirectory(SharedFiles.TinyModelDir);
        var args = new TrainingArguments
        {
            OutputDir = Path.Combine(_root.Path, "run"),
            PerDeviceTrainBatchSize = 8,
            NumTrainEpochs = 1,
            LearningRate = 1e-4,
            LoggingSteps = 1000,
            SaveStrategy = IntervalStrategy.No,
            Device = DeviceChoice.Cpu,
        };
        using var trainer = new Trainer(model, args, data.Tokenize(tokenizer, maxLength: 64), tokenizer: tokenizer);
        trainer.Train();
        trainer.SaveModel(ModelDir);
        Pipeline = TextClassificationPipeline.FromPretrained(ModelDir, new PretrainedOptions { Log = _ => { } });
    }

    /// <summary>The saved model folder (config.json with id2label neg/pos, weights, tokenizer).</summary>
    public string ModelDir { get; }

    /// <summary>The same model loaded directly, to compare the server's answers with.</summary>
    public TextClassificationPipeline Pipeline { get; }

    public void Dispose()
    {
        Pipeline.Dispose();
        _root.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class WebCollection : ICollectionFixture<WebModelFixture>
{
    public const string Name = "Web";
}

/// <summary>The web app on an in-memory TestServer (no socket), built by the same <see cref="WebApp.Build"/> the CLI uses.</summary>
public sealed class InProcessServer : IAsyncDisposable
{
    private InProcessServer(WebApplication app)
    {
        App = app;
        Client = app.GetTestClient();
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public SentimentServer Server => (SentimentServer)App.Services.GetService(typeof(SentimentServer))!;

    public static async Task<InProcessServer> StartAsync(WebAppOptions options)
    {
        var app = WebApp.Build(options with
        {
            ConfigureBuilder = builder =>
            {
                builder.WebHost.UseTestServer();
                // The failure tests log stack traces on purpose; keep the test output for real failures.
                builder.Logging.ClearProviders();
            },
        });
        await app.StartAsync();
        return new InProcessServer(app);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
