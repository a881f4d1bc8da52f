using System.Text.Json;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Cli;

/// <summary><c>bertsharp predict --explain</c> and <c>bertsharp bench explain</c> as a user runs them.</summary>
public class CliExplainTests
{
    [Fact]
    public void ExplainJsonHasTokensWordsOffsetsAttributionsAndTheDelta()
    {
        const string text = "Naïve plot, but the cast is <b>superb</b>!";
        var result = CliProcess.Run(["predict", "--model", SharedFiles.TinyModelDir, "--text", text, "--explain", "--json", "--steps", "30"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var doc = JsonDocument.Parse(result.Stdout.Trim());
        var root = doc.RootElement;
        Assert.Matches("^LABEL_[01]$", root.GetProperty("label").GetString());
        Assert.Equal(root.GetProperty("label").GetString(), root.GetProperty("target_label").GetString());
        Assert.Equal("integrated_gradients", root.GetProperty("method").GetString());
        Assert.Equal("gauss_legendre", root.GetProperty("integration").GetString());
        Assert.Equal(30, root.GetProperty("steps").GetInt32());
        var moved = root.GetProperty("target_logit").GetDouble() - root.GetProperty("baseline_logit").GetDouble();
        Assert.True(root.GetProperty("convergence_delta").GetDouble() < 0.01 * Math.Abs(moved), root.ToString());
        Assert.Equal(moved, root.GetProperty("attribution_sum").GetDouble(), 0.01 * Math.Abs(moved));

        var tokens = root.GetProperty("tokens").EnumerateArray().ToList();
        Assert.Equal(root.GetProperty("num_tokens").GetInt32(), tokens.Count);
        Assert.Equal("[CLS]", tokens[0].GetProperty("token").GetString());
        Assert.Equal(JsonValueKind.Null, tokens[0].GetProperty("word").ValueKind);
        var words = root.GetProperty("words").EnumerateArray().ToList();
        Assert.Equal(["Naïve", "plot", ",", "but", "the", "cast", "is", "<", "b", ">", "superb", "<", "/", "b", ">", "!"],
            words.Select(w => w.GetProperty("word").GetString()));
        foreach (var w in words)
        {
            Assert.Equal(text[w.GetProperty("start").GetInt32()..w.GetProperty("end").GetInt32()], w.GetProperty("word").GetString());
            var own = tokens.Skip(w.GetProperty("first_token").GetInt32()).Take(w.GetProperty("token_count").GetInt32());
            Assert.Equal(own.Sum(t => t.GetProperty("attribution").GetDouble()), w.GetProperty("attribution").GetDouble(), 1e-9);
        }
    }

    [Fact]
    public void ExplainPrintsTheTextWithSpectreMarkupInItEscaped()
    {
        const string text = "A [bold]great[/] film with [red] brackets ] and [/] everywhere.";
        var result = CliProcess.Run(["predict", "--model", SharedFiles.TinyModelDir, "--text", text, "--explain", "--steps", "8"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        // Without a terminal Spectre writes no colours: the text must come through exactly, brackets and all.
        Assert.Contains(text, result.Stdout);
        Assert.Contains("Integrated Gradients (8 Gauss–Legendre steps)", result.Stdout);
        Assert.Contains("toward 'LABEL_", result.Stdout);
        Assert.Contains("against:", result.Stdout);
    }

    [Theory]
    [InlineData(new[] { "--steps", "10" }, "--steps, --target-label and --gradient-x-input only apply with --explain")]
    [InlineData(new[] { "--explain", "--steps", "0" }, "--steps must be at least 1 (got 0)")]
    [InlineData(new[] { "--explain", "--target-label", "positive" }, "Unknown label 'positive'; the model's labels are LABEL_0, LABEL_1")]
    public void ExplainMistakesAreOneLine(string[] extra, string message)
    {
        var result = CliProcess.Run(["predict", "--model", SharedFiles.TinyModelDir, "--text", "Good.", .. extra]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"error: {message}", result.Stderr);
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public void ServeRefusesAnExplainCostBelowOne()
    {
        var result = CliProcess.Run(["serve", "--model", SharedFiles.TinyModelDir, "--max-explain-cost", "0"]);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: --max-explain-cost must be at least 1 (got 0)", result.Stderr);
    }

    [Fact]
    public void GradientTimesInputHasNoDelta()
    {
        var result = CliProcess.Run(["predict", "--model", SharedFiles.TinyModelDir, "--text", "Good film.", "--explain", "--gradient-x-input", "--json"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var root = JsonDocument.Parse(result.Stdout.Trim()).RootElement;
        Assert.Equal("gradient_x_input", root.GetProperty("method").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("convergence_delta").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("baseline_logit").ValueKind);
    }

    [Fact]
    public void BenchExplainPrintsDeletionCurvesForThreeMethods()
    {
        var result = CliProcess.Run(["bench", "explain", "--model", SharedFiles.TinyModelDir, "--dataset", SharedFiles.Path("data", "imdb"),
            "--samples", "3", "--steps", "4", "--max-words", "2", "--random-draws", "1", "--max-length", "64"], timeout: TimeSpan.FromMinutes(3));
        Assert.True(result.ExitCode == 0, result.Stderr);
        var root = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal("explain", root.GetProperty("task").GetString());
        Assert.Equal(3, root.GetProperty("samples").GetInt32());
        Assert.Equal(64, root.GetProperty("max_length").GetInt32());
        var curves = root.GetProperty("curves");
        foreach (var method in new[] { "integrated_gradients", "gradient_x_input", "random" })
        {
            var drop = curves.GetProperty(method).GetProperty("probability_drop").EnumerateArray().Select(x => x.GetDouble()).ToList();
            var aopc = curves.GetProperty(method).GetProperty("aopc").EnumerateArray().Select(x => x.GetDouble()).ToList();
            Assert.Equal(2, drop.Count);
            Assert.Equal((drop[0] + drop[1]) / 3, aopc[1], 1e-9);
        }
        Assert.Contains("mean probability drop after deleting the top-k words", result.Stderr);

        var all = CliProcess.Run(["bench", "explain", "--model", SharedFiles.TinyModelDir, "--dataset", SharedFiles.Path("data", "imdb")]);
        Assert.Equal(1, all.ExitCode);
        Assert.Contains("bench explain needs --samples", all.Stderr);
    }
}
