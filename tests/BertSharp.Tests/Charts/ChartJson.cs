using BertSharp.Charts;
using System.Text.Json.Nodes;

namespace BertSharp.Tests.Charts;

/// <summary>A chart's plotly.js figure, as the chart serializes it, with small accessors for the assertions.</summary>
internal sealed class ChartJson
{
    public ChartJson(PlotlyChart chart)
    {
        Json = chart.ToJson();
        Figure = JsonNode.Parse(Json)!.AsObject();
    }

    public string Json { get; }
    public JsonObject Figure { get; }
    public JsonArray Traces => Figure["data"]!.AsArray();
    public JsonObject Layout => Figure["layout"]!.AsObject();

    public JsonObject Trace(string name) =>
        Traces.Select(t => t!.AsObject()).SingleOrDefault(t => (string?)t["name"] == name)
        ?? throw new Xunit.Sdk.XunitException($"No trace named '{name}'; traces: {string.Join(", ", Traces.Select(t => (string?)t!["name"]))}");

    public string? Title => (string?)Layout["title"]?["text"];
    public string? AxisTitle(string axis) => (string?)Layout[axis]?["title"]?["text"];

    public static double[] Numbers(JsonNode? array) => array!.AsArray().Select(n => n!.GetValue<double>()).ToArray();

    public static double?[] NullableNumbers(JsonNode? array) => array!.AsArray().Select(n => n is null ? (double?)null : n.GetValue<double>()).ToArray();

    public static string[] Strings(JsonNode? array) => array!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
}
