using System.Text.Encodings.Web;
using System.Text.Json;
using BertSharp.Inference;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BertSharp.Web;

/// <summary>
/// The sentiment web app: a page at <c>/</c>, <c>POST /api/predict</c>, <c>POST /api/explain</c>, <c>GET /healthz</c> and <c>GET /api/stats</c>,
/// as an ASP.NET Core minimal API over <see cref="TextClassificationPipeline"/> and <see cref="PredictionBatcher"/>.
/// <c>bertsharp serve</c>, <c>bertsharp bench serve</c> and the tests all build it here.
/// </summary>
public static class WebApp
{
    /// <summary>Every response's Content-Security-Policy: scripts and styles only from this server, no inline code, no framing.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    internal static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private const string Endpoints = "GET /, GET /healthz, GET /api/stats, POST /api/predict and POST /api/explain";

    /// <summary>
    /// Loads the model (unless <see cref="WebAppOptions.Pipeline"/> is given) and builds the app; a missing or broken
    /// model throws here, before anything listens. Run it with <c>app.Run()</c>, or <c>StartAsync</c>/<c>StopAsync</c>.
    /// Disposing the app stops the batcher and frees the model it loaded.
    /// </summary>
    public static WebApplication Build(WebAppOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var server = new SentimentServer(options);
        try
        {
            return BuildApp(server);
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    private static WebApplication BuildApp(SentimentServer server)
    {
        var options = server.Options;
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            // Production whatever ASPNETCORE_ENVIRONMENT says: no developer exception page, so no stack trace reaches a client.
            EnvironmentName = Environments.Production,
            ApplicationName = typeof(WebApp).Assembly.GetName().Name,
            // No appsettings.json from the current folder: everything is configured here.
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // The host logs a failure to start (e.g. a port in use) with its whole stack trace, and then throws the same
        // exception to whoever started it (bertsharp serve prints it as one line): the log adds nothing but noise.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Services.AddProblemDetails();
        // Registered through a factory so the container disposes it (batcher first, then the model) when the app stops.
        builder.Services.AddSingleton(_ => server);
        options.ConfigureBuilder?.Invoke(builder);

        var app = builder.Build();
        app.Services.GetRequiredService<SentimentServer>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("BertSharp.Web");

        app.Use(static (context, next) =>
        {
            context.Response.OnStarting(static state =>
            {
                var headers = ((HttpContext)state).Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                headers["Cross-Origin-Resource-Policy"] = "same-origin";
                if (!headers.ContainsKey("Cache-Control")) headers.CacheControl = "no-store";
                return Task.CompletedTask;
            }, context);
            return next(context);
        });
        app.UseExceptionHandler();
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            var status = http.Response.StatusCode;
            var path = Clip(http.Request.Path.Value ?? "/", 200);
            var (title, detail) = status switch
            {
                404 => ("Not found", $"There is no resource at '{path}'. The endpoints are {Endpoints}."),
                405 => ("Method not allowed", $"{http.Request.Method} is not allowed on '{path}'" +
                    (http.Response.Headers.Allow is { Count: > 0 } allow ? $"; use {string.Join(", ", allow.ToArray())}." : ".")),
                _ => (null, null),
            };
            await Results.Problem(detail: detail, statusCode: status, title: title).ExecuteAsync(http);
        });

        var page = Page(server);
        // HEAD answers as GET does (monitors and link checkers use it); Kestrel sends the headers and drops the body.
        string[] read = [HttpMethods.Get, HttpMethods.Head];
        app.MapMethods("/", read, () => Results.Text(page, "text/html; charset=utf-8"));
        app.MapMethods("/app.js", read, (HttpContext http) => Asset(http, "app.js", "text/javascript; charset=utf-8"));
        app.MapMethods("/app.css", read, (HttpContext http) => Asset(http, "app.css", "text/css; charset=utf-8"));
        app.MapMethods("/healthz", read, () => Results.Json(new { status = "ok", model = server.ModelName, labels = server.Labels }, Json));
        app.MapMethods("/api/stats", read, () => Results.Json(Stats(server), Json));
        // Typed as a Delegate on purpose: a lambda taking only HttpContext would bind as a RequestDelegate and drop the IResult.
        app.MapPost("/api/predict", (Func<HttpContext, Task<IResult>>)(http => PredictAsync(http, server, logger)));
        app.MapPost("/api/explain", (Func<HttpContext, Task<IResult>>)(http => ExplainEndpoint.HandleAsync(http, server, logger)));
        return app;
    }

    /// <summary>The addresses the app listens on once started (with port 0 replaced by the port Kestrel chose).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses.ToArray() ?? [];

    private static async Task<IResult> PredictAsync(HttpContext http, SentimentServer server, ILogger logger)
    {
        var aborted = http.RequestAborted;
        PredictRequestReader.Result request;
        try
        {
            request = await PredictRequestReader.ReadAsync(http.Request, server.Options.MaxTexts, server.Options.MaxRequestBodyBytes, aborted);
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own verdicts on the body (e.g. it ended before Content-Length said).
            return Results.Problem(detail: e.Message, statusCode: e.StatusCode, title: "Invalid request");
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && aborted.IsCancellationRequested)
        {
            return Results.Empty; // the client left; nobody to answer
        }
        if (request.Error is { } error) return Results.Problem(detail: error.Detail, statusCode: error.Status, title: error.Title);

        var texts = request.Texts!;
        IReadOnlyList<Prediction> predictions;
        try
        {
            predictions = await server.Batcher.PredictAsync(texts, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
        catch (ObjectDisposedException)
        {
            return Results.Problem(detail: "The server is shutting down; try again later.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable");
        }
        catch (Exception e)
        {
            logger.LogError(e, "Inference failed for a request of {Count} text(s)", texts.Count);
            return Results.Problem(detail: "The model failed to classify this request; the server's log has the details.",
                statusCode: StatusCodes.Status500InternalServerError, title: "Inference failed");
        }

        var results = predictions.Select(p => new PredictionBody(
            p.Label, p.LabelId, p.Score,
            server.ProbabilityKeys.Select((key, i) => (key, i)).ToDictionary(x => x.key, x => p.Probabilities[x.i]),
            p.TokenCount, p.Truncated)).ToArray();
        return Results.Json(new PredictResponse(server.ModelName, results), Json);
    }

    private static object Stats(SentimentServer server)
    {
        var s = server.Batcher.Statistics;
        return new
        {
            batching = server.Batcher.BatchingEnabled,
            max_batch_size = server.Batcher.MaxBatchSize,
            batch_window_ms = server.Batcher.Window.TotalMilliseconds,
            requests = s.Requests,
            texts = s.Texts,
            batches = s.Batches,
            mean_batch_size = Math.Round(s.MeanBatchSize, 3),
            largest_batch = s.LargestBatch,
            largest_batch_requests = s.LargestBatchRequests,
            batches_of_several_requests = s.BatchesOfSeveralRequests,
            cancelled_requests = s.CancelledRequests,
            failed_requests = s.FailedRequests,
        };
    }

    private static IResult Asset(HttpContext http, string name, string contentType)
    {
        http.Response.Headers.CacheControl = "no-cache";
        return Results.Text(Assets.Value[name], contentType);
    }

    private static readonly Lazy<Dictionary<string, string>> Assets = new(() =>
        new[] { "index.html", "app.js", "app.css" }.ToDictionary(n => n, ReadAsset));

    private static string ReadAsset(string name)
    {
        using var stream = typeof(WebApp).Assembly.GetManifestResourceStream($"BertSharp.Web.Assets.{name}")
            ?? throw new InvalidOperationException($"The embedded asset {name} is missing from {typeof(WebApp).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The page with the model's name and labels filled in, HTML-encoded (they come from a config file, not from the server's owner alone).</summary>
    private static string Page(SentimentServer server)
    {
        var html = HtmlEncoder.Default;
        var labels = string.Concat(server.Labels.Select(l => $"<span class=\"chip\">{html.Encode(l)}</span>"));
        return Assets.Value["index.html"]
            .Replace("{{MODEL}}", html.Encode(server.ModelName))
            .Replace("{{LABELS}}", labels)
            .Replace("{{MAX_LENGTH}}", server.MaxLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static string Clip(string value, int max) => value.Length <= max ? value : value[..max] + "…";

    private sealed record PredictionBody(string Label, int LabelId, float Score, IReadOnlyDictionary<string, float> Probabilities, int NumTokens, bool Truncated);

    private sealed record PredictResponse(string Model, IReadOnlyList<PredictionBody> Predictions);
}
