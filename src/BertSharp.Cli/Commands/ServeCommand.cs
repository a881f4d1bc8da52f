using System.CommandLine;
using System.Net;
using BertSharp.Modeling;
using BertSharp.Web;

namespace BertSharp.Cli.Commands;

/// <summary>
/// <c>bertsharp serve</c>: a sentiment web page and JSON API over a fine-tuned model (see <see cref="WebApp"/>).
/// Listens on 127.0.0.1 unless told otherwise; another address is the user's choice, with a warning.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = SharedOptions.Model();
        var urls = new Option<string>("--urls")
        {
            Description = "Where to listen, e.g. http://127.0.0.1:5000 (several separated by ';'). Anything but loopback makes the model reachable from other machines: that is your choice.",
            DefaultValueFactory = _ => WebAppOptions.DefaultUrls,
        };
        var maxBatchSize = MaxBatchSize();
        var batchWindow = BatchWindowMs();
        var maxTexts = new Option<int>("--max-texts") { Description = "Most texts one request may send.", DefaultValueFactory = _ => 64 };
        var maxLength = SharedOptions.MaxLength();
        var maxExplainCost = new Option<long>("--max-explain-cost")
        {
            Description = "Most Integrated Gradients steps x tokens one POST /api/explain may cost (default: 50 steps on 512 tokens).",
            DefaultValueFactory = _ => 50 * 512,
        };
        var command = new Command("serve", "Serve a fine-tuned classifier: a web page at / and a JSON API at /api/predict and /api/explain.")
        {
            model, urls, maxBatchSize, batchWindow, maxTexts, maxLength, maxExplainCost,
        };
        command.SetAction(parse =>
        {
            var addresses = CheckUrls(parse.GetValue(urls)!);
            var options = new WebAppOptions
            {
                Model = parse.GetValue(model)!,
                Urls = string.Join(';', addresses.Select(a => a.Text)),
                MaxBatchSize = SharedOptions.CheckAtLeast(parse.GetValue(maxBatchSize), 1, "--max-batch-size"),
                BatchWindow = Window(parse.GetValue(batchWindow)),
                MaxTexts = SharedOptions.CheckAtLeast(parse.GetValue(maxTexts), 1, "--max-texts"),
                MaxLength = parse.GetValue(maxLength) is { } n ? SharedOptions.CheckAtLeast(n, 2, "--max-length") : null,
                MaxExplainCost = parse.GetValue(maxExplainCost) is >= 1 and var cost ? cost : throw new CliUsageException($"--max-explain-cost must be at least 1 (got {parse.GetValue(maxExplainCost)})"),
            };
            foreach (var a in addresses.Where(a => !a.IsLoopback))
                Console.Error.WriteLine($"warning: listening on {(a.Wildcard ? "every interface" : a.Parsed.Host)}: other machines can reach this server (no authentication, no TLS). That is your choice; the default is 127.0.0.1.");

            var app = ConsoleProgress.WithDownloads(progress => WebApp.Build(options with { Pretrained = new PretrainedOptions { DownloadProgress = progress } }));
            using var _ = app as IDisposable;
            var server = (SentimentServer)app.Services.GetService(typeof(SentimentServer))!;
            app.Lifetime.ApplicationStarted.Register(() => Console.Error.WriteLine(
                $"Serving {server.ModelName} (labels: {string.Join(", ", server.Labels)}; batching: " +
                (server.Batcher.BatchingEnabled ? $"up to {server.Batcher.MaxBatchSize} texts per {server.Batcher.Window.TotalMilliseconds} ms window" : "off") +
                $") at {string.Join(", ", WebApp.Addresses(app))}. Ctrl+C stops."));
            app.Run();
            return 0;
        });
        return command;
    }

    internal static Option<int> MaxBatchSize() => new("--max-batch-size")
    {
        Description = "Most texts in one forward pass; concurrent requests are batched up to it.",
        DefaultValueFactory = _ => 32,
    };

    internal static Option<double> BatchWindowMs() => new("--batch-window-ms")
    {
        Description = "How long a request waits for others to share its forward pass, in ms; 0 turns batching off (each request runs alone, still one at a time).",
        DefaultValueFactory = _ => 5,
    };

    internal static TimeSpan Window(double milliseconds) =>
        double.IsFinite(milliseconds) && milliseconds is >= 0 and <= 10_000
            ? TimeSpan.FromMilliseconds(milliseconds)
            : throw new CliUsageException($"--batch-window-ms must be between 0 and 10000 (got {milliseconds})");

    private sealed record Address(string Text, Uri Parsed, bool Wildcard)
    {
        public bool IsLoopback => !Wildcard && (Parsed.IsLoopback
            || IPAddress.TryParse(Parsed.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }

    private static List<Address> CheckUrls(string urls)
    {
        var list = new List<Address>();
        foreach (var part in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Kestrel's wildcards (http://*:5000, http://+:5000) are not URIs; check the rest of the address with a stand-in host.
            var probe = part.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0");
            if (!Uri.TryCreate(probe, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath != "/" || uri.Query != "" || uri.UserInfo != "")
                throw new CliUsageException($"--urls: '{part}' is not an address like http://127.0.0.1:5000 (plain http, no path; put a TLS proxy in front for https)");
            list.Add(new Address(part, uri, probe != part));
        }
        if (list.Count == 0) throw new CliUsageException("--urls is empty");
        return list;
    }
}
