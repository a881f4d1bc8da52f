using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BertSharp.IO;

namespace BertSharp.Charts;

/// <summary>
/// Turns a <see cref="PlotlyChart"/> into HTML for a notebook cell, a standalone (offline) HTML file, or a PNG drawn
/// by headless Chromium. The page around the figure is written here so that it works both inside notebooks with
/// require.js and offline.
/// </summary>
public static partial class ChartRenderer
{
    /// <summary>The plotly.js version embedded in this library (from the Plotly.Blazor package at build time).</summary>
    public static string PlotlyJsVersion => PlotlyJsResource.Version;

    /// <summary>Where notebook fragments (and non-inlined pages) load plotly.js from.</summary>
    public static string PlotlyJsCdnUrl => $"https://cdn.plot.ly/plotly-{PlotlyJsVersion}.min.js";

    /// <summary>Chromium is killed after this long.</summary>
    public static readonly TimeSpan ChromiumTimeout = TimeSpan.FromSeconds(60);

    private static readonly Lazy<string> PlotlyJs = new(LoadPlotlyJs);

    /// <summary>
    /// The plotly.js bundle embedded in this assembly (resource <c>BertSharp.Charts.plotly-{version}.min.js</c>),
    /// which is what makes standalone pages and PNGs work offline.
    /// </summary>
    public static string PlotlyJsSource => PlotlyJs.Value;

    /// <summary>
    /// A <c>&lt;div&gt;</c> and a <c>&lt;script&gt;</c> that draw the chart inside a notebook output ("text/html" in
    /// Jupyter, JupyterLab, VS Code / Polyglot Notebooks) or any HTML page, at <paramref name="width"/> ×
    /// <paramref name="height"/> pixels. plotly.js comes from the CDN (<see cref="PlotlyJsCdnUrl"/>) and is loaded
    /// once per page: through require.js when the page has it (classic Jupyter, where a bare script tag would clash
    /// with require's anonymous define), else through a single shared <c>&lt;script src&gt;</c>; a page that already
    /// has <c>window.Plotly</c> uses it. The div id is new on every call, so the same chart can be shown twice.
    /// A <paramref name="png"/> of the chart is shown in the div until plotly.js draws over it, and stays where
    /// scripts do not run or the CDN cannot be reached.
    /// </summary>
    public static string ToHtmlFragment(PlotlyChart chart, int width = 720, int height = 420, byte[]? png = null)
    {
        ArgumentNullException.ThrowIfNull(chart);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        var figure = Figure(chart, width, height);
        var id = NewDivId();
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"<div id=\"{id}\" class=\"bertsharp-chart\" style=\"width:{width}px;height:{height}px;max-width:100%;\">");
        if (png is not null)
        {
            var alt = WebUtility.HtmlEncode(chart.Title ?? "chart");
            html.Append(CultureInfo.InvariantCulture, $"<img alt=\"{alt}\" width=\"{width}\" height=\"{height}\" src=\"data:image/png;base64,{Convert.ToBase64String(png)}\">");
        }
        html.Append("</div>\n");
        html.Append("<script type=\"text/javascript\">\n");
        html.Append("(function () {\n");
        html.Append(CultureInfo.InvariantCulture, $"  var divId = {JsonValue.Create(id).ToJsonString()};\n");
        html.Append(CultureInfo.InvariantCulture, $"  var cdn = {JsonValue.Create(PlotlyJsCdnUrl).ToJsonString()};\n");
        html.Append(CultureInfo.InvariantCulture, $"  var figure = {figure.ToJsonString()};\n");
        html.Append(FragmentLoader);
        html.Append("})();\n");
        html.Append("</script>\n");
        return html.ToString();
    }

    // Inside the fragment's function: divId, cdn and figure are defined above it.
    private const string FragmentLoader = """
          function draw(Plotly) {
            var div = document.getElementById(divId);
            if (!div) return;
            div.textContent = "";
            Plotly.newPlot(div, figure.data, figure.layout, figure.config);
          }
          function fail(err) {
            var div = document.getElementById(divId);
            if (div && !div.querySelector("img")) div.textContent = "Could not load plotly.js from " + cdn + " (" + (err && err.message ? err.message : err) + "). " +
              "Save the chart with ChartRenderer.SaveHtml for an offline copy.";
          }
          if (window.Plotly && typeof window.Plotly.newPlot === "function") { draw(window.Plotly); return; }
          if (typeof window.requirejs === "function" && typeof window.requirejs.config === "function") {
            // require.js is on the page (classic Jupyter): load plotly as an AMD module in a context of our own.
            var req = window.requirejs.config({ context: "bertsharp-plotly", paths: { plotly: cdn.replace(/\.js$/, "") } });
            req(["plotly"], function (Plotly) { draw(Plotly); }, fail);
            return;
          }
          // No require.js: one <script src> per page, shared by every chart through a promise.
          if (!window.__bertsharpPlotly) {
            window.__bertsharpPlotly = new Promise(function (resolve, reject) {
              var script = document.createElement("script");
              // An AMD define() without require.js (some front ends bundle one) would swallow plotly's UMD export.
              var amdDefine = (typeof window.define === "function" && window.define.amd) ? window.define : null;
              function restore() { if (amdDefine) window.define = amdDefine; }
              if (amdDefine) window.define = undefined;
              script.src = cdn;
              script.charset = "utf-8";
              script.onload = function () { restore(); if (window.Plotly) resolve(window.Plotly); else reject(new Error("plotly.js did not define window.Plotly")); };
              script.onerror = function () { restore(); window.__bertsharpPlotly = null; reject(new Error("network error")); };
              document.head.appendChild(script);
            });
          }
          window.__bertsharpPlotly.then(draw, fail);

        """;

    /// <summary>
    /// A complete HTML document showing the chart. With <paramref name="inlinePlotlyJs"/> (the default) plotly.js is
    /// embedded from this library's copy, so the file works offline (about 3.5 MB); otherwise it is loaded from
    /// the CDN. The chart keeps the size set on it, else fills the window.
    /// </summary>
    public static string ToStandaloneHtml(PlotlyChart chart, bool inlinePlotlyJs = true)
    {
        ArgumentNullException.ThrowIfNull(chart);
        return StandaloneHtml(chart, inlinePlotlyJs, width: null, height: null, staticImage: false);
    }

    /// <summary>Writes <see cref="ToStandaloneHtml"/> (plotly.js inlined: offline) atomically: a temporary file, then a rename.</summary>
    public static void SaveHtml(PlotlyChart chart, string path)
    {
        ArgumentNullException.ThrowIfNull(chart);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllText(path, ToStandaloneHtml(chart, inlinePlotlyJs: true));
    }

    /// <summary>
    /// Renders the chart to a <paramref name="width"/> × <paramref name="height"/> PNG with headless Chromium, offline:
    /// the standalone page (plotly.js inlined) goes to a temporary file that Chromium screenshots, with a fresh
    /// profile and every network feature off. Chromium is <paramref name="chromiumPath"/>, else $CHROMIUM_PATH, else
    /// $BERTSHARP_CHROMIUM, else /usr/bin/chromium (Debian's <c>chromium</c> package) or chromium / google-chrome
    /// on PATH. It is given a virtual-time budget, so the screenshot is taken only once the page's scripts, timers
    /// and animation frames have run (plotly draws synchronously, but heatmap images and fonts settle later).
    /// The PNG is written atomically. Chromium is killed after <see cref="ChromiumTimeout"/>.
    /// </summary>
    public static Task SavePngAsync(PlotlyChart chart, string path, int width = 900, int height = 500, string? chromiumPath = null,
        CancellationToken cancellationToken = default) =>
        SavePngAsync(chart, path, width, height, chromiumPath, ChromiumTimeout, cancellationToken);

    internal static Task SavePngAsync(PlotlyChart chart, string path, int width, int height, string? chromiumPath, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chart);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        return HtmlToPngAsync(StandaloneHtml(chart, inlinePlotlyJs: true, width, height, staticImage: true), path, width, height, chromiumPath, timeout, cancellationToken);
    }

    /// <summary>
    /// Screenshots a self-contained HTML page (no network: every host fails to resolve) at
    /// <paramref name="width"/> × <paramref name="height"/> with headless Chromium, for pictures that are not
    /// plotly charts, such as a training log.
    /// </summary>
    public static Task HtmlToPngAsync(string html, string path, int width, int height, string? chromiumPath = null, CancellationToken cancellationToken = default) =>
        HtmlToPngAsync(html, path, width, height, chromiumPath, ChromiumTimeout, cancellationToken);

    private static async Task HtmlToPngAsync(string html, string path, int width, int height, string? chromiumPath, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var chromium = ResolveChromium(chromiumPath);

        var work = Path.Combine(Path.GetTempPath(), $"bertsharp-png-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            var page = Path.Combine(work, "chart.html");
            var screenshot = Path.Combine(work, "chart.png");
            var profile = Path.Combine(work, "profile");
            Directory.CreateDirectory(profile);
            // The page fixes the figure's size: headless Chromium lays the page out in a viewport smaller than
            // --window-size (it subtracts room for browser UI it does not draw), so "fill the window" would leave a
            // white band at the bottom of the screenshot.
            await File.WriteAllTextAsync(page, html, new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);

            string[] arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--disable-dev-shm-usage", "--mute-audio", "--no-default-browser-check",
                // Belt and braces for "offline": no host name resolves, so nothing can be fetched even by mistake.
                "--host-resolver-rules=MAP * ~NOTFOUND",
                $"--user-data-dir={profile}",
                "--hide-scrollbars", "--force-device-scale-factor=1",
                $"--window-size={width},{height}",
                // Virtual time runs ahead as fast as the page allows and the screenshot waits for the budget to be
                // used up or for the page to go idle, so whatever plotly schedules has run first.
                "--virtual-time-budget=5000",
                $"--screenshot={screenshot}",
                new Uri(page).AbsoluteUri,
            ];
            var (exitCode, stderr) = await RunAsync(chromium, arguments, timeout, cancellationToken).ConfigureAwait(false);
            if (exitCode != 0)
                throw new InvalidOperationException($"Chromium ({chromium}) exited with code {exitCode} while rendering a PNG.{StderrTail(stderr)}");
            if (!File.Exists(screenshot) || new FileInfo(screenshot).Length == 0)
                throw new InvalidOperationException($"Chromium ({chromium}) exited normally but wrote no screenshot.{StderrTail(stderr)}");
            var bytes = await File.ReadAllBytesAsync(screenshot, cancellationToken).ConfigureAwait(false);
            if (bytes.Length < 8 || !bytes.AsSpan(0, 8).SequenceEqual(PngSignature))
                throw new InvalidOperationException($"Chromium ({chromium}) wrote a screenshot that is not a PNG.{StderrTail(stderr)}");
            AtomicFile.Write(path, s => s.Write(bytes));
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// The chart as PNG bytes (<paramref name="width"/> × <paramref name="height"/>), drawn as <see cref="SavePngAsync(PlotlyChart, string, int, int, string?, CancellationToken)"/>
    /// draws it; for notebook outputs, which are formatted synchronously.
    /// </summary>
    public static byte[] RenderPng(PlotlyChart chart, int width = 900, int height = 500)
    {
        var path = Path.Combine(Path.GetTempPath(), $"bertsharp-chart-{Guid.NewGuid():N}.png");
        try
        {
            // The kernel formats on its own thread; the render waits on a process, so run it off any synchronization context.
            Task.Run(() => SavePngAsync(chart, path, width, height, null, ChromiumTimeout, CancellationToken.None)).GetAwaiter().GetResult();
            return File.ReadAllBytes(path);
        }
        finally
        {
            try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>The Chromium <see cref="ResolveChromium"/> would use, or null when there is none.</summary>
    public static string? TryResolveChromium()
    {
        try { return ResolveChromium(); }
        catch (FileNotFoundException) { return null; }
    }

    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The Chromium executable SavePngAsync would use; throws FileNotFoundException saying how to get one.</summary>
    public static string ResolveChromium(string? chromiumPath = null)
    {
        const string Advice = "Install Debian's chromium package (apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium or Chrome executable.";
        foreach (var (candidate, source) in new[]
                 {
                     (chromiumPath, "the chromiumPath argument"),
                     (Environment.GetEnvironmentVariable("CHROMIUM_PATH"), "CHROMIUM_PATH"),
                     (Environment.GetEnvironmentVariable("BERTSHARP_CHROMIUM"), "BERTSHARP_CHROMIUM"),
                 })
        {
            if (string.IsNullOrWhiteSpace(candidate)) continue;
            var resolved = FindExecutable(candidate);
            if (resolved is not null) return resolved;
            throw new FileNotFoundException($"Chromium was not found at '{candidate}' (from {source}). {Advice}", candidate);
        }
        const string Debian = "/usr/bin/chromium";
        if (File.Exists(Debian)) return Debian;
        foreach (var name in new[] { "chromium", "chromium-browser", "google-chrome", "google-chrome-stable" })
            if (FindExecutable(name) is { } found) return found;
        throw new FileNotFoundException($"Chromium was not found at '{Debian}' nor on PATH; PNG export needs it. {Advice}", Debian);
    }

    private static string? FindExecutable(string nameOrPath)
    {
        if (nameOrPath.Contains(Path.DirectorySeparatorChar) || nameOrPath.Contains(Path.AltDirectorySeparatorChar))
            return File.Exists(nameOrPath) ? Path.GetFullPath(nameOrPath) : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, nameOrPath);
            if (File.Exists(candidate)) return candidate;
            if (OperatingSystem.IsWindows() && File.Exists(candidate + ".exe")) return candidate + ".exe";
        }
        return null;
    }

    private static async Task<(int ExitCode, string Stderr)> RunAsync(string executable, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            throw new InvalidOperationException($"Could not start Chromium at '{executable}': {e.Message}", e);
        }
        process.StandardInput.Close();
        var stdoutTask = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderrTask = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            var partial = await stderrTask.ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"Chromium ({executable}) did not finish the PNG within {timeout.TotalSeconds:0} s and was killed.{StderrTail(partial)}");
        }
        await stdoutTask.ConfigureAwait(false);
        return (process.ExitCode, await stderrTask.ConfigureAwait(false));
    }

    /// <summary>The last lines of Chromium's stderr, without the D-Bus complaints it prints in every container.</summary>
    private static string StderrTail(string stderr)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.Contains("dbus", StringComparison.OrdinalIgnoreCase))
            .TakeLast(15)
            .ToList();
        return lines.Count == 0 ? " (no stderr)" : " stderr:\n" + string.Join('\n', lines);
    }

    private static string StandaloneHtml(PlotlyChart chart, bool inlinePlotlyJs, int? width, int? height, bool staticImage)
    {
        var figure = Figure(chart, width, height);
        var layout = (JsonObject)figure["layout"]!;
        var sized = layout["width"] is not null && layout["height"] is not null;
        if (staticImage)
        {
            var config = (JsonObject)figure["config"]!;
            config["staticPlot"] = true;
            config["displayModeBar"] = false;
            config["responsive"] = false;
        }
        var id = NewDivId();
        var title = WebUtility.HtmlEncode(TitleText(layout) ?? "BertSharp chart");
        var divStyle = sized
            ? string.Create(CultureInfo.InvariantCulture, $"width:{layout["width"]}px;height:{layout["height"]}px;")
            : "width:100vw;height:100vh;";

        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        html.Append(CultureInfo.InvariantCulture, $"<title>{title}</title>\n");
        if (inlinePlotlyJs)
        {
            html.Append(CultureInfo.InvariantCulture, $"<!-- plotly.js {PlotlyJsVersion} (MIT licence) -->\n");
            html.Append("<script type=\"text/javascript\">").Append(ScriptSafe(PlotlyJsSource)).Append("</script>\n");
        }
        else
        {
            html.Append(CultureInfo.InvariantCulture, $"<script type=\"text/javascript\" src=\"{PlotlyJsCdnUrl}\" charset=\"utf-8\"></script>\n");
        }
        html.Append("<style>html, body { margin: 0; padding: 0; background: #ffffff; }</style>\n");
        html.Append("</head>\n<body>\n");
        html.Append(CultureInfo.InvariantCulture, $"<div id=\"{id}\" class=\"bertsharp-chart\" style=\"{divStyle}\"></div>\n");
        html.Append("<script type=\"text/javascript\">\n");
        html.Append(CultureInfo.InvariantCulture, $"var figure = {figure.ToJsonString()};\n");
        html.Append(CultureInfo.InvariantCulture, $"Plotly.newPlot({JsonValue.Create(id).ToJsonString()}, figure.data, figure.layout, figure.config)");
        html.Append(".then(function () { document.body.setAttribute(\"data-rendered\", \"true\"); });\n");
        html.Append("</script>\n</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>
    /// The chart as plotly.js figure JSON ({data, layout, config}), with the size overridden when given.
    /// System.Text.Json's default writer escapes &lt;, &gt; and &amp;, so the JSON is safe inside a script element.
    /// </summary>
    internal static JsonObject Figure(PlotlyChart chart, int? width, int? height)
    {
        var figure = chart.ToFigure();
        if (figure["layout"] is not JsonObject layout) figure["layout"] = layout = new JsonObject();
        if (figure["config"] is not JsonObject) figure["config"] = new JsonObject();
        if (width is { } w) layout["width"] = w;
        if (height is { } h) layout["height"] = h;
        if (width is not null || height is not null) layout["autosize"] = false;
        return figure;
    }

    internal static string? TitleText(JsonObject layout)
    {
        var text = layout["title"] switch
        {
            JsonObject title => title["text"]?.GetValue<string>(),
            JsonValue value when value.TryGetValue<string>(out var s) => s,
            _ => null,
        };
        if (string.IsNullOrWhiteSpace(text)) return null;
        var firstLine = BreakTag().Split(text)[0];
        return WebUtility.HtmlDecode(Tag().Replace(firstLine, "")).Trim();
    }

    /// <summary>"&lt;/script" inside inlined JavaScript would end the script element early.</summary>
    private static string ScriptSafe(string javaScript) => ScriptEnd().Replace(javaScript, "<\\/script");

    private static string NewDivId() => $"bertsharp-chart-{Guid.NewGuid():N}";

    private static string LoadPlotlyJs()
    {
        using var stream = typeof(ChartRenderer).Assembly.GetManifestResourceStream(PlotlyJsResource.Name)
            ?? throw new InvalidOperationException($"plotly.js (resource '{PlotlyJsResource.Name}') is missing from {typeof(ChartRenderer).Assembly.GetName().Name}; offline HTML cannot be written.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>The embedded plotly.js: its resource name says its version (set by the project file).</summary>
    private static class PlotlyJsResource
    {
        public static readonly string Name = typeof(ChartRenderer).Assembly.GetManifestResourceNames()
            .FirstOrDefault(n => n.StartsWith("BertSharp.Charts.plotly-", StringComparison.Ordinal) && n.EndsWith(".min.js", StringComparison.Ordinal))
            ?? "BertSharp.Charts.plotly-?.min.js";

        public static readonly string Version = Name["BertSharp.Charts.plotly-".Length..^".min.js".Length];
    }

    [GeneratedRegex("</script", RegexOptions.IgnoreCase)]
    private static partial Regex ScriptEnd();

    [GeneratedRegex("<br\\s*/?>", RegexOptions.IgnoreCase)]
    private static partial Regex BreakTag();

    /// <summary>The formatting tags plotly.js understands in titles; anything else is text.</summary>
    [GeneratedRegex("</?(?:b|i|u|s|em|strong|sup|sub|span|a)(?:\\s[^>]*)?>", RegexOptions.IgnoreCase)]
    private static partial Regex Tag();
}
