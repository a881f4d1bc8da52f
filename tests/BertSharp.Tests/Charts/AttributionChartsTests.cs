using BertSharp.Charts;
using BertSharp.Inference;

namespace BertSharp.Tests.Charts;

public class AttributionChartsTests
{
    /// <summary>"A <b>great</b> film, sadly too long." with made-up attributions toward "pos".</summary>
    private static Explanation Sample(bool truncated = false)
    {
        const string text = "A <b>great</b> film, sadly too long.";
        (string Word, double Value)[] words =
            [("A", 0.01), ("<", 0.0), ("b", -0.02), (">", 0.0), ("great", 0.9), ("<", 0.0), ("/", 0.0), ("b", 0.0), (">", 0.0),
             ("film", 0.2), (",", 0.0), ("sadly", -0.6), ("too", -0.1), ("long", -0.3), (".", 0.05)];
        var at = 0;
        var wordList = new List<WordAttribution>();
        var tokens = new List<TokenAttribution> { new("[CLS]", 101, 0, 0, null, 0) };
        for (var i = 0; i < words.Length; i++)
        {
            var start = text.IndexOf(words[i].Word, at, StringComparison.Ordinal);
            at = start + words[i].Word.Length;
            wordList.Add(new WordAttribution(words[i].Word, start, at, words[i].Value, tokens.Count, 1));
            tokens.Add(new TokenAttribution(words[i].Word.ToLowerInvariant(), 1000 + i, start, at, i, words[i].Value));
        }
        tokens.Add(new TokenAttribution("[SEP]", 102, 0, 0, null, 0));
        var prediction = new Prediction("pos", 1, 0.8f, [0.2f, 0.8f], [-0.7f, 0.7f], tokens.Count, truncated);
        return new Explanation(text, prediction, "pos", 1, tokens, wordList, 0.7, 0.55, 0.0004,
            AttributionMethod.IntegratedGradients, IntegrationMethod.GaussLegendre, 50, truncated);
    }

    [Fact]
    public void TheBarChartShowsTheLargestWordsBySizeColouredByDirection()
    {
        var chart = new ChartJson(AttributionCharts.Attributions(Sample(), top: 4));
        var bars = chart.Traces.Single()!.AsObject();
        Assert.Equal("bar", (string?)bars["type"]);
        Assert.Equal("h", (string?)bars["orientation"]);
        // Largest |attribution| at the top, which plotly draws from the last category.
        Assert.Equal(["film @15", "long @31", "sadly @21", "great @5"], ChartJson.Strings(bars["y"]));
        Assert.Equal([0.2, -0.3, -0.6, 0.9], ChartJson.Numbers(bars["x"]));
        var colours = ChartJson.Strings(bars["marker"]!["color"]);
        Assert.Equal(colours[0], colours[3]);
        Assert.Equal(colours[1], colours[2]);
        Assert.NotEqual(colours[0], colours[1]);
        Assert.Contains("Top words for 'pos' (p = 0.800)", chart.Title);
        Assert.Contains("Integrated Gradients, 50 steps, Δ = 4e-04", chart.Title);
    }

    [Fact]
    public void WordsWithMarkupAreEscapedInTheChart()
    {
        var sample = Sample();
        var words = sample.Words.Select(w => w.Word == "b" ? w with { Word = "<b>", Attribution = 5 } : w).ToList();
        var chart = new ChartJson(AttributionCharts.Attributions(sample with { Words = words }, top: 1));
        Assert.Equal(["&lt;b&gt; @3"], ChartJson.Strings(chart.Traces[0]!["y"]));
    }

    [Fact]
    public void TheHighlightedTextKeepsTheTextEncodesItAndShadesEachWord()
    {
        var html = AttributionCharts.HighlightedText(Sample());
        Assert.DoesNotContain("<b>", html);
        Assert.Contains(">&lt;</span>", html);
        Assert.Equal(15, html.Split("<span title=").Length - 1);
        // The strongest word gets the full 0.85 alpha, in green; a negative one red, scaled by 0.6 / 0.9.
        Assert.Contains("background: rgba(46,158,91,0.85)", html);
        Assert.Contains("background: rgba(214,69,69," + (0.85 * 0.6 / 0.9).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + ")", html);
        var text = System.Text.RegularExpressions.Regex.Replace(html.Split("</div>")[0], "<[^>]+>", "");
        Assert.StartsWith("<div style=\"font-family: ", html);
        Assert.Equal(Sample().Text, System.Net.WebUtility.HtmlDecode(text));
        Assert.Contains("Δ = 4e-04", html);
    }

    [Fact]
    public void AfterATruncationTheUnreadRestIsFaded()
    {
        var sample = Sample(truncated: true);
        var shorter = sample with { Words = sample.Words.Take(5).ToList() };
        var html = AttributionCharts.HighlightedText(shorter);
        Assert.Contains("title=\"not read: after the model's maximum length\">&lt;/b&gt; film, sadly too long.</span>", html);
    }

    [Fact]
    public void TheAttentionHeatmapHasARowPerHeadAndTheirMean()
    {
        var attention = new ClsAttention(["[CLS]", "great", "[SEP]"], [[0.5f, 0.25f, 0.25f], [0.1f, 0.8f, 0.1f]]);
        var chart = new ChartJson(AttributionCharts.AttentionFromCls(attention));
        var heat = chart.Traces.Single()!;
        Assert.Equal(["head 1", "head 2", "mean"], ChartJson.Strings(heat["y"]));
        Assert.Equal(["[CLS] #0", "great #1", "[SEP] #2"], ChartJson.Strings(heat["x"]));
        var mean = ChartJson.Numbers(heat["z"]![2]);
        Assert.Equal(0.525, mean[1], 1e-6);
        Assert.Throws<ArgumentException>(() => AttributionCharts.AttentionFromCls(attention with { Heads = [[1f, 0f]] }));
    }

    [Fact]
    public void TheFaithfulnessChartHasACurvePerMethodWithItsAopc()
    {
        var result = new FaithfulnessResult(10, 3, 50, 5, 0.9,
        [
            new FaithfulnessCurve(Faithfulness.IntegratedGradientsName, [0.2, 0.3, 0.35], [0.1, 0.1667, 0.2126]),
            new FaithfulnessCurve(Faithfulness.GradientTimesInputName, [0.1, 0.15, 0.2], [0.05, 0.0833, 0.1126]),
            new FaithfulnessCurve(Faithfulness.RandomName, [0.01, 0.02, 0.03], [0.005, 0.01, 0.015]),
        ], 0.001, 0.004, 0.5);
        var chart = new ChartJson(AttributionCharts.Faithfulness(result));
        var ig = chart.Trace("Integrated Gradients: AOPC 0.213");
        Assert.Equal([1.0, 2, 3], ChartJson.Numbers(ig["x"]));
        Assert.Equal([0.2, 0.3, 0.35], ChartJson.Numbers(ig["y"]));
        chart.Trace("gradient × input: AOPC 0.113");
        chart.Trace("random words (mean of 5): AOPC 0.015");
        Assert.Equal("Words deleted (k)", chart.AxisTitle("xaxis"));
    }
}
