using System.Globalization;
using System.Text;
using System.Text.Json;
using BertSharp.Charts;
using BertSharp.Tests.TestSupport;
using Microsoft.Playwright;

namespace BertSharp.Tests.Web;

/// <summary>
/// The page's Explain button in headless Chromium against <c>bertsharp serve</c>: the review comes back shaded word
/// by word with the API's numbers, markup stays text, and the strict CSP reports nothing. With
/// BERTSHARP_UPDATE_IMAGES=1 the screenshot replaces images/web-explain.png.
/// </summary>
[Collection(WebCollection.Name)]
public class ExplainPageTests(WebModelFixture model)
{
    private const string Review =
        "A clumsy, overlong first hour, but then the film finds its heart: the performances are superb and the last " +
        "scene is beautiful. I was moved, and I would happily watch it again.";

    [Fact]
    public async Task TheExplainButtonShadesEachWordByItsAttribution()
    {
        var (server, address) = WebEndToEndTests.StartServer(model.ModelDir);
        using var _ = server;
        using var api = WebEndToEndTests.LoopbackClient(address);
        using var apiResponse = await api.PostAsync("/api/explain", new StringContent(JsonSerializer.Serialize(new { text = Review }), Encoding.UTF8, "application/json"));
        Assert.True(apiResponse.IsSuccessStatusCode, await apiResponse.Content.ReadAsStringAsync());
        var expected = JsonDocument.Parse(await apiResponse.Content.ReadAsStringAsync()).RootElement;
        var words = expected.GetProperty("words").EnumerateArray().ToList();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChartRenderer.ResolveChromium(),
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-proxy-server", "--disable-dev-shm-usage"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 960, Height = 1100 }, DeviceScaleFactor = 1 });
        var problems = new List<string>();
        var dialogs = new List<string>();
        page.Console += (_, message) => { if (message.Type is "error" or "warning") problems.Add($"console {message.Type}: {message.Text}"); };
        page.PageError += (_, error) => problems.Add($"page error: {error}");
        page.Dialog += async (_, dialog) => { dialogs.Add(dialog.Message); await dialog.DismissAsync(); };
        page.RequestFailed += (_, request) => problems.Add($"request failed: {request.Url}");
        await page.GotoAsync(address + "/");

        // Markup in a review is explained and shown as text: no element from it, no dialog.
        const string xss = "Great <img src=x onerror=alert(1)> film <script>alert(2)</script> [b]bold[/b]";
        await page.FillAsync("#review", xss);
        await page.ClickAsync("#explain");
        await page.WaitForSelectorAsync("#explanation:not([hidden])");
        Assert.Equal(xss, await page.TextContentAsync("#explanation-text"));
        Assert.Equal(0, await page.Locator("#explanation-text img, #explanation-text script").CountAsync());
        Assert.Equal(0, await page.Locator("img").CountAsync());
        Assert.Empty(dialogs);

        // The real review: one shaded span per word, with the API's attribution, colour by sign, alpha by size.
        await page.FillAsync("#review", Review);
        await page.ClickAsync("#explain");
        await page.WaitForFunctionAsync("text => document.getElementById('explanation-text').textContent === text", Review);
        Assert.Equal(expected.GetProperty("label").GetString(), await page.TextContentAsync("#result-label"));
        Assert.Equal(expected.GetProperty("target_label").GetString(), await page.TextContentAsync("#explanation-target"));
        var spans = page.Locator("#explanation-text .word");
        Assert.Equal(words.Count, await spans.CountAsync());
        var max = words.Max(w => Math.Abs(w.GetProperty("attribution").GetDouble()));
        for (var i = 0; i < words.Count; i++)
        {
            var span = spans.Nth(i);
            var attribution = words[i].GetProperty("attribution").GetDouble();
            Assert.Equal(words[i].GetProperty("word").GetString(), await span.TextContentAsync());
            Assert.Equal(attribution, double.Parse((await span.GetAttributeAsync("data-attribution"))!, CultureInfo.InvariantCulture), 1e-9);
            Assert.Contains(attribution >= 0 ? "toward" : "against", await span.GetAttributeAsync("class"));
            var colour = await span.EvaluateAsync<string>("e => getComputedStyle(e).backgroundColor");
            var parts = colour[(colour.IndexOf('(') + 1)..colour.IndexOf(')')].Split(',').Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(attribution >= 0 ? [46, 158, 91] : new double[] { 214, 69, 69 }, parts[..3]);
            Assert.Equal(0.85 * Math.Abs(attribution) / max, parts.Length == 4 ? parts[3] : 1.0, 0.01);
        }
        Assert.Contains("Integrated Gradients, 50 steps", await page.TextContentAsync("#explanation-summary"));
        Assert.StartsWith("Most toward ", await page.TextContentAsync("#explanation-top"));

        // Classify hides a stale explanation.
        await page.ClickAsync("#classify");
        await page.WaitForSelectorAsync("#explanation", new() { State = WaitForSelectorState.Hidden });
        await page.ClickAsync("#explain");
        await page.WaitForSelectorAsync("#explanation:not([hidden])");
        Assert.Empty(problems);

        var update = Environment.GetEnvironmentVariable("BERTSHARP_UPDATE_IMAGES") == "1";
        using var temp = new TempDirectory();
        var png = update ? Path.Combine(SharedFiles.RepoRoot, "images", "web-explain.png") : temp.File("web-explain.png");
        await page.Locator("main").ScreenshotAsync(new() { Path = png });
        Assert.True(new FileInfo(png).Length > 10_000);
        await browser.CloseAsync();
        Assert.False(server.HasExited, server.Stderr);
    }
}
