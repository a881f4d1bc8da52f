using BertSharp.Charts;
using BertSharp.Evaluation;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Charts;

public class TrainingReportTests
{
    private static List<IReadOnlyDictionary<string, double>> History() =>
    [
        new Dictionary<string, double> { ["loss"] = 0.69, ["grad_norm"] = 1.2, ["learning_rate"] = 1e-4, ["epoch"] = 0.5, ["step"] = 2 },
        new Dictionary<string, double> { ["loss"] = 0.61, ["grad_norm"] = 1.4, ["learning_rate"] = 5e-5, ["epoch"] = 1.0, ["step"] = 4 },
        new Dictionary<string, double> { ["eval_loss"] = 0.6, ["eval_accuracy"] = 0.7, ["eval_f1"] = 0.68, ["epoch"] = 1.0, ["step"] = 4 },
        new Dictionary<string, double> { ["train_runtime"] = 3.2, ["train_loss"] = 0.65, ["epoch"] = 1.0, ["step"] = 4 },
    ];

    [Fact]
    public void SavesOneOfflineHtmlPerChartOfTheRun()
    {
        using var dir = new TempDirectory();
        var matrix = ConfusionMatrix.FromCounts([[3, 1], [2, 4]]);
        var files = TrainingReport.SaveHtml(dir.Path, History(), matrix, ["neg", "pos"]);
        Assert.Equal(["loss.html", "learning-rate.html", "grad-norm.html", "eval-metrics.html", "confusion-matrix.html"], files.Select(Path.GetFileName));
        Assert.All(files, f => Assert.DoesNotContain("<script src=\"http", File.ReadAllText(f)));
    }

    [Fact]
    public void TheLogPictureShowsTheTrainerLinesEscaped()
    {
        var html = TrainingReport.LogHtml(History(), "run <1>");
        Assert.Contains("{&#39;loss&#39;: 0.69, &#39;grad_norm&#39;: 1.2, &#39;learning_rate&#39;: 0.0001, &#39;epoch&#39;: 0.5}", html);
        Assert.Contains("run &lt;1&gt;", html);
        Assert.Contains("class=\"eval\"", html);
    }

    [Fact]
    public void ConfusionMatrixCountsMustBeSquare()
    {
        Assert.Contains("square", Assert.Throws<ArgumentException>(() => ConfusionMatrix.FromCounts([[1, 2]])).Message);
    }

    [Fact]
    public void ChartsCommandNamesAMissingLogHistory()
    {
        using var dir = new TempDirectory();
        var result = CliProcess.Run(["charts", "--run", dir.Path]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("log_history.json does not exist", result.Stderr);
    }
}
