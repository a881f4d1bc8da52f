namespace BertSharp.Charts;

/// <summary>
/// How a <see cref="PlotlyChart"/> shows itself in a .NET Interactive notebook, without this library referencing
/// .NET Interactive: its formatter finds a type's formatters through an attribute named
/// <c>TypeFormatterSourceAttribute</c> (matched by name) whose source has <c>CreateTypeFormatters()</c>, each
/// formatter having <c>MimeType</c>, <c>Type</c> and <c>bool Format(object, TextWriter)</c>. A chart is shown as
/// <c>text/html</c> (the interactive plotly.js chart, which VS Code and Jupyter prefer) and <c>image/png</c> (for
/// viewers that run no JavaScript, such as GitHub's), in one output.
/// </summary>
internal sealed class NotebookChartFormatters
{
    public IEnumerable<object> CreateTypeFormatters() => [new HtmlFormatter(), new PngFormatter()];

    /// <summary>
    /// The MIME types a chart is shown with: the PNG only where Chromium is there to draw it, so that a machine
    /// without Chromium still shows the interactive chart instead of failing.
    /// </summary>
    public static string[] PreferredMimeTypes() => ChartRenderer.TryResolveChromium() is null ? ["text/html"] : ["text/html", "image/png"];

    public sealed class HtmlFormatter
    {
        public string MimeType => "text/html";

        public Type Type => typeof(PlotlyChart);

        public bool Format(object instance, TextWriter writer)
        {
            if (instance is not PlotlyChart chart) return false;
            // The PNG goes inside the HTML too, as the picture shown until plotly.js has drawn the chart (or instead
            // of it where scripts do not run or the CDN cannot be reached).
            var png = ChartRenderer.TryResolveChromium() is null ? null : chart.NotebookPng;
            writer.Write(ChartRenderer.ToHtmlFragment(chart, PlotlyChart.NotebookWidth, PlotlyChart.NotebookHeight, png));
            return true;
        }
    }

    public sealed class PngFormatter
    {
        public string MimeType => "image/png";

        public Type Type => typeof(PlotlyChart);

        /// <summary>Notebook protocols carry binary outputs as base64 text.</summary>
        public bool Format(object instance, TextWriter writer)
        {
            if (instance is not PlotlyChart chart) return false;
            writer.Write(Convert.ToBase64String(chart.NotebookPng));
            return true;
        }
    }
}

/// <summary>
/// The attribute .NET Interactive's formatter looks for by name (it does not need its own type): which class makes
/// the formatters for the type it is on, and which MIME types a displayed value gets.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = true)]
internal sealed class TypeFormatterSourceAttribute(Type formatterSourceType) : Attribute
{
    public Type FormatterSourceType { get; } = formatterSourceType;

    public string[] PreferredMimeTypes => NotebookChartFormatters.PreferredMimeTypes();
}
