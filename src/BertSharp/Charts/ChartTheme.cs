using System.Text.Json.Nodes;

namespace BertSharp.Charts;

/// <summary>
/// The one look every BertSharp chart shares: a white plot with light grid lines, a sans-serif font that exists on
/// Windows, macOS and Debian (Liberation Sans / DejaVu Sans), the Tableau 10 colour cycle (distinguishable for most
/// colour-vision deficiencies), and a horizontal legend above the plot. It is a plotly.js template object embedded in
/// each chart's layout, so charts look the same in a notebook, a standalone HTML file and a PNG.
/// </summary>
internal static class ChartTheme
{
    public const string FontFamily = "Inter, 'Segoe UI', 'Helvetica Neue', Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif";
    public const string TextColor = "#2a2f3a";
    public const string GridColor = "#e6e9ef";
    public const string AxisColor = "#9aa3b2";

    /// <summary>Tableau 10.</summary>
    public static readonly string[] Palette =
        ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

    public static string Blue => Palette[0];
    public static string Orange => Palette[1];
    public static string Red => Palette[2];
    public static string Green => Palette[4];
    public static string Purple => Palette[6];

    /// <summary>Sequential colour scale for the confusion matrix: near-white to the palette's blue.</summary>
    public static readonly object[][] Blues =
        [[0.0, "#f7fbff"], [0.25, "#c6dbef"], [0.5, "#6baed6"], [0.75, "#2171b5"], [1.0, "#08306b"]];

    private static Dictionary<string, object> AxisDefaults() => Obj(
        ("showgrid", true), ("gridcolor", GridColor), ("gridwidth", 1),
        ("zeroline", false),
        ("showline", true), ("linecolor", AxisColor), ("linewidth", 1),
        ("ticks", "outside"), ("tickcolor", AxisColor), ("ticklen", 5),
        ("tickfont", Obj(("size", 12))),
        ("title", Obj(("font", Obj(("size", 14))), ("standoff", 12))),
        ("automargin", true));

    /// <summary>A fresh copy each time: charts must not share mutable objects.</summary>
    public static Dictionary<string, object> Template() => Obj(("layout", Obj(
        ("font", Obj(("family", FontFamily), ("size", 13), ("color", TextColor))),
        // Vertically plotly.js centres the title in the top margin ("auto"), which suits one- and two-line titles.
        ("title", Obj(("font", Obj(("size", 19))), ("x", 0.01), ("xanchor", "left"), ("xref", "container"), ("yref", "container"))),
        ("paper_bgcolor", "#ffffff"),
        ("plot_bgcolor", "#ffffff"),
        ("colorway", Palette),
        ("xaxis", AxisDefaults()),
        ("yaxis", AxisDefaults()),
        ("legend", Obj(("orientation", "h"), ("x", 1.0), ("xanchor", "right"), ("y", 1.01), ("yanchor", "bottom"),
            ("bgcolor", "rgba(255,255,255,0)"), ("font", Obj(("size", 12))))),
        ("hoverlabel", Obj(("font", Obj(("family", FontFamily), ("size", 12))))),
        ("hovermode", "closest"),
        ("margin", Obj(("l", 70), ("r", 30), ("t", 84), ("b", 60), ("pad", 2))))));

    /// <summary>A JSON-object-like dictionary, skipping null values (plotly.js treats a missing key as "default").</summary>
    public static Dictionary<string, object> Obj(params (string Key, object? Value)[] properties)
    {
        var result = new Dictionary<string, object>(properties.Length);
        foreach (var (key, value) in properties)
            if (value is not null) result[key] = value;
        return result;
    }

    /// <summary>An axis title with units, e.g. "Optimizer step".</summary>
    public static Dictionary<string, object> Axis(string title, params (string Key, object? Value)[] more)
    {
        var axis = Obj(more);
        axis["title"] = Obj(("text", title));
        return axis;
    }

    /// <summary>A plotly.js trace of <paramref name="type"/> ("scatter", "bar", "heatmap", ...); null values are left out.</summary>
    public static JsonObject Trace(string type, params (string Key, object? Value)[] properties)
    {
        var trace = new JsonObject { ["type"] = type };
        foreach (var (key, value) in properties)
            if (value is not null) trace[key] = PlotlyChart.ToNode(value);
        return trace;
    }

    /// <summary>
    /// A chart from plotly.js traces and a layout (title, axes, shapes, annotations), with the theme's template and
    /// no fixed size: the renderer sizes it (notebook fragment, standalone page, PNG).
    /// </summary>
    public static PlotlyChart Chart(IEnumerable<JsonObject> traces, string title, params (string Key, object? Value)[] layoutProperties)
    {
        var traceList = traces.ToList();
        var layout = new JsonObject
        {
            ["template"] = PlotlyChart.ToNode(Template()),
            ["title"] = PlotlyChart.ToNode(Obj(("text", title))),
        };
        foreach (var (key, value) in layoutProperties)
            if (value is not null) layout[key] = PlotlyChart.ToNode(value);
        // The template leaves room for a legend above the plot; without one (a single trace, as plotly.js decides,
        // or legends turned off) the plot moves up under the title.
        var showLegend = layoutProperties.FirstOrDefault(p => p.Key == "showlegend").Value as bool?;
        var hasLegend = showLegend ?? traceList.Count > 1;
        if (!hasLegend && !layoutProperties.Any(p => p.Key == "margin" && p.Value is not null))
            layout["margin"] = PlotlyChart.ToNode(Obj(("t", 66)));
        var config = new JsonObject { ["responsive"] = true, ["displaylogo"] = false };
        return new PlotlyChart(traceList, layout, config);
    }

    /// <summary>JSON has no NaN or infinity: a non-finite value becomes null, which plotly.js draws as a gap.</summary>
    public static double?[] Finite(IEnumerable<double> values) => values.Select(v => double.IsFinite(v) ? v : (double?)null).ToArray();
}
