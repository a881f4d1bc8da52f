using BertSharp.Notebooks;

namespace BertSharp.Tests.Notebooks;

[Collection(NotebookCollection.Name)]
public sealed class NotebookFormatterTests : IDisposable
{
    public void Dispose() => Formatter.ResetToDefaults();

    public sealed record Score(string Label, double Value);

    public sealed class Plain
    {
        public int Count { get; init; } = 3;
        public string Name = "n";
        public List<int> Items { get; } = [1, 2];
    }

    public sealed class HasHtml
    {
        public string ToHtml() => "<p>html</p>";
    }

    public interface IShape;

    public class Square : IShape;

    public sealed class BigSquare : Square;

    /// <summary>Stands in for Plotly.NET's GenericChart (an F# union: charts are instances of subclasses).</summary>
    public class GenericChart
    {
        public string Title { get; init; } = "chart";
    }

    public sealed class LineChart : GenericChart;

    /// <summary>Shaped like BertSharp.Charts.ChartRenderer.</summary>
    public static class StandInChartRenderer
    {
        public static string ToHtmlFragment(GenericChart chart, int width = 720, int height = 420) => $"<div style=\"width:{width}px;height:{height}px\">{chart.Title}</div>";
    }

    [Fact]
    public void AChartRendererMakesChartsHtmlWithItsDefaultSize()
    {
        // Only the library's own BertSharp.Charts.ChartRenderer is picked up automatically, never a look-alike.
        Assert.Equal("text/plain", Formatter.Format(new LineChart()).MimeType);
        Assert.False(Formatter.RegisterChartRenderer(typeof(Plain)));

        Assert.True(Formatter.RegisterChartRenderer(typeof(StandInChartRenderer)));
        Assert.Equal(new FormattedValue("text/html", "<div style=\"width:720px;height:420px\">loss</div>"), Formatter.Format(new LineChart { Title = "loss" }));
    }

    [Fact]
    public void PlainTextIsReadableForCommonValues()
    {
        Assert.Equal("<null>", Formatter.ToPlainText(null));
        Assert.Equal("just text", Formatter.ToPlainText("just text"));
        Assert.Equal("0.5", Formatter.ToPlainText(0.5));
        Assert.Equal("Score { Label = pos, Value = 0.9 }", Formatter.ToPlainText(new Score("pos", 0.9)));
        Assert.Equal("[ 1, 2, 3 ]", Formatter.ToPlainText(new[] { 1, 2, 3 }));
        Assert.Equal("[ \"a\", null, \"b\\n\" ]", Formatter.ToPlainText(new List<string?> { "a", null, "b\n" }));
        Assert.Equal("{ \"pos\": 1, \"neg\": 0 }", Formatter.ToPlainText(new Dictionary<string, int> { ["pos"] = 1, ["neg"] = 0 }));
        Assert.Equal("{ 1: [ true ] }", Formatter.ToPlainText(new SortedDictionary<int, bool[]> { [1] = [true] }));
        Assert.Equal("[]", Formatter.ToPlainText(Array.Empty<int>()));
        Assert.Equal("(1, x)", Formatter.ToPlainText((1, "x")));
        Assert.Equal("Plain { Count = 3, Items = [ 1, 2 ], Name = \"n\" }", Formatter.ToPlainText(new Plain()));
    }

    [Fact]
    public void LongSequencesAreCutAndWideOnesWrapped()
    {
        var many = Formatter.ToPlainText(Enumerable.Range(0, 250).ToList());
        Assert.EndsWith("  99,\n  ... (150 more)\n]", many);
        Assert.EndsWith("...\n]", Formatter.ToPlainText(Enumerable.Range(0, 250)));
        var wide = Formatter.ToPlainText(Enumerable.Range(0, 3).Select(i => new string('x', 50)).ToArray());
        Assert.StartsWith("[\n  \"xxx", wide);
    }

    [Fact]
    public void HtmlComesFromRegistrationsToHtmlAndHtmlStrings()
    {
        Assert.Equal(new FormattedValue("text/html", "<p>html</p>"), Formatter.Format(new HasHtml()));
        Assert.Equal(new FormattedValue("text/html", "<b>x</b>"), Formatter.Format(new HtmlString("<b>x</b>")));
        Assert.Equal(new FormattedValue("text/html", "<b>x</b>"), Formatter.Format("<b>x</b>", "text/html"));
        Assert.Equal("text/plain", Formatter.Format(new Square()).MimeType);

        Formatter.Register<IShape>(_ => "<shape/>");
        Formatter.Register<Square>(_ => "<square/>");
        Assert.Equal("<square/>", Formatter.Format(new BigSquare()).Text);
        Formatter.Register<Square>(_ => "<square v2/>");
        Assert.Equal("<square v2/>", Formatter.Format(new Square()).Text);
        Formatter.Register<Score>(s => s.Label, "text/markdown");
        Assert.Equal(new FormattedValue("text/markdown", "pos"), Formatter.Format(new Score("pos", 1)));
        Assert.Equal("text/plain", Formatter.Format(new Score("pos", 1), "text/plain").MimeType);

        Formatter.ResetToDefaults();
        Assert.Equal("text/plain", Formatter.Format(new Square()).MimeType);
    }
}
