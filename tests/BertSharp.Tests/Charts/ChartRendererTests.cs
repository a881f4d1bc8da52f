using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BertSharp.Charts;
using BertSharp.Evaluation;
using BertSharp.Tests.TestSupport;
using static BertSharp.Tests.Charts.ChartTestData;

namespace BertSharp.Tests.Charts;

public class ChartRendererTests
{
    private static readonly Regex ScriptSrc = new("<script[^>]*\\bsrc\\s*=", RegexOptions.IgnoreCase);
    private static readonly Regex DivId = new("<div id=\"(bertsharp-chart-[0-9a-f]{32})\"");

    [Fact]
    public void Html_fragment_has_a_unique_div_the_data_and_a_require_safe_cdn_loader()
    {
        var chart = TrainingCharts.Loss(History(), smoothingWindow: 3);
        var first = ChartRenderer.ToHtmlFragment(chart, 640, 360);
        var second = ChartRenderer.ToHtmlFragment(chart);

        var id1 = DivId.Match(first).Groups[1].Value;
        var id2 = DivId.Match(second).Groups[1].Value;
        Assert.NotEqual("", id1);
        Assert.NotEqual(id1, id2);
        Assert.Contains($"\"{id1}\"", first[first.IndexOf("<script", StringComparison.Ordinal)..]);   // the script draws into its own div
        Assert.StartsWith("<div", first);
        Assert.DoesNotContain("<html", first);
        Assert.Contains("width:640px;height:360px", first);

        var figure = FigureOf(first);
        Assert.Equal(640, figure["layout"]!["width"]!.GetValue<int>());
        Assert.Equal(360, figure["layout"]!["height"]!.GetValue<int>());
        var raw = figure["data"]!.AsArray().Single(t => (string?)t!["name"] == "training loss")!;
        Assert.Equal(Losses, ChartJson.Numbers(raw["y"]));
        Assert.Equal(720, FigureOf(second)["layout"]!["width"]!.GetValue<int>());

        Assert.Contains(ChartRenderer.PlotlyJsCdnUrl, first);
        Assert.Equal($"https://cdn.plot.ly/plotly-{ChartRenderer.PlotlyJsVersion}.min.js", ChartRenderer.PlotlyJsCdnUrl);
        Assert.Contains("requirejs.config", first);
        Assert.Contains("window.Plotly", first);
        Assert.Contains("Plotly.newPlot(", first);
        Assert.DoesNotContain(ChartRenderer.PlotlyJsSource[..200], first);   // not the 3.5 MB bundle
    }

    [Fact]
    public void Html_output_keeps_text_from_closing_the_script_early()
    {
        var chart = TrainingCharts.Loss(History(), title: "</script><script>alert(1)</script>");
        var fragment = ChartRenderer.ToHtmlFragment(chart);
        Assert.Single(Regex.Matches(fragment, "</script", RegexOptions.IgnoreCase));
        Assert.Equal("</script><script>alert(1)</script>", (string?)FigureOf(fragment)["layout"]!["title"]!["text"]);

        var page = ChartRenderer.ToStandaloneHtml(chart);
        Assert.Equal(2, Regex.Matches(page, "</script", RegexOptions.IgnoreCase).Count);   // plotly.js and the figure
        Assert.Contains("<title>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>", page);
    }

    [Fact]
    public void Standalone_html_inlines_plotly_js_and_loads_nothing_from_the_network()
    {
        var chart = TrainingCharts.EvalMetrics(History());
        var page = ChartRenderer.ToStandaloneHtml(chart);

        Assert.StartsWith("<!DOCTYPE html>", page);
        Assert.DoesNotMatch(ScriptSrc, page);
        Assert.True(ChartRenderer.PlotlyJsSource.Length > 1_000_000, "plotly.js should be the full bundle");
        Assert.Contains($"plotly.js v{ChartRenderer.PlotlyJsVersion}", ChartRenderer.PlotlyJsSource[..300]);
        Assert.Contains(ChartRenderer.PlotlyJsSource[..5000], page);
        Assert.Contains("<title>Validation metrics per epoch</title>", page);
        var figure = FigureOf(page);
        Assert.Equal(EvalAccuracies, ChartJson.Numbers(figure["data"]!.AsArray().Single(t => (string?)t!["name"] == "accuracy")!["y"]));

        var online = ChartRenderer.ToStandaloneHtml(chart, inlinePlotlyJs: false);
        Assert.Contains($"<script type=\"text/javascript\" src=\"{ChartRenderer.PlotlyJsCdnUrl}\"", online);
        Assert.DoesNotContain(ChartRenderer.PlotlyJsSource[..5000], online);
        Assert.True(online.Length < 100_000);
    }

    [Fact]
    public void SaveHtml_writes_the_offline_page_atomically()
    {
        using var dir = new TempDirectory("bertsharp-charts");
        var path = Path.Combine(dir.Path, "sub", "loss.html");
        File.WriteAllText(Path.Combine(dir.Path, "placeholder"), "");
        ChartRenderer.SaveHtml(TrainingCharts.Loss(History()), path);
        ChartRenderer.SaveHtml(TrainingCharts.GradNorm(History()), path);   // replaces it

        var page = File.ReadAllText(path);
        Assert.StartsWith("<!DOCTYPE html>", page);
        Assert.DoesNotMatch(ScriptSrc, page);
        Assert.Contains("<title>Gradient norm</title>", page);
        Assert.Equal(["loss.html"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));   // no temp files left
    }

    [Fact]
    public async Task SavePngAsync_renders_the_chart_with_chromium()
    {
        string chromium;
        try { chromium = ChartRenderer.ResolveChromium(); }
        catch (FileNotFoundException e)
        {
            Assert.Fail($"PNG export needs Chromium and none was found: install it (Debian: apt-get update && apt-get install -y chromium) or set CHROMIUM_PATH. {e.Message}");
            return;
        }

        using var dir = new TempDirectory("bertsharp-charts");
        var path = Path.Combine(dir.Path, "png", "loss.png");
        var matrixChart = TrainingCharts.Loss(History(), smoothingWindow: 3);
        await ChartRenderer.SavePngAsync(matrixChart, path, width: 800, height: 450, chromiumPath: chromium);

        var png = PngImage.Read(path);
        Assert.Equal(800, png.Width);
        Assert.Equal(450, png.Height);
        // A blank page is one colour; a drawn chart has anti-aliased text and lines in many.
        Assert.True(png.DistinctColours() > 100, $"the PNG looks blank: {png.DistinctColours()} colours");
        // The smoothed loss line is the theme's blue (#4e79a7), 3 px wide across most of the plot.
        var blue = png.CountNear("#4e79a7", tolerance: 12);
        Assert.True(blue > 800, $"only {blue} pixels of the loss line's blue: did plotly draw?");
        // The evaluation markers are orange diamonds.
        Assert.True(png.CountNear("#f28e2b", tolerance: 12) > 50, "no orange evaluation markers");
        Assert.Equal(["loss.png"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }

    [Fact]
    public async Task SavePngAsync_renders_heatmaps_too()
    {
        string chromium;
        try { chromium = ChartRenderer.ResolveChromium(); }
        catch (FileNotFoundException e) { Assert.Fail($"Install Chromium (apt-get install -y chromium) or set CHROMIUM_PATH: {e.Message}"); return; }

        using var dir = new TempDirectory("bertsharp-charts");
        var path = Path.Combine(dir.Path, "cm.png");
        var matrix = ConfusionMatrix.From([0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1, 1], 2);
        await ChartRenderer.SavePngAsync(TrainingCharts.ConfusionMatrix(matrix, ["neg", "pos"]), path, 600, 400, chromium);

        var png = PngImage.Read(path);
        Assert.Equal((600, 400), (png.Width, png.Height));
        // The darkest cells are the colour scale's top, #08306b.
        Assert.True(png.CountNear("#08306b", tolerance: 10) > 5000, "the heatmap's dark cells are missing");
    }

    [Fact]
    public async Task SavePngAsync_names_the_missing_chromium_and_says_how_to_install_it()
    {
        using var dir = new TempDirectory("bertsharp-charts");
        var missing = Path.Combine(dir.Path, "no-such-chromium");
        var e = await Assert.ThrowsAsync<FileNotFoundException>(() =>
            ChartRenderer.SavePngAsync(TrainingCharts.GradNorm(History()), Path.Combine(dir.Path, "x.png"), chromiumPath: missing));
        Assert.Contains(missing, e.Message);
        Assert.Contains("install Debian's chromium package", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("CHROMIUM_PATH", e.Message);
        Assert.False(File.Exists(Path.Combine(dir.Path, "x.png")));
    }

    [Fact]
    public async Task SavePngAsync_reports_a_failing_chromium_with_its_exit_code_and_stderr()
    {
        using var dir = new TempDirectory("bertsharp-charts");
        var fake = FakeChromium(dir, "echo 'first line' >&2\necho 'fatal: cannot open display' >&2\nexit 3\n");
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ChartRenderer.SavePngAsync(TrainingCharts.GradNorm(History()), Path.Combine(dir.Path, "x.png"), chromiumPath: fake));
        Assert.Contains(fake, e.Message);
        Assert.Contains("code 3", e.Message);
        Assert.Contains("fatal: cannot open display", e.Message);
        Assert.False(File.Exists(Path.Combine(dir.Path, "x.png")));
    }

    [Fact]
    public async Task SavePngAsync_kills_a_chromium_that_hangs()
    {
        using var dir = new TempDirectory("bertsharp-charts");
        var pidFile = Path.Combine(dir.Path, "pid");
        var fake = FakeChromium(dir, $"echo $$ > '{pidFile}'\necho 'still starting' >&2\nexec sleep 120\n");
        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<TimeoutException>(() =>
            ChartRenderer.SavePngAsync(TrainingCharts.GradNorm(History()), Path.Combine(dir.Path, "x.png"), 900, 500, fake, TimeSpan.FromSeconds(2), CancellationToken.None));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30));
        Assert.Contains("killed", e.Message);
        Assert.Contains("still starting", e.Message);
        var pid = int.Parse(File.ReadAllText(pidFile).Trim());
        Assert.False(Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z "), $"process {pid} is still running");
    }

    private static string FakeChromium(TempDirectory dir, string body)
    {
        var path = Path.Combine(dir.Path, "fake-chromium");
        File.WriteAllText(path, "#!/bin/sh\n" + body);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>The figure JSON in a fragment or page: the object literal after "var figure = ".</summary>
    private static JsonNode FigureOf(string html)
    {
        var start = html.IndexOf("var figure = ", StringComparison.Ordinal) + "var figure = ".Length;
        var end = html.IndexOf(";\n", start, StringComparison.Ordinal);
        return JsonNode.Parse(html[start..end])!;
    }
}
