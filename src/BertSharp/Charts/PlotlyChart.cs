using System.Text.Json;
using System.Text.Json.Nodes;

namespace BertSharp.Charts;

/// <summary>
/// A plotly.js figure: its traces (<c>data</c>), <c>layout</c> and <c>config</c>, exactly the JSON plotly.js's
/// <c>Plotly.newPlot</c> takes. Every BertSharp chart is one; <see cref="ChartRenderer"/> turns it into notebook
/// HTML, a standalone page or a PNG. In a .NET Interactive notebook (VS Code's Polyglot Notebooks, Jupyter's
/// .NET kernels) a chart displays itself as an interactive plotly.js chart plus a PNG of it
/// (<see cref="NotebookChartFormatters"/>).
/// </summary>
/// <remarks>
/// The figure is kept as JSON rather than as Plotly.NET objects on purpose: Plotly.NET 6 needs FSharp.Core 10.1,
/// and the .NET Interactive kernel runs with its own FSharp.Core 10.0 already loaded, so a Plotly.NET chart cannot
/// even be constructed in a notebook. These charts need no F# at all.
/// </remarks>
[TypeFormatterSource(typeof(NotebookChartFormatters))]
public sealed class PlotlyChart
{
    private readonly JsonObject _figure;
    private readonly Lazy<byte[]> _notebookPng;

    public PlotlyChart(IEnumerable<JsonObject> traces, JsonObject layout, JsonObject? config = null)
    {
        ArgumentNullException.ThrowIfNull(traces);
        ArgumentNullException.ThrowIfNull(layout);
        _figure = new JsonObject
        {
            ["data"] = new JsonArray(traces.Select(t => (JsonNode?)t.DeepClone()).ToArray()),
            ["layout"] = layout.DeepClone(),
            ["config"] = config?.DeepClone() ?? new JsonObject(),
        };
        _notebookPng = new Lazy<byte[]>(() => ChartRenderer.RenderPng(this, NotebookWidth, NotebookHeight));
    }

    /// <summary>The size a chart is shown at in a notebook output (its HTML and its PNG).</summary>
    public const int NotebookWidth = 720, NotebookHeight = 420;

    /// <summary>The figure as a new JSON object ({data, layout, config}); changing it does not change the chart.</summary>
    public JsonObject ToFigure() => _figure.DeepClone().AsObject();

    /// <summary>The figure as JSON text, as plotly.js and Plotly.NET's <c>toJson</c> write it.</summary>
    public string ToJson() => _figure.ToJsonString();

    /// <summary>The chart's title (its first line, without plotly's formatting tags), or null.</summary>
    public string? Title => ChartRenderer.TitleText(_figure["layout"]!.AsObject());

    /// <summary>The PNG shown with the chart in a notebook, rendered once per chart (headless Chromium).</summary>
    internal byte[] NotebookPng => _notebookPng.Value;

    public override string ToString() => $"PlotlyChart \"{Title}\" ({_figure["data"]!.AsArray().Count} traces)";

    /// <summary>Plotly's JSON from .NET values: arrays, dictionaries, strings, numbers, booleans, JSON nodes.</summary>
    internal static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        JsonNode node => node.DeepClone(),
        _ => JsonSerializer.SerializeToNode(value, value.GetType()),
    };
}
