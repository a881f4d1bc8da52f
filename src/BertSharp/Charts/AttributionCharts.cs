using System.Globalization;
using System.Net;
using System.Text;
using BertSharp.Inference;
using static BertSharp.Charts.ChartTheme;

namespace BertSharp.Charts;

/// <summary>
/// Pictures of an <see cref="Explanation"/>: the review with each word shaded by its attribution (HTML), the top
/// words as a bar chart, the last layer's attention from [CLS] as a heatmap, and the faithfulness (deletion) curves.
/// Green pushes toward the explained label, red away from it, in the charts and the highlighted text alike.
/// </summary>
public static class AttributionCharts
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private const string Toward = "#2e9e5b";
    private const string Against = "#d64545";

    /// <summary>
    /// The words with the largest attributions by size, toward the label (green) and against it (red), largest at the top.
    /// </summary>
    /// <param name="explanation">What <see cref="TextClassificationPipeline.Explain"/> returned.</param>
    /// <param name="top">How many words to show.</param>
    public static PlotlyChart Attributions(Explanation explanation, int top = 15)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        if (explanation.Words.Count == 0) throw new ArgumentException("The explanation has no words (an empty text).", nameof(explanation));
        var words = explanation.Words.OrderByDescending(w => Math.Abs(w.Attribution)).ThenBy(w => w.Start).Take(top).Reverse().ToList();
        // The same word can appear twice; the y axis needs distinct categories, so repeats carry their position.
        var labels = words.Select(w => Escape($"{w.Word} @{w.Start}")).ToArray();
        var bars = Trace("bar",
            ("orientation", "h"),
            ("x", words.Select(w => w.Attribution).ToArray()),
            ("y", labels),
            ("marker", Obj(("color", words.Select(w => w.Attribution >= 0 ? Toward : Against).ToArray()))),
            ("hovertemplate", "%{y}: %{x:.4f}<extra></extra>"));
        var method = explanation.Method == AttributionMethod.IntegratedGradients
            ? $"Integrated Gradients, {explanation.Steps} steps, Δ = {Delta(explanation.ConvergenceDelta!.Value)}"
            : "gradient × input";
        var title = $"Top words for '{Escape(explanation.TargetLabel)}' (p = {explanation.Prediction.Probabilities[explanation.TargetLabelId].ToString("0.000", Invariant)})"
            + $"<br><sup>{method}; green raises the logit, red lowers it</sup>";
        return Chart([bars], title,
            ("xaxis", Axis($"Attribution to the '{Escape(explanation.TargetLabel)}' logit", ("zeroline", true), ("zerolinecolor", AxisColor), ("hoverformat", ".4f"))),
            ("yaxis", Axis("Word @ character offset", ("type", "category"), ("automargin", true))),
            ("showlegend", false));
    }

    /// <summary>
    /// The last layer's attention from [CLS] to every token (<see cref="TextClassificationPipeline.AttentionFromCls"/>),
    /// one heatmap row per head and a row for their mean.
    /// </summary>
    public static PlotlyChart AttentionFromCls(ClsAttention attention)
    {
        ArgumentNullException.ThrowIfNull(attention);
        var (tokens, attentions) = (attention.Tokens, attention.Heads);
        if (attentions.Count == 0) throw new ArgumentException("No attention heads.", nameof(attentions));
        foreach (var (head, i) in attentions.Select((h, i) => (h, i)))
            if (head.Count != tokens.Count)
                throw new ArgumentException($"Head {i} has {head.Count} weights for {tokens.Count} tokens.", nameof(attentions));
        var rows = attentions.Select(h => h.Select(v => (double)v).ToArray()).ToList();
        rows.Add(Enumerable.Range(0, tokens.Count).Select(t => rows.Average(r => r[t])).ToArray());
        var names = Enumerable.Range(1, attentions.Count).Select(h => $"head {h}").Append("mean").ToArray();
        var columns = tokens.Select((t, i) => Escape($"{t} #{i}")).ToArray();
        var heatmap = Trace("heatmap",
            ("z", rows.ToArray()),
            ("x", columns),
            ("y", names),
            ("colorscale", Blues),
            ("zmin", 0),
            ("colorbar", Obj(("title", Obj(("text", "Weight"), ("side", "right"))), ("thickness", 14), ("outlinewidth", 0))),
            ("xgap", 1), ("ygap", 2),
            ("hovertemplate", "%{y} → %{x}: %{z:.3f}<extra></extra>"));
        return Chart([heatmap], "Last layer's attention from [CLS]<br><sup>each row sums to 1 over the tokens; weights, not explanations</sup>",
            ("xaxis", Axis("Token # position", ("type", "category"), ("tickangle", -60), ("showgrid", false), ("ticks", ""))),
            ("yaxis", Axis("Head", ("type", "category"), ("autorange", "reversed"), ("showgrid", false), ("ticks", ""))));
    }

    /// <summary>
    /// The deletion curves of <see cref="Faithfulness.Run"/>: the mean drop of the predicted label's probability after
    /// deleting each method's top k words, for k = 1…K. A faithful method's curve lies above the random one.
    /// </summary>
    public static PlotlyChart Faithfulness(FaithfulnessResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var k = Enumerable.Range(1, result.MaxWords).Select(i => (double)i).ToArray();
        var styles = new Dictionary<string, (string Name, string Color, string? Dash)>
        {
            [Inference.Faithfulness.IntegratedGradientsName] = ("Integrated Gradients", Blue, null),
            [Inference.Faithfulness.GradientTimesInputName] = ("gradient × input", Orange, "dash"),
            [Inference.Faithfulness.RandomName] = ($"random words (mean of {result.RandomDraws})", AxisColor, "dot"),
        };
        var traces = result.Curves.Select(c =>
        {
            var (name, color, dash) = styles.TryGetValue(c.Method, out var s) ? s : (c.Method, Purple, null);
            return Trace("scatter",
                ("name", $"{name}: AOPC {c.Aopc[^1].ToString("0.000", Invariant)}"),
                ("x", k),
                ("y", Finite(c.ProbabilityDrop)),
                ("mode", "lines+markers"),
                ("line", Obj(("color", color), ("width", 2.5), ("dash", dash))),
                ("marker", Obj(("color", color), ("size", 7))));
        });
        var title = $"Deleting the top-k words: drop in the predicted label's probability"
            + $"<br><sup>{result.Texts.ToString("N0", Invariant)} reviews, mean p = {result.MeanProbability.ToString("0.000", Invariant)} before deletion; higher is more faithful</sup>";
        return Chart(traces, title,
            ("xaxis", Axis("Words deleted (k)", ("dtick", 1), ("tick0", 1))),
            ("yaxis", Axis("Mean probability drop", ("rangemode", "tozero"), ("hoverformat", ".4f"))),
            ("hovermode", "x unified"));
    }

    /// <summary>
    /// The text as HTML with every attributed word on a background whose colour says the direction (green toward the
    /// label, red against) and whose strength says the size, relative to the largest |attribution|; the exact value is
    /// in each word's tooltip. Text between words (spaces, line breaks) is kept; everything is HTML-encoded.
    /// </summary>
    public static string HighlightedText(Explanation explanation)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        var text = explanation.Text;
        var scale = explanation.Words.Count == 0 ? 1 : Math.Max(explanation.Words.Max(w => Math.Abs(w.Attribution)), 1e-12);
        var html = new StringBuilder();
        html.Append("<div style=\"font-family: ").Append(WebUtility.HtmlEncode(FontFamily)).Append("; max-width: 860px\">");
        html.Append("<div style=\"line-height: 1.9; white-space: pre-wrap\">");
        var at = 0;
        foreach (var word in explanation.Words)
        {
            html.Append(WebUtility.HtmlEncode(text[at..word.Start]));
            var strength = Math.Abs(word.Attribution) / scale;
            var (r, g, b) = word.Attribution >= 0 ? (46, 158, 91) : (214, 69, 69);
            html.Append("<span title=\"").Append(word.Attribution.ToString("0.0000", Invariant)).Append("\" style=\"background: rgba(")
                .Append(r).Append(',').Append(g).Append(',').Append(b).Append(',').Append((0.85 * strength).ToString("0.###", Invariant))
                .Append("); border-radius: 3px; padding: 1px 0\">")
                .Append(WebUtility.HtmlEncode(text[word.Start..word.End])).Append("</span>");
            at = word.End;
        }
        if (at < text.Length)
        {
            var rest = text[at..];
            // After a truncation the unread rest is shown faded, so nobody reads meaning into its missing colours.
            if (explanation.Truncated)
                html.Append("<span style=\"opacity: 0.45\" title=\"not read: after the model's maximum length\">").Append(WebUtility.HtmlEncode(rest)).Append("</span>");
            else
                html.Append(WebUtility.HtmlEncode(rest));
        }
        html.Append("</div>");
        var caption = $"{explanation.Prediction.Label} (p = {explanation.Prediction.Score.ToString("0.000", Invariant)}); shading: attribution to '{explanation.TargetLabel}', "
            + (explanation.ConvergenceDelta is { } delta ? $"Σ = {explanation.AttributionSum.ToString("0.000", Invariant)}, F(x) − F(x′) = {(explanation.TargetLogit - explanation.BaselineLogit).ToString("0.000", Invariant)}, Δ = {Delta(delta)}" : "gradient × input");
        html.Append("<div style=\"color: #616e7c; font-size: 0.85em; margin-top: 4px\">").Append(WebUtility.HtmlEncode(caption)).Append("</div></div>");
        return html.ToString();
    }

    /// <summary>A convergence delta readably at any size: 0.0123, 3.02e-07.</summary>
    private static string Delta(double delta) => delta >= 1e-3 || delta == 0 ? delta.ToString("0.####", Invariant) : delta.ToString("0.##e-00", Invariant);

    // Plotly titles are HTML-ish: a label from a config file must not become markup.
    private static string Escape(string s) => WebUtility.HtmlEncode(s);
}
