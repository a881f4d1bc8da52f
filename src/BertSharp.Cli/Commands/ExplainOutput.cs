using System.Globalization;
using System.Text;
using System.Text.Json;
using BertSharp.Inference;
using Spectre.Console;

namespace BertSharp.Cli.Commands;

/// <summary>How <c>bertsharp predict --explain</c> shows an <see cref="Explanation"/>: coloured text, or JSON.</summary>
internal static class ExplainOutput
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>
    /// The text with each word on a background from white to green (pushed toward the label) or red (away), by its
    /// share of the largest |attribution|; then the numbers and the top words each way. Every piece of the text goes
    /// through <see cref="Markup.Escape"/>: a review may contain "[" and "]", which Spectre would read as markup.
    /// </summary>
    public static string Markup(Explanation e)
    {
        var text = e.Text;
        var scale = e.Words.Count == 0 ? 1 : Math.Max(e.Words.Max(w => Math.Abs(w.Attribution)), 1e-12);
        var markup = new StringBuilder();
        var at = 0;
        foreach (var word in e.Words)
        {
            markup.Append(Spectre.Console.Markup.Escape(text[at..word.Start]));
            var strength = Math.Abs(word.Attribution) / scale;
            var (r, g, b) = word.Attribution >= 0 ? (46, 158, 91) : (214, 69, 69);
            var background = $"#{Blend(r, strength):x2}{Blend(g, strength):x2}{Blend(b, strength):x2}";
            markup.Append($"[black on {background}]").Append(Spectre.Console.Markup.Escape(text[word.Start..word.End])).Append("[/]");
            at = word.End;
        }
        if (at < text.Length)
            markup.Append(e.Truncated ? "[grey]" + Spectre.Console.Markup.Escape(text[at..]) + "[/]" : Spectre.Console.Markup.Escape(text[at..]));
        return markup.ToString();
    }

    public static void Write(Explanation e)
    {
        // Spectre wraps at 80 columns when there is no terminal; a file or a pipe gets each line whole instead.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 1_000_000;
        AnsiConsole.MarkupLine($"[bold]{Spectre.Console.Markup.Escape(e.Prediction.Label)}[/] (p = {e.Prediction.Score.ToString("0.0000", Invariant)}) · " +
            $"attributions to '{Spectre.Console.Markup.Escape(e.TargetLabel)}', {Spectre.Console.Markup.Escape(Describe(e))}");
        AnsiConsole.MarkupLine(Markup(e));
        if (e.Truncated) AnsiConsole.MarkupLine($"[grey](truncated at {e.Tokens.Count} tokens: the grey rest was not read)[/]");
        string List(IEnumerable<WordAttribution> words) =>
            string.Join(", ", words.Select(w => $"{Spectre.Console.Markup.Escape(w.Word)} ({w.Attribution.ToString("+0.000;-0.000", Invariant)})"));
        var toward = e.Words.Where(w => w.Attribution > 0).OrderByDescending(w => w.Attribution).Take(5).ToList();
        var against = e.Words.Where(w => w.Attribution < 0).OrderBy(w => w.Attribution).Take(5).ToList();
        AnsiConsole.MarkupLine($"[green]toward '{Spectre.Console.Markup.Escape(e.TargetLabel)}':[/] {(toward.Count > 0 ? List(toward) : "none")}");
        AnsiConsole.MarkupLine($"[red]against:[/] {(against.Count > 0 ? List(against) : "none")}");
    }

    private static string Describe(Explanation e) => e.Method == AttributionMethod.IntegratedGradients
        ? $"Integrated Gradients ({e.Steps} {(e.Integration == IntegrationMethod.RiemannTrapezoid ? "trapezoid" : "Gauss–Legendre")} steps): " +
          $"sum {e.AttributionSum.ToString("0.0000", Invariant)}, F(x) − F(baseline) {(e.TargetLogit - e.BaselineLogit).ToString("0.0000", Invariant)}, " +
          $"delta {e.ConvergenceDelta!.Value.ToString("0.00e-00", Invariant)}"
        : "gradient × input";

    private static int Blend(int channel, double strength) => (int)Math.Round(255 + (channel - 255) * Math.Clamp(strength, 0, 1) * 0.85);

    /// <summary>One JSON object per text, snake_case like the rest of the CLI's JSON.</summary>
    public static string Json(Explanation e) => JsonSerializer.Serialize(new ExplainResult(
        e.Prediction.Label, e.Prediction.Score, e.Prediction.Probabilities, e.TargetLabel, e.TargetLabelId,
        e.Method == AttributionMethod.IntegratedGradients ? "integrated_gradients" : "gradient_x_input",
        e.Integration switch { IntegrationMethod.GaussLegendre => "gauss_legendre", IntegrationMethod.RiemannTrapezoid => "riemann_trapezoid", _ => null },
        e.Steps, e.TargetLogit, double.IsNaN(e.BaselineLogit) ? null : e.BaselineLogit, e.AttributionSum, e.ConvergenceDelta, e.Tokens.Count, e.Truncated,
        e.Tokens.Select(t => new TokenResult(t.Token, t.TokenId, t.Start, t.End, t.Word, t.Attribution)).ToList(),
        e.Words.Select(w => new WordResult(w.Word, w.Start, w.End, w.Attribution, w.FirstToken, w.TokenCount)).ToList()), CliJson.Options);

    private sealed record ExplainResult(string Label, float Score, IReadOnlyList<float> Probabilities, string TargetLabel, int TargetLabelId,
        string Method, string? Integration, int Steps, double TargetLogit, double? BaselineLogit, double AttributionSum, double? ConvergenceDelta,
        int NumTokens, bool Truncated, IReadOnlyList<TokenResult> Tokens, IReadOnlyList<WordResult> Words);

    private sealed record TokenResult(string Token, int Id, int Start, int End, int? Word, double Attribution);

    private sealed record WordResult(string Word, int Start, int End, double Attribution, int FirstToken, int TokenCount);
}
