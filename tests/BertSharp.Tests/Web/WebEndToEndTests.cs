using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using BertSharp.Charts;
using BertSharp.Tests.TestSupport;
using Microsoft.Playwright;

namespace BertSharp.Tests.Web;

/// <summary>
/// The real thing: <c>bertsharp serve</c> as a child process on a free loopback port, driven in headless Chromium
/// (Debian's, through Playwright's bundled node driver; no browser is downloaded). With BERTSHARP_UPDATE_IMAGES=1
/// the screenshot replaces images/web-app.png, otherwise it goes to a temporary folder.
/// </summary>
[Collection(WebCollection.Name)]
public class WebEndToEndTests(WebModelFixture model)
{
    private const string Review =
        "What a wonderful surprise. The story is warm and clever, the acting is superb from start to finish, and the " +
        "final scene is one of the most beautiful I have seen in years. A great film that I will happily watch again.";

    /// <summary>A loopback HTTP client that never goes through a proxy.</summary>
    internal static HttpClient LoopbackClient(string baseAddress) =>
        new(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri(baseAddress), Timeout = TimeSpan.FromSeconds(30) };

    internal static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Starts <c>bertsharp serve</c> and waits until /healthz answers; tries another port if the first was taken meanwhile.</summary>
    internal static (CliProcess.Running Process, string Address) StartServer(string modelDir, params string[] extra)
    {
        for (var attempt = 1; ; attempt++)
        {
            var address = $"http://127.0.0.1:{FreePort()}";
            var process = CliProcess.Start(["serve", "--model", modelDir, "--urls", address, .. extra]);
            if (WaitForHealth(process, address)) return (process, address);
            process.Process.WaitForExit(10_000);
            var stderr = process.Stderr;
            process.Dispose();
            if (!stderr.Contains("address already in use") || attempt == 3)
                throw new InvalidOperationException($"bertsharp serve did not come up at {address}: {stderr}");
        }
    }

    private static bool WaitForHealth(CliProcess.Running process, string address)
    {
        using var client = LoopbackClient(address);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var health = client.GetAsync("/healthz").GetAwaiter().GetResult();
                if (health.StatusCode == HttpStatusCode.OK) return true;
            }
            catch (HttpRequestException)
            {
            }
            Thread.Sleep(200);
        }
        return false;
    }

    [Fact]
    public async Task ThePageClassifiesAReviewShowsBarsRendersMarkupAsTextAndIsScreenshotted()
    {
        var (server, address) = StartServer(model.ModelDir);
        using var _ = server;

        // The page's numbers must be the API's.
        using var api = LoopbackClient(address);
        using var apiResponse = await api.PostAsync("/api/predict", new StringContent(JsonSerializer.Serialize(new { text = Review }), Encoding.UTF8, "application/json"));
        var expected = JsonDocument.Parse(await apiResponse.Content.ReadAsStringAsync()).RootElement.GetProperty("predictions")[0];

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChartRenderer.ResolveChromium(),
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-proxy-server", "--disable-dev-shm-usage"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 960, Height = 900 }, DeviceScaleFactor = 1 });
        var problems = new List<string>();
        var dialogs = new List<string>();
        page.Console += (_, message) => { if (message.Type is "error" or "warning") problems.Add($"console {message.Type}: {message.Text}"); };
        page.PageError += (_, error) => problems.Add($"page error: {error}");
        page.Dialog += async (_, dialog) => { dialogs.Add(dialog.Message); await dialog.DismissAsync(); };
        page.RequestFailed += (_, request) => problems.Add($"request failed: {request.Url}");
        page.Request += (_, request) => { if (!request.Url.StartsWith(address, StringComparison.Ordinal) && !request.Url.StartsWith("data:", StringComparison.Ordinal)) problems.Add($"request elsewhere: {request.Url}"); };

        var response = await page.GotoAsync(address + "/");
        Assert.Equal(200, response!.Status);
        Assert.Equal(WebModelFixture.ModelName, await page.TextContentAsync("#model-name"));
        Assert.Equal(["neg", "pos"], await page.Locator("#model-labels .chip").AllTextContentsAsync());

        // "Example review" fills the box.
        await page.ClickAsync("#example");
        Assert.False(string.IsNullOrWhiteSpace(await page.InputValueAsync("#review")));

        // A review with markup is classified and shown as text: no alert, no new element, the same characters back.
        const string xss = "<script>alert(1)</script><img src=x onerror=alert(2)><b>bold?</b>";
        await page.FillAsync("#review", xss);
        await page.ClickAsync("#classify");
        await page.WaitForSelectorAsync("#result:not([hidden])");
        Assert.Equal(xss, await page.TextContentAsync("#result-text"));
        Assert.Equal(0, await page.Locator("#result-text *").CountAsync());
        Assert.Equal(0, await page.Locator("img").CountAsync());
        Assert.Equal(1, await page.Locator("script").CountAsync());
        Assert.Empty(dialogs);

        // An empty box is refused in the page itself.
        await page.FillAsync("#review", "   ");
        await page.ClickAsync("#classify");
        Assert.Equal("Type or paste a review first.", await page.TextContentAsync("#error"));
        Assert.True(await page.IsVisibleAsync("#error"));

        // A real review: the label and one bar per label, with the API's probabilities.
        await page.FillAsync("#review", Review);
        await page.ClickAsync("#classify");
        await page.WaitForFunctionAsync("text => document.getElementById('result-text').textContent === text", Review);
        var label = await page.TextContentAsync("#result-label");
        Assert.Equal(expected.GetProperty("label").GetString(), label);
        var bars = page.Locator("#result-bars .bar");
        Assert.Equal(2, await bars.CountAsync());
        foreach (var name in new[] { "neg", "pos" })
        {
            var bar = page.Locator($"#result-bars .bar[data-label='{name}']");
            var p = expected.GetProperty("probabilities").GetProperty(name).GetDouble();
            Assert.Equal(name, await bar.Locator(".name").TextContentAsync());
            Assert.Equal($"{100 * p:F1}%", await bar.Locator(".value").TextContentAsync());
            var now = double.Parse((await bar.Locator(".track").GetAttributeAsync("aria-valuenow"))!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(100 * p, now, 0.06);
            // The drawn bar's width is the probability of the track's width.
            var fill = (await bar.Locator(".fill").BoundingBoxAsync())!;
            var track = (await bar.Locator(".track").BoundingBoxAsync())!;
            Assert.Equal(p, fill.Width / track.Width, 0.02);
        }
        Assert.Equal($"{expected.GetProperty("num_tokens").GetInt32()} tokens", await page.TextContentAsync("#result-meta"));
        Assert.False(await page.IsVisibleAsync("#error"));

        Assert.Empty(problems);

        var update = Environment.GetEnvironmentVariable("BERTSHARP_UPDATE_IMAGES") == "1";
        using var temp = new TempDirectory();
        var png = update ? Path.Combine(SharedFiles.RepoRoot, "images", "web-app.png") : temp.File("web-app.png");
        await page.Locator("main").ScreenshotAsync(new() { Path = png });
        var bytes = await File.ReadAllBytesAsync(png);
        Assert.True(bytes.Length > 10_000, $"screenshot is only {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);

        await browser.CloseAsync();
        Assert.False(server.HasExited, server.Stderr);
    }

    [Fact]
    public async Task HeadOnTheRealServerSendsTheHeadersOfGetAndNoBody()
    {
        var (server, address) = StartServer(model.ModelDir);
        using var _ = server;
        var port = new Uri(address).Port;
        foreach (var (path, type) in new[] { ("/", "text/html"), ("/healthz", "application/json") })
        {
            // A raw socket: HttpClient never reads a HEAD response's body, so it could not tell whether one was sent.
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
            using var reader = new StreamReader(stream, Encoding.ASCII);
            var response = await reader.ReadToEndAsync();
            var end = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            Assert.True(end > 0, response);
            Assert.StartsWith("HTTP/1.1 200 OK\r\n", response);
            Assert.Contains($"Content-Type: {type}", response);
            Assert.Equal("", response[(end + 4)..]);
        }
        Assert.False(server.HasExited, server.Stderr);
    }

    [Fact]
    public void ServeMistakesAreOneErrorLine()
    {
        var missing = CliProcess.Run(["serve", "--model", Path.Combine(Path.GetTempPath(), "no-such-model-dir", "x")]);
        Assert.Equal(1, missing.ExitCode);
        Assert.StartsWith("error: ", missing.Stderr);

        foreach (var (args, message) in new (string[], string)[]
        {
            (["--urls", "https://127.0.0.1:5000"], "--urls: 'https://127.0.0.1:5000' is not an address like http://127.0.0.1:5000"),
            (["--urls", "not a url"], "--urls: 'not a url' is not an address"),
            (["--max-batch-size", "0"], "--max-batch-size must be at least 1 (got 0)"),
            (["--max-texts", "0"], "--max-texts must be at least 1 (got 0)"),
            (["--batch-window-ms", "-1"], "--batch-window-ms must be between 0 and 10000 (got -1)"),
            (["--max-length", "1"], "--max-length must be at least 2 (got 1)"),
        })
        {
            var result = CliProcess.Run(["serve", "--model", model.ModelDir, .. args]);
            Assert.True(result.ExitCode == 1, result.Stderr + result.Stdout);
            var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"error: {message}", line);
        }

        // A port that is already taken.
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var busy = CliProcess.Run(["serve", "--model", model.ModelDir, "--urls", $"http://127.0.0.1:{port}"]);
        Assert.Equal(1, busy.ExitCode);
        // One line: the host's own error log (a 25-line stack trace) is not printed besides it.
        var busyLine = Assert.Single(busy.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"error: Failed to bind to address http://127.0.0.1:{port}", busyLine);
        Assert.True(busy.Stdout.Trim() == "", busy.Stdout);
    }

    [Fact]
    public void BenchServeReportsThroughputLatencyAndBatchSizeWithAndWithoutBatching()
    {
        JsonElement Bench(string window)
        {
            var result = CliProcess.Run(["bench", "serve", "--model", model.ModelDir, "--dataset", SharedFiles.Path("data", "imdb"), "--samples", "200",
                "--clients", "16", "--duration", "2", "--warmup", "0.5", "--max-length", "64", "--batch-window-ms", window], timeout: TimeSpan.FromMinutes(2));
            Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
            return JsonDocument.Parse(result.Stdout).RootElement.Clone();
        }

        var batched = Bench("5");
        Assert.Equal("serve", batched.GetProperty("task").GetString());
        Assert.Equal(16, batched.GetProperty("clients").GetInt32());
        Assert.Equal(0, batched.GetProperty("errors").GetInt64());
        Assert.True(batched.GetProperty("requests").GetInt64() > 0);
        Assert.True(batched.GetProperty("requests_per_second").GetDouble() > 0);
        var latency = batched.GetProperty("latency_ms");
        Assert.True(latency.GetProperty("p50").GetDouble() > 0);
        Assert.True(latency.GetProperty("p50").GetDouble() <= latency.GetProperty("p95").GetDouble());
        Assert.True(latency.GetProperty("p95").GetDouble() <= latency.GetProperty("p99").GetDouble());
        Assert.True(batched.GetProperty("server").GetProperty("batching").GetBoolean());
        Assert.True(batched.GetProperty("mean_batch_size").GetDouble() > 1, batched.ToString());

        var alone = Bench("0");
        Assert.False(alone.GetProperty("server").GetProperty("batching").GetBoolean());
        Assert.Equal(0, alone.GetProperty("errors").GetInt64());
        Assert.Equal(1.0, alone.GetProperty("mean_batch_size").GetDouble());
        Assert.Equal(1, alone.GetProperty("largest_batch").GetInt32());
    }
}
