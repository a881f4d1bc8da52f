using BertSharp.Charts;
using BertSharp.Evaluation;
using BertSharp.Training;
using static BertSharp.Tests.Charts.ChartTestData;

namespace BertSharp.Tests.Charts;

public class TrainingChartsTests
{
    private static IEnumerable<IReadOnlyDictionary<string, double>> Log(List<Dictionary<string, double>> history) => history;

    [Fact]
    public void Loss_plots_the_logged_training_loss_against_the_step()
    {
        // The trainer's own type goes straight in.
        var chart = new ChartJson(TrainingCharts.Loss(History()));

        var raw = chart.Trace("training loss");
        Assert.Equal(TrainSteps.Select(s => (double)s), ChartJson.Numbers(raw["x"]));
        Assert.Equal(Losses, ChartJson.Numbers(raw["y"]));
        Assert.Equal("Training loss", chart.Title);
        Assert.Equal("Optimizer step", chart.AxisTitle("xaxis"));
        Assert.Equal("Loss (cross-entropy, nats)", chart.AxisTitle("yaxis"));
        // No smoothing asked for: the raw line and the evaluation markers only.
        Assert.Equal(2, chart.Traces.Count);
    }

    [Fact]
    public void Loss_adds_a_trailing_moving_average_of_the_same_length()
    {
        var chart = new ChartJson(TrainingCharts.Loss(History(), smoothingWindow: 3));

        var smoothed = chart.Trace("moving average (3 logs)");
        Assert.Equal(TrainSteps.Select(s => (double)s), ChartJson.Numbers(smoothed["x"]));
        var y = ChartJson.Numbers(smoothed["y"]);
        Assert.Equal(Losses.Length, y.Length);
        for (var i = 0; i < Losses.Length; i++)
        {
            var window = Losses[Math.Max(0, i - 2)..(i + 1)];
            Assert.Equal(window.Average(), y[i], 1e-15); // means of up to 3 values below 1, summed in the same order
        }
        Assert.Equal(3, chart.Traces.Count);
    }

    [Fact]
    public void Loss_marks_each_evaluation_loss_at_its_step()
    {
        var chart = new ChartJson(TrainingCharts.Loss(History(), smoothingWindow: 2, title: "Run 7"));

        var eval = chart.Trace("validation loss");
        Assert.Equal(EvalSteps.Select(s => (double)s), ChartJson.Numbers(eval["x"]));
        Assert.Equal(EvalLosses, ChartJson.Numbers(eval["y"]));
        Assert.Equal(EvalEpochs, ChartJson.Numbers(eval["customdata"]));
        Assert.Contains("markers", (string)eval["mode"]!);
        Assert.Equal("Run 7", chart.Title);
    }

    [Fact]
    public void Loss_without_evaluations_has_no_evaluation_trace_and_non_finite_losses_become_gaps()
    {
        var history = Without("eval_loss");
        history[3]["loss"] = double.NaN;   // entries 0-3 are the first four training logs
        var chart = new ChartJson(TrainingCharts.Loss(history, smoothingWindow: 2));

        Assert.Equal(2, chart.Traces.Count);
        var y = ChartJson.NullableNumbers(chart.Trace("training loss")["y"]);
        Assert.Null(y[3]);
        // The moving average skips the gap: the mean of the finite values in its window.
        var smoothed = ChartJson.NullableNumbers(chart.Trace("moving average (2 logs)")["y"]);
        // A window with one finite value: that value divided by 1, exactly.
        Assert.Equal(Losses[2], smoothed[3]!.Value);
        Assert.Equal(Losses[4], smoothed[4]!.Value);
    }

    [Fact]
    public void Loss_reads_the_history_once_in_any_order_and_sorts_by_step()
    {
        var shuffled = History().AsEnumerable().Reverse().Select(e => (IReadOnlyDictionary<string, double>)e);
        var chart = new ChartJson(TrainingCharts.Loss(shuffled));
        Assert.Equal(TrainSteps.Select(s => (double)s), ChartJson.Numbers(chart.Trace("training loss")["x"]));
    }

    [Fact]
    public void LearningRate_plots_learning_rate_against_step()
    {
        var chart = new ChartJson(TrainingCharts.LearningRate(History()));

        var trace = Assert.Single(chart.Traces)!;
        Assert.Equal(TrainSteps.Select(s => (double)s), ChartJson.Numbers(trace["x"]));
        Assert.Equal(TrainSteps.Select(LearningRate), ChartJson.Numbers(trace["y"]));
        Assert.Equal("Learning rate", chart.Title);
        Assert.Equal("Optimizer step", chart.AxisTitle("xaxis"));
        Assert.Equal("Learning rate", chart.AxisTitle("yaxis"));
    }

    [Theory]
    [InlineData(SchedulerType.Linear, 2e-5, 10, 100)]
    [InlineData(SchedulerType.Cosine, 5e-5, 0, 37)]
    [InlineData(SchedulerType.Constant, 1e-4, 5, 5)]
    public void LearningRateSchedule_has_every_step_from_0_to_TotalSteps(SchedulerType type, double peak, int warmup, int total)
    {
        var schedule = new LearningRateSchedule(type, peak, warmup, total);
        var chart = new ChartJson(TrainingCharts.LearningRateSchedule(schedule));

        var trace = Assert.Single(chart.Traces)!;
        var x = ChartJson.Numbers(trace["x"]);
        var y = ChartJson.Numbers(trace["y"]);
        Assert.Equal(total + 1, x.Length);
        Assert.Equal(Enumerable.Range(0, total + 1).Select(s => (double)s), x);
        for (var step = 0; step <= total; step++)
            Assert.Equal(schedule.LearningRateAt(step), y[step], peak * 1e-12);
        Assert.StartsWith($"{type} learning-rate schedule", chart.Title);
        Assert.Equal("Optimizer step", chart.AxisTitle("xaxis"));
        Assert.Equal("Learning rate", chart.AxisTitle("yaxis"));
        if (warmup > 0)
            Assert.Equal(warmup, chart.Layout["shapes"]![0]!["x0"]!.GetValue<double>());
        else
            Assert.Null(chart.Layout["shapes"]);
    }

    [Fact]
    public void GradNorm_plots_grad_norm_against_step()
    {
        var chart = new ChartJson(TrainingCharts.GradNorm(History()));

        var trace = Assert.Single(chart.Traces)!;
        Assert.Equal(TrainSteps.Select(s => (double)s), ChartJson.Numbers(trace["x"]));
        Assert.Equal(GradNorms, ChartJson.Numbers(trace["y"]));
        Assert.Equal("Gradient norm", chart.Title);
        Assert.Equal("Gradient L2 norm (before clipping)", chart.AxisTitle("yaxis"));
    }

    [Fact]
    public void EvalMetrics_plots_accuracy_and_f1_per_epoch_with_the_loss_on_a_second_axis()
    {
        var chart = new ChartJson(TrainingCharts.EvalMetrics(History()));

        var accuracy = chart.Trace("accuracy");
        Assert.Equal(EvalEpochs, ChartJson.Numbers(accuracy["x"]));
        Assert.Equal(EvalAccuracies, ChartJson.Numbers(accuracy["y"]));
        var f1 = chart.Trace("F1");
        Assert.Equal(EvalEpochs, ChartJson.Numbers(f1["x"]));
        Assert.Equal(EvalF1s, ChartJson.Numbers(f1["y"]));
        var loss = chart.Trace("validation loss (right axis)");
        Assert.Equal(EvalLosses, ChartJson.Numbers(loss["y"]));
        Assert.Equal("y2", (string?)loss["yaxis"]);
        Assert.Equal("y", (string?)chart.Layout["yaxis2"]!["overlaying"]);
        Assert.Equal("right", (string?)chart.Layout["yaxis2"]!["side"]);
        Assert.Equal("legendonly", (string?)chart.Trace("precision")["visible"]);
        Assert.Equal("Validation metrics per epoch", chart.Title);
        Assert.Equal("Epoch", chart.AxisTitle("xaxis"));
        Assert.Equal("Score (%)", chart.AxisTitle("yaxis"));
        Assert.Contains("Loss", chart.AxisTitle("yaxis2"));
    }

    [Fact]
    public void EvalMetrics_without_eval_loss_has_no_second_axis()
    {
        var chart = new ChartJson(TrainingCharts.EvalMetrics(Removing("eval_loss").Concat([new Dictionary<string, double> { ["eval_accuracy"] = 0.9, ["epoch"] = 3, ["step"] = 150 }]).ToList()));
        Assert.Null(chart.Layout["yaxis2"]);
        Assert.DoesNotContain(chart.Traces, t => (string?)t!["yaxis"] == "y2");
        Assert.Equal([1.0, 2.0, 3.0], ChartJson.Numbers(chart.Trace("accuracy")["x"]));
    }

    [Fact]
    public void ConfusionMatrix_is_a_heatmap_with_truth_on_y_prediction_on_x_and_counts_annotated()
    {
        int[] labels = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1];
        int[] predictions = [0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 1];
        var matrix = ConfusionMatrix.From(labels, predictions, 2);
        var chart = new ChartJson(TrainingCharts.ConfusionMatrix(matrix, ["negative", "positive"]));

        var heatmap = Assert.Single(chart.Traces)!;
        Assert.Equal("heatmap", (string?)heatmap["type"]);
        var z = heatmap["z"]!.AsArray().Select(r => ChartJson.Numbers(r)).ToArray();
        Assert.Equal(matrix.ToArray().Select(r => r.Select(c => (double)c).ToArray()).ToArray(), z);
        Assert.Equal([4.0, 1.0], z[0]);   // truth negative: 4 right, 1 predicted positive
        Assert.Equal(["negative", "positive"], ChartJson.Strings(heatmap["x"]));
        Assert.Equal(["negative", "positive"], ChartJson.Strings(heatmap["y"]));
        Assert.Equal("Predicted label", chart.AxisTitle("xaxis"));
        Assert.Equal("True label", chart.AxisTitle("yaxis"));
        Assert.Equal("reversed", (string?)chart.Layout["yaxis"]!["autorange"]);

        var annotations = chart.Layout["annotations"]!.AsArray().Select(a => a!.AsObject()).ToList();
        Assert.Equal(4, annotations.Count);
        var offDiagonal = annotations.Single(a => (string?)a["y"] == "positive" && (string?)a["x"] == "negative");
        Assert.Contains("<b>2</b>", (string)offDiagonal["text"]!);
        Assert.Contains("28.6%", (string)offDiagonal["text"]!);   // 2 of the 7 positives
        Assert.StartsWith("Confusion matrix", chart.Title);
        Assert.Contains("75.0%", chart.Title);                    // 9 of 12 right
    }

    [Fact]
    public void ConfusionMatrix_names_labels_by_index_by_default_and_checks_the_names()
    {
        var matrix = ConfusionMatrix.From([0, 1, 2], [0, 2, 2], 3);
        var chart = new ChartJson(TrainingCharts.ConfusionMatrix(matrix));
        Assert.Equal(["0", "1", "2"], ChartJson.Strings(chart.Traces[0]!["x"]));
        Assert.Equal("category", (string?)chart.Layout["xaxis"]!["type"]);
        Assert.Equal(9, chart.Layout["annotations"]!.AsArray().Count);

        var e = Assert.Throws<ArgumentException>(() => TrainingCharts.ConfusionMatrix(matrix, ["a", "b"]));
        Assert.Equal("labelNames", e.ParamName);
    }

    [Fact]
    public void TokenLengthHistogram_marks_max_length_and_gives_the_truncated_share_in_the_title()
    {
        int[] lengths = [100, 200, 300, 400, 512, 513, 600, 700, 800, 250];
        var chart = new ChartJson(TrainingCharts.TokenLengthHistogram(lengths, 512));

        var histogram = Assert.Single(chart.Traces)!;
        Assert.Equal("histogram", (string?)histogram["type"]);
        Assert.Equal(lengths.Select(l => (double)l), ChartJson.Numbers(histogram["x"]));
        var line = chart.Layout["shapes"]![0]!;
        Assert.Equal(512, line["x0"]!.GetValue<double>());
        Assert.Equal(512, line["x1"]!.GetValue<double>());
        Assert.Equal("paper", (string?)line["yref"]);
        Assert.Contains("40.0% truncated at max_length = 512", chart.Title);   // 513, 600, 700, 800
        Assert.Equal("Review length (tokens)", chart.AxisTitle("xaxis"));
        Assert.Equal("Reviews (count)", chart.AxisTitle("yaxis"));

        var noLimit = new ChartJson(TrainingCharts.TokenLengthHistogram(lengths, maxLength: null));
        Assert.Null(noLimit.Layout["shapes"]);
        Assert.DoesNotContain("truncated", noLimit.Title);

        Assert.Throws<ArgumentException>(() => TrainingCharts.TokenLengthHistogram([], 512));
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainingCharts.TokenLengthHistogram(lengths, 0));
    }

    [Fact]
    public void CompareRuns_draws_one_line_per_run_against_step_for_training_keys()
    {
        var fast = History();
        foreach (var e in fast.Where(e => e.ContainsKey("loss"))) e["loss"] *= 1.5;
        var runs = new Dictionary<string, IEnumerable<IReadOnlyDictionary<string, double>>>
        {
            ["lr=1e-4"] = fast,
            ["lr=2e-5"] = History(),
        };
        var chart = new ChartJson(TrainingCharts.CompareRuns(runs));

        Assert.Equal(2, chart.Traces.Count);
        Assert.Equal(TrainSteps.Select(s => (double)s), ChartJson.Numbers(chart.Trace("lr=1e-4")["x"]));
        Assert.Equal(Losses.Select(l => l * 1.5), ChartJson.Numbers(chart.Trace("lr=1e-4")["y"]));
        Assert.Equal(Losses, ChartJson.Numbers(chart.Trace("lr=2e-5")["y"]));
        Assert.NotEqual((string?)chart.Trace("lr=1e-4")["line"]!["color"], (string?)chart.Trace("lr=2e-5")["line"]!["color"]);
        Assert.Equal("Training loss by run", chart.Title);
        Assert.Equal("Optimizer step", chart.AxisTitle("xaxis"));
        Assert.Equal("Training loss (cross-entropy, nats)", chart.AxisTitle("yaxis"));
    }

    [Fact]
    public void CompareRuns_plots_eval_keys_against_epoch()
    {
        var runs = new Dictionary<string, IEnumerable<IReadOnlyDictionary<string, double>>> { ["a"] = History(), ["b"] = History() };
        var chart = new ChartJson(TrainingCharts.CompareRuns(runs, "eval_accuracy"));

        Assert.Equal(EvalEpochs, ChartJson.Numbers(chart.Trace("a")["x"]));
        Assert.Equal(EvalAccuracies, ChartJson.Numbers(chart.Trace("b")["y"]));
        Assert.Equal("Epoch", chart.AxisTitle("xaxis"));
        Assert.Equal("Validation accuracy by run", chart.Title);
    }

    public static TheoryData<string, Func<IEnumerable<IReadOnlyDictionary<string, double>>, object>> ChartsAndKeys() => new()
    {
        { "loss", h => TrainingCharts.Loss(h) },
        { "learning_rate", h => TrainingCharts.LearningRate(h) },
        { "grad_norm", h => TrainingCharts.GradNorm(h) },
        { "eval_accuracy", h => TrainingCharts.EvalMetrics(h) },
    };

    [Theory]
    [MemberData(nameof(ChartsAndKeys))]
    public void An_empty_history_is_an_ArgumentException_naming_the_missing_key(string key, Func<IEnumerable<IReadOnlyDictionary<string, double>>, object> build)
    {
        var e = Assert.Throws<ArgumentException>(() => build([]));
        Assert.Contains($"'{key}'", e.Message);
        Assert.Contains("empty", e.Message);
        Assert.Equal("logHistory", e.ParamName);
    }

    [Theory]
    [MemberData(nameof(ChartsAndKeys))]
    public void A_history_without_the_key_is_an_ArgumentException_naming_it(string key, Func<IEnumerable<IReadOnlyDictionary<string, double>>, object> build)
    {
        // Evaluation entries only have eval_* keys; training entries have no eval_* keys.
        var history = key.StartsWith("eval_") ? Without("eval_accuracy") : Without("loss");
        var e = Assert.Throws<ArgumentException>(() => build(Log(history)));
        Assert.Contains($"'{key}'", e.Message);
        Assert.Equal("logHistory", e.ParamName);
    }

    [Fact]
    public void Missing_key_messages_say_what_the_history_has_and_CompareRuns_names_the_run()
    {
        var e = Assert.Throws<ArgumentException>(() => TrainingCharts.EvalMetrics(Without("eval_accuracy")));
        Assert.Contains("'eval_accuracy' or 'eval_f1'", e.Message);
        Assert.Contains("'loss'", e.Message);   // what it has instead

        var runs = new Dictionary<string, IEnumerable<IReadOnlyDictionary<string, double>>> { ["good"] = History(), ["no-eval"] = Without("eval_f1") };
        var r = Assert.Throws<ArgumentException>(() => TrainingCharts.CompareRuns(runs, "eval_f1"));
        Assert.Contains("'eval_f1'", r.Message);
        Assert.Contains("'no-eval'", r.Message);
        Assert.Equal("runs", r.ParamName);
        Assert.Throws<ArgumentException>(() => TrainingCharts.CompareRuns(new Dictionary<string, IEnumerable<IReadOnlyDictionary<string, double>>>()));

        var noStep = new List<Dictionary<string, double>> { new() { ["loss"] = 0.5, ["epoch"] = 1 } };
        var s = Assert.Throws<ArgumentException>(() => TrainingCharts.Loss(noStep));
        Assert.Contains("'step'", s.Message);
    }

    [Fact]
    public void Every_chart_uses_the_shared_template()
    {
        var matrix = ConfusionMatrix.From([0, 1], [0, 1], 2);
        var charts = new[]
        {
            TrainingCharts.Loss(History()), TrainingCharts.LearningRate(History()), TrainingCharts.GradNorm(History()),
            TrainingCharts.EvalMetrics(History()), TrainingCharts.ConfusionMatrix(matrix), TrainingCharts.TokenLengthHistogram([1, 2, 3]),
            TrainingCharts.LearningRateSchedule(new LearningRateSchedule(SchedulerType.Linear, 1e-5, 1, 3)),
        };
        foreach (var chart in charts.Select(c => new ChartJson(c)))
        {
            var template = chart.Layout["template"]!["layout"]!;
            Assert.Contains("Liberation Sans", (string)template["font"]!["family"]!);
            Assert.Equal(10, template["colorway"]!.AsArray().Count);
            Assert.Null(chart.Layout["width"]);   // sized by the renderer
        }
    }
}
