using System.CommandLine;
using BertSharp.Data;
using BertSharp.Hub;
using BertSharp.Modeling;
using BertSharp.Web;

namespace BertSharp.Cli.Commands;

/// <summary>
/// <c>bertsharp bench serve</c>: the web app started in this process on a loopback port, loaded by concurrent
/// HttpClient loops posting real reviews (see <see cref="LoadBenchmark"/>); prints requests/s, latency percentiles,
/// errors and the server's mean batch size as JSON.
/// </summary>
internal sealed class ServeBench
{
    private readonly Option<int> _clients = new("--clients") { Description = "serve: concurrent clients.", DefaultValueFactory = _ => 64 };
    private readonly Option<double> _duration = new("--duration") { Description = "serve: seconds of measured load.", DefaultValueFactory = _ => 30 };
    private readonly Option<double> _warmup = new("--warmup") { Description = "serve: seconds of unmeasured load first.", DefaultValueFactory = _ => 3 };
    private readonly Option<long> _maxRequests = new("--max-requests") { Description = "serve: cap on measured requests.", DefaultValueFactory = _ => 1_000_000 };
    private readonly Option<int> _textsPerRequest = new("--texts-per-request") { Description = "serve: reviews per request.", DefaultValueFactory = _ => 1 };
    private readonly Option<double> _batchWindow = ServeCommand.BatchWindowMs();

    public ServeBench(Command bench)
    {
        foreach (var option in new Option[] { _clients, _duration, _warmup, _maxRequests, _textsPerRequest, _batchWindow })
            bench.Options.Add(option);
    }

    public object Run(ParseResult parse, string model, TextClassificationDataset data, int maxBatchSize, int? maxLength, HubClient hub)
    {
        var reviews = data.Select(e => e.Text).ToArray();
        var options = new LoadBenchmarkOptions
        {
            Clients = SharedOptions.CheckAtLeast(parse.GetValue(_clients), 1, "--clients"),
            Duration = Seconds(parse.GetValue(_duration), "--duration", 0.1),
            Warmup = Seconds(parse.GetValue(_warmup), "--warmup", 0),
            MaxRequests = parse.GetValue(_maxRequests) is >= 1 and var cap ? cap : throw new CliUsageException($"--max-requests must be at least 1 (got {parse.GetValue(_maxRequests)})"),
            TextsPerRequest = SharedOptions.CheckAtLeast(parse.GetValue(_textsPerRequest), 1, "--texts-per-request"),
        };
        var server = new WebAppOptions
        {
            Model = model,
            Pretrained = new PretrainedOptions { Hub = hub },
            MaxBatchSize = SharedOptions.CheckAtLeast(maxBatchSize, 1, "--batch-size"),
            BatchWindow = ServeCommand.Window(parse.GetValue(_batchWindow)),
            MaxTexts = Math.Max(64, options.TextsPerRequest),
            MaxLength = maxLength is { } n ? SharedOptions.CheckAtLeast(n, 2, "--max-length") : null,
        };
        var result = LoadBenchmark.RunAsync(server, reviews, options).GetAwaiter().GetResult();
        return new
        {
            task = "serve",
            model,
            server = new
            {
                address = "127.0.0.1 (in-process, loopback)",
                batching = server.BatchWindow > TimeSpan.Zero,
                batch_window_ms = server.BatchWindow.TotalMilliseconds,
                max_batch_size = server.MaxBatchSize,
                max_length = server.MaxLength,
                threads = TorchSharp.torch.get_num_threads(),
            },
            clients = result.Clients,
            texts_per_request = result.TextsPerRequest,
            reviews = reviews.Length,
            duration_s = result.Seconds,
            requests = result.Requests,
            errors = result.Errors,
            requests_per_second = result.RequestsPerSecond,
            texts_per_second = result.TextsPerSecond,
            latency_ms = new { mean = result.LatencyMs.Mean, p50 = result.LatencyMs.P50, p95 = result.LatencyMs.P95, p99 = result.LatencyMs.P99, max = result.LatencyMs.Max },
            batches = result.Server.Batches,
            mean_batch_size = Math.Round(result.Server.MeanBatchSize, 2),
            largest_batch = result.Server.LargestBatch,
            first_error = result.FirstError,
            machine = new { processor_count = Environment.ProcessorCount, note = "clients and server share this machine's cores" },
        };
    }

    private static TimeSpan Seconds(double value, string option, double minimum) =>
        double.IsFinite(value) && value >= minimum && value <= 3600
            ? TimeSpan.FromSeconds(value)
            : throw new CliUsageException($"{option} must be between {minimum} and 3600 seconds (got {value})");
}
