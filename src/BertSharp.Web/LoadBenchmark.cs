using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace BertSharp.Web;

/// <summary>How <see cref="LoadBenchmark.RunAsync"/> loads the server.</summary>
public sealed record LoadBenchmarkOptions
{
    /// <summary>Concurrent clients, each posting its next request as soon as the last one is answered.</summary>
    public int Clients { get; init; } = 64;

    /// <summary>How long clients start new requests; requests in flight at the end still finish and count.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A cap on requests in the measured phase, whatever the duration.</summary>
    public long MaxRequests { get; init; } = 1_000_000;

    /// <summary>Texts per request: 1 sends <c>{"text"}</c>, more send <c>{"texts": [...]}</c>.</summary>
    public int TextsPerRequest { get; init; } = 1;

    /// <summary>Unmeasured load first (first forward passes, connection set-up, JIT).</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>One request's time limit; a request over it counts as an error.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    internal void Validate()
    {
        if (Clients is < 1 or > 4096) throw new ArgumentException($"Clients must be between 1 and 4096 (got {Clients}).");
        if (Duration <= TimeSpan.Zero || Duration > TimeSpan.FromHours(1)) throw new ArgumentException($"The duration must be more than 0 s and at most 1 hour (got {Duration.TotalSeconds} s).");
        if (MaxRequests < 1) throw new ArgumentException($"The request cap must be at least 1 (got {MaxRequests}).");
        if (TextsPerRequest < 1) throw new ArgumentException($"Texts per request must be at least 1 (got {TextsPerRequest}).");
        if (Warmup < TimeSpan.Zero || Warmup > TimeSpan.FromMinutes(5)) throw new ArgumentException($"The warm-up must be between 0 s and 5 minutes (got {Warmup.TotalSeconds} s).");
    }
}

/// <summary>Latency percentiles in milliseconds (nearest rank).</summary>
public sealed record LatencySummary(double Mean, double P50, double P95, double P99, double Max);

/// <summary>What a load run measured, client side and server side.</summary>
public sealed record LoadBenchmarkResult(
    int Clients,
    int TextsPerRequest,
    double Seconds,
    long Requests,
    long Errors,
    double RequestsPerSecond,
    double TextsPerSecond,
    LatencySummary LatencyMs,
    BatcherStatistics Server,
    string? FirstError);

/// <summary>
/// A load test of the web app: starts it in this process on <c>http://127.0.0.1:{free port}</c> (loopback only,
/// whatever <see cref="WebAppOptions.Urls"/> says), runs <see cref="LoadBenchmarkOptions.Clients"/> HttpClient loops
/// posting the given texts round robin, for a bounded time and request count, then stops the app.
/// Clients and server share the machine's cores, so the figures are a lower bound for a dedicated server.
/// </summary>
public static class LoadBenchmark
{
    public static async Task<LoadBenchmarkResult> RunAsync(WebAppOptions server, IReadOnlyList<string> texts, LoadBenchmarkOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var usable = texts.Where(t => !string.IsNullOrWhiteSpace(t)).ToArray();
        if (usable.Length == 0) throw new ArgumentException("The load test needs at least one non-empty text.");
        if (options.TextsPerRequest > server.MaxTexts)
            throw new ArgumentException($"{options.TextsPerRequest} texts per request is over the server's limit of {server.MaxTexts}.");

        var configure = server.ConfigureBuilder;
        await using var app = WebApp.Build(server with
        {
            Urls = "http://127.0.0.1:0",
            ConfigureBuilder = builder =>
            {
                // The server's log goes to stderr: stdout is for the caller's results.
                builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
                configure?.Invoke(builder);
            },
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var address = WebApp.Addresses(app).First(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal));
            using var handler = new SocketsHttpHandler
            {
                UseProxy = false, // loopback, never through a proxy
                MaxConnectionsPerServer = options.Clients,
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
                AllowAutoRedirect = false,
            };
            using var http = new HttpClient(handler) { BaseAddress = new Uri(address), Timeout = options.RequestTimeout };
            var bodies = Bodies(usable, options.TextsPerRequest);
            var batcher = app.Services.GetRequiredService<SentimentServer>().Batcher;

            if (options.Warmup > TimeSpan.Zero)
                await RunPhaseAsync(http, bodies, options.Clients, options.Warmup, options.MaxRequests, cancellationToken).ConfigureAwait(false);
            batcher.ResetStatistics();
            var phase = await RunPhaseAsync(http, bodies, options.Clients, options.Duration, options.MaxRequests, cancellationToken).ConfigureAwait(false);
            var stats = batcher.Statistics;

            var latencies = phase.Latencies;
            latencies.Sort();
            var ok = latencies.Count;
            return new LoadBenchmarkResult(
                options.Clients, options.TextsPerRequest, Math.Round(phase.Seconds, 3), ok + phase.Errors, phase.Errors,
                Math.Round(ok / phase.Seconds, 2), Math.Round(ok * options.TextsPerRequest / phase.Seconds, 2),
                Summarize(latencies), stats, phase.FirstError);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static string[] Bodies(string[] texts, int perRequest)
    {
        // One body per starting position, so clients cycle through the reviews without building JSON in the timed loop.
        var count = Math.Min(texts.Length, 4096);
        return Enumerable.Range(0, count).Select(i => perRequest == 1
            ? JsonSerializer.Serialize(new { text = texts[i] })
            : JsonSerializer.Serialize(new { texts = Enumerable.Range(0, perRequest).Select(k => texts[(i + k) % texts.Length]).ToArray() }))
            .ToArray();
    }

    private sealed record Phase(double Seconds, List<double> Latencies, long Errors, string? FirstError);

    private static async Task<Phase> RunPhaseAsync(HttpClient http, string[] bodies, int clients, TimeSpan duration, long maxRequests, CancellationToken cancellationToken)
    {
        var issued = 0L;
        var errors = 0L;
        string? firstError = null;
        var perClient = new List<double>[clients];
        var clock = Stopwatch.StartNew();
        var end = duration;

        async Task ClientAsync(int id)
        {
            var latencies = perClient[id] = [];
            var next = id;
            while (clock.Elapsed < end && Interlocked.Increment(ref issued) <= maxRequests)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var body = bodies[next % bodies.Length];
                next += clients;
                var started = Stopwatch.GetTimestamp();
                try
                {
                    using var content = new StringContent(body, Encoding.UTF8, "application/json");
                    using var response = await http.PostAsync("/api/predict", content, cancellationToken).ConfigureAwait(false);
                    // Read the whole answer: a client's latency includes receiving it.
                    var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                        continue;
                    }
                    Interlocked.Increment(ref errors);
                    Interlocked.CompareExchange(ref firstError, $"HTTP {(int)response.StatusCode}: {Encoding.UTF8.GetString(answer.AsSpan(0, Math.Min(answer.Length, 300)))}", null);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    Interlocked.Increment(ref errors);
                    Interlocked.CompareExchange(ref firstError, $"{e.GetType().Name}: {e.Message}", null);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, clients).Select(i => Task.Run(() => ClientAsync(i), cancellationToken))).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        return new Phase(seconds, perClient.SelectMany(l => l).ToList(), errors, firstError);
    }

    private static LatencySummary Summarize(List<double> sorted)
    {
        if (sorted.Count == 0) return new LatencySummary(0, 0, 0, 0, 0);
        double Rank(double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
        return new LatencySummary(Math.Round(sorted.Average(), 2), Math.Round(Rank(0.50), 2), Math.Round(Rank(0.95), 2), Math.Round(Rank(0.99), 2), Math.Round(sorted[^1], 2));
    }
}
