using BertSharp.Training;
using System.Text.Json.Nodes;
using System.Globalization;
using static BertSharp.Charts.ChartTheme;
using EvalConfusionMatrix = BertSharp.Evaluation.ConfusionMatrix;
using Schedule = BertSharp.Training.LearningRateSchedule;

namespace BertSharp.Charts;

/// <summary>
/// Plotly charts (<see cref="PlotlyChart"/>) of a fine-tuning run, drawn from the Trainer's log history (Hugging Face keys: training entries
/// <c>loss, grad_norm, learning_rate, epoch, step</c>; evaluation entries <c>eval_*</c>; a final <c>train_*</c>
/// summary) and from evaluation results. Every chart shares <see cref="ChartTheme"/>'s look and has no fixed size;
/// show it with <see cref="ChartRenderer"/> (notebook HTML, standalone HTML, PNG).
/// A history without the key a chart needs throws an <see cref="ArgumentException"/> that names the key.
/// </summary>
public static class TrainingCharts
{
    private const string StepAxis = "Optimizer step";
    private const string EpochAxis = "Epoch";
    private const string LossAxis = "Loss (cross-entropy, nats)";
    private const int MarkerThreshold = 50;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>
    /// Training loss against the optimizer step: the raw value of each log (the mean loss over its logging
    /// interval) and, when <paramref name="smoothingWindow"/> &gt; 0, a <b>trailing moving average</b> over the last
    /// <paramref name="smoothingWindow"/> logged values (fewer at the start, so it has one point per log; gaps from
    /// non-finite losses are skipped). Evaluation losses (<c>eval_loss</c>), when logged, are drawn as markers on the
    /// same axes at the step they were measured.
    /// </summary>
    public static PlotlyChart Loss(IEnumerable<IReadOnlyDictionary<string, double>> logHistory, int smoothingWindow = 0, string? title = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(smoothingWindow);
        var history = LogSeries.Materialize(logHistory);
        var train = LogSeries.Points(history, LogKeys.Loss, LogKeys.Step);
        var evals = LogSeries.Points(history, LogKeys.EvalLoss, LogKeys.Step, required: false);
        var smoothing = smoothingWindow > 0;

        var traces = new List<JsonObject>
        {
            Trace("scatter",
                ("name", "training loss"),
                ("x", train.Select(p => p.X).ToArray()),
                ("y", Finite(train.Select(p => p.Value))),
                ("mode", Mode(train.Count)),
                ("line", Obj(("color", Blue), ("width", smoothing ? 1.5 : 2.5))),
                ("marker", Obj(("size", 5))),
                ("opacity", smoothing ? 0.35 : 1.0)),
        };
        if (smoothing)
        {
            traces.Add(Trace("scatter",
                ("name", $"moving average ({smoothingWindow} logs)"),
                ("x", train.Select(p => p.X).ToArray()),
                ("y", MovingAverage(train.Select(p => p.Value).ToList(), smoothingWindow)),
                ("mode", "lines"),
                ("line", Obj(("color", Blue), ("width", 3)))));
        }
        if (evals.Count > 0)
        {
            traces.Add(Trace("scatter",
                ("name", "validation loss"),
                ("x", evals.Select(p => p.X).ToArray()),
                ("y", Finite(evals.Select(p => p.Value))),
                ("customdata", evals.Select(p => p.Epoch).ToArray()),
                ("hovertemplate", "validation loss %{y:.4f}<br>epoch %{customdata:.2f}<extra></extra>"),
                ("mode", evals.Count > 1 ? "lines+markers" : "markers"),
                ("line", Obj(("color", Orange), ("width", 1.5), ("dash", "dot"))),
                ("marker", Obj(("color", Orange), ("size", 11), ("symbol", "diamond"), ("line", Obj(("color", "#ffffff"), ("width", 1)))))));
        }
        return Chart(traces, title ?? "Training loss",
            ("xaxis", Axis(StepAxis, ("rangemode", "tozero"))),
            ("yaxis", Axis(LossAxis, ("hoverformat", ".4f"))),
            ("hovermode", "x unified"));
    }

    /// <summary>The learning rate the scheduler had reached at each logged step (<c>learning_rate</c> vs <c>step</c>).</summary>
    public static PlotlyChart LearningRate(IEnumerable<IReadOnlyDictionary<string, double>> logHistory)
    {
        var history = LogSeries.Materialize(logHistory);
        var points = LogSeries.Points(history, LogKeys.LearningRate, LogKeys.Step);
        return Chart(
            [LineTrace("learning rate", points.Select(p => p.X), points.Select(p => p.Value), Blue, Mode(points.Count))],
            "Learning rate",
            ("xaxis", Axis(StepAxis, ("rangemode", "tozero"))),
            ("yaxis", LearningRateAxis()),
            ("showlegend", false),
            ("hovermode", "x unified"));
    }

    /// <summary>
    /// The learning rate <paramref name="schedule"/> will use at every optimizer step 0..TotalSteps (TotalSteps + 1
    /// points, exactly <see cref="Schedule.LearningRateAt"/>), with the end of warm-up marked: a preview to show
    /// before training starts.
    /// </summary>
    public static PlotlyChart LearningRateSchedule(Schedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        if (schedule.TotalSteps < 0) throw new ArgumentException($"The schedule has {schedule.TotalSteps} total steps.", nameof(schedule));
        var steps = Enumerable.Range(0, schedule.TotalSteps + 1).ToArray();
        var rates = steps.Select(schedule.LearningRateAt).ToArray();
        var shapes = new List<object>();
        var annotations = new List<object>();
        if (schedule.WarmupSteps > 0 && schedule.WarmupSteps <= schedule.TotalSteps)
        {
            shapes.Add(VerticalLine(schedule.WarmupSteps, AxisColor, "dot"));
            annotations.Add(Obj(("x", schedule.WarmupSteps), ("y", 1.0), ("xref", "x"), ("yref", "paper"),
                ("text", $"end of warm-up (step {schedule.WarmupSteps})"), ("showarrow", false),
                ("xanchor", "left"), ("yanchor", "top"), ("xshift", 6), ("bgcolor", "rgba(255,255,255,0.85)"), ("font", Obj(("size", 12), ("color", "#5b6475")))));
        }
        var title = $"{schedule.Type} learning-rate schedule"
            + $"<br><sup>peak {Rate(schedule.PeakLearningRate)}, {schedule.WarmupSteps:N0} warm-up steps, {schedule.TotalSteps:N0} steps in all</sup>";
        return Chart(
            [LineTrace("learning rate", steps.Select(s => (double)s), rates, Blue, "lines")],
            title,
            ("xaxis", Axis(StepAxis, ("rangemode", "tozero"))),
            ("yaxis", LearningRateAxis()),
            ("shapes", shapes.Count > 0 ? shapes : null),
            ("annotations", annotations.Count > 0 ? annotations : null),
            ("showlegend", false),
            ("hovermode", "x unified"));
    }

    /// <summary>The total L2 norm of the gradients before clipping (<c>grad_norm</c>) at each logged step.</summary>
    public static PlotlyChart GradNorm(IEnumerable<IReadOnlyDictionary<string, double>> logHistory)
    {
        var history = LogSeries.Materialize(logHistory);
        var points = LogSeries.Points(history, LogKeys.GradNorm, LogKeys.Step);
        return Chart(
            [LineTrace("gradient norm", points.Select(p => p.X), points.Select(p => p.Value), Purple, Mode(points.Count))],
            "Gradient norm",
            ("xaxis", Axis(StepAxis, ("rangemode", "tozero"))),
            ("yaxis", Axis("Gradient L2 norm (before clipping)", ("rangemode", "tozero"), ("hoverformat", ".3f"))),
            ("showlegend", false),
            ("hovermode", "x unified"));
    }

    /// <summary>
    /// Validation accuracy and F1 per epoch (left axis, as percentages), with eval_loss on a second y axis (right)
    /// when logged; precision and recall are in the legend, hidden until clicked. Needs eval_accuracy or eval_f1.
    /// </summary>
    public static PlotlyChart EvalMetrics(IEnumerable<IReadOnlyDictionary<string, double>> logHistory)
    {
        var history = LogSeries.Materialize(logHistory);
        var accuracy = LogSeries.Points(history, LogKeys.EvalAccuracy, LogKeys.Epoch, required: false);
        var f1 = LogSeries.Points(history, LogKeys.EvalF1, LogKeys.Epoch, required: false);
        if (accuracy.Count == 0 && f1.Count == 0) throw LogSeries.Missing(history, [LogKeys.EvalAccuracy, LogKeys.EvalF1]);
        var precision = LogSeries.Points(history, LogKeys.EvalPrecision, LogKeys.Epoch, required: false);
        var recall = LogSeries.Points(history, LogKeys.EvalRecall, LogKeys.Epoch, required: false);
        var loss = LogSeries.Points(history, LogKeys.EvalLoss, LogKeys.Epoch, required: false);

        var traces = new List<JsonObject>();
        void Add(List<LogPoint> points, string name, string color, bool visible, string? axis = null, string? dash = null, string symbol = "circle")
        {
            if (points.Count == 0) return;
            traces.Add(Trace("scatter",
                ("name", name),
                ("x", points.Select(p => p.X).ToArray()),
                ("y", Finite(points.Select(p => p.Value))),
                ("mode", "lines+markers"),
                ("yaxis", axis),
                ("visible", visible ? null : "legendonly"),
                ("line", Obj(("color", color), ("width", 2.5), ("dash", dash))),
                ("marker", Obj(("color", color), ("size", 9), ("symbol", symbol)))));
        }
        Add(accuracy, "accuracy", Blue, visible: true);
        Add(f1, "F1", Green, visible: true, symbol: "square");
        Add(precision, "precision", Purple, visible: false, symbol: "triangle-up");
        Add(recall, "recall", Palette[3], visible: false, symbol: "triangle-down");
        Add(loss, "validation loss (right axis)", Orange, visible: true, axis: "y2", dash: "dash", symbol: "diamond");

        var epochs = accuracy.Concat(f1).Concat(loss).Select(p => p.X).Distinct().ToList();
        var wholeEpochs = epochs.Count <= 20 && epochs.All(e => e == Math.Round(e));
        return Chart(traces, "Validation metrics per epoch",
            ("xaxis", Axis(EpochAxis, ("dtick", wholeEpochs ? 1 : null), ("tick0", wholeEpochs ? 0 : null))),
            ("yaxis", Axis("Score (%)", ("tickformat", ".1%"), ("hoverformat", ".2%"))),
            ("yaxis2", loss.Count > 0
                ? Axis(LossAxis, ("overlaying", "y"), ("side", "right"), ("showgrid", false), ("hoverformat", ".4f"), ("automargin", true))
                : null),
            ("margin", loss.Count > 0 ? Obj(("r", 80)) : null),
            ("hovermode", "x unified"));
    }

    /// <summary>
    /// The confusion matrix as a heatmap: true label on the y axis (first label at the top), predicted label on the
    /// x axis, each cell annotated with its count and its share of the true label's row.
    /// </summary>
    public static PlotlyChart ConfusionMatrix(EvalConfusionMatrix matrix, IReadOnlyList<string>? labelNames = null)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var n = matrix.NumLabels;
        if (n == 0) throw new ArgumentException("The confusion matrix has no labels.", nameof(matrix));
        if (labelNames is not null && labelNames.Count != n)
            throw new ArgumentException($"{labelNames.Count} label names for a confusion matrix of {n} labels.", nameof(labelNames));
        var names = labelNames?.ToArray() ?? Enumerable.Range(0, n).Select(i => i.ToString(Invariant)).ToArray();
        if (names.Distinct().Count() != n) throw new ArgumentException("Label names must be distinct.", nameof(labelNames));

        var counts = matrix.ToArray();
        var max = Math.Max(1, counts.SelectMany(r => r).DefaultIfEmpty(0).Max());
        var total = counts.SelectMany(r => r).Sum();
        var correct = Enumerable.Range(0, n).Sum(i => counts[i][i]);
        var annotations = new List<object>();
        for (var t = 0; t < n; t++)
        {
            var rowTotal = counts[t].Sum();
            for (var p = 0; p < n; p++)
            {
                var share = rowTotal == 0 ? 0 : (double)counts[t][p] / rowTotal;
                annotations.Add(Obj(
                    ("x", names[p]), ("y", names[t]), ("xref", "x"), ("yref", "y"), ("showarrow", false),
                    ("text", $"<b>{counts[t][p].ToString("N0", Invariant)}</b><br>{Percent(share)}"),
                    ("font", Obj(("size", n <= 4 ? 16 : 12), ("color", (double)counts[t][p] / max > 0.55 ? "#ffffff" : TextColor)))));
            }
        }
        var heatmap = Trace("heatmap",
            ("z", counts),
            ("x", names),
            ("y", names),
            ("colorscale", Blues),
            ("zmin", 0),
            ("colorbar", Obj(("title", Obj(("text", "Reviews"), ("side", "right"), ("font", Obj(("size", 13))))), ("thickness", 14), ("outlinewidth", 0))),
            ("xgap", 2), ("ygap", 2),
            ("hovertemplate", "true %{y}, predicted %{x}: %{z:,} reviews<extra></extra>"));
        var accuracy = total == 0 ? 0 : (double)correct / total;
        var title = $"Confusion matrix<br><sup>accuracy {Percent(accuracy)} of {total.ToString("N0", Invariant)} reviews; each cell: count and share of its true label</sup>";
        return Chart([heatmap], title,
            ("xaxis", Axis("Predicted label", ("type", "category"), ("side", "bottom"), ("showgrid", false), ("ticks", ""), ("showline", false))),
            ("yaxis", Axis("True label", ("type", "category"), ("autorange", "reversed"), ("showgrid", false), ("ticks", ""), ("showline", false))),
            ("annotations", annotations));
    }

    /// <summary>
    /// Histogram of review lengths in tokens. With <paramref name="maxLength"/>, a vertical line marks it and the
    /// title gives the share of reviews longer than it (the ones truncated at that max_length).
    /// </summary>
    public static PlotlyChart TokenLengthHistogram(IReadOnlyList<int> lengths, int? maxLength = 512)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        if (lengths.Count == 0) throw new ArgumentException("No token lengths to plot.", nameof(lengths));
        if (maxLength is <= 0) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "max_length must be positive.");
        var sorted = lengths.Order().ToArray();
        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2.0;
        var p95 = sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(0.95 * sorted.Length) - 1)];
        var stats = $"{lengths.Count.ToString("N0", Invariant)} reviews, median {Number(median)}, 95th percentile {p95.ToString("N0", Invariant)} tokens";

        string title;
        var shapes = new List<object>();
        var annotations = new List<object>();
        if (maxLength is { } max)
        {
            var truncated = lengths.Count(l => l > max);
            var share = (double)truncated / lengths.Count;
            title = $"Review length in tokens: {Percent(share)} truncated at max_length = {max}"
                + $"<br><sup>{truncated.ToString("N0", Invariant)} of {stats}</sup>";
            shapes.Add(VerticalLine(max, Red, "dash"));
            annotations.Add(Obj(("x", max), ("y", 1.0), ("xref", "x"), ("yref", "paper"), ("text", $"max_length = {max}"),
                ("showarrow", false), ("xanchor", "left"), ("yanchor", "top"), ("xshift", 6), ("bgcolor", "rgba(255,255,255,0.85)"), ("font", Obj(("color", Red), ("size", 12)))));
        }
        else
        {
            title = $"Review length in tokens<br><sup>{stats}</sup>";
        }
        var histogram = Trace("histogram",
            ("name", "reviews"),
            ("x", lengths.ToArray()),
            ("nbinsx", 60),
            ("marker", Obj(("color", Blue), ("line", Obj(("color", "#ffffff"), ("width", 0.5))))),
            ("hovertemplate", "%{x} tokens: %{y:,} reviews<extra></extra>"));
        return Chart([histogram], title,
            ("xaxis", Axis("Review length (tokens)", ("rangemode", "tozero"))),
            ("yaxis", Axis("Reviews (count)")),
            ("bargap", 0.02),
            ("showlegend", false),
            ("shapes", shapes.Count > 0 ? shapes : null),
            ("annotations", annotations.Count > 0 ? annotations : null));
    }

    /// <summary>
    /// One line per run (the dictionary's keys name them, e.g. "lr=1e-4", "lr=2e-5") for <paramref name="metric"/>:
    /// against the optimizer step for training keys (loss, learning_rate, grad_norm), against the epoch for
    /// evaluation keys (eval_*). Every run must have logged the metric.
    /// </summary>
    public static PlotlyChart CompareRuns(IReadOnlyDictionary<string, IEnumerable<IReadOnlyDictionary<string, double>>> runs, string metric = LogKeys.Loss)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentException.ThrowIfNullOrWhiteSpace(metric);
        if (runs.Count == 0) throw new ArgumentException("No runs to compare.", nameof(runs));
        var isEval = LogKeys.IsEval(metric);
        var xKey = isEval ? LogKeys.Epoch : LogKeys.Step;
        var traces = new List<JsonObject>();
        var xs = new HashSet<double>();
        var index = 0;
        foreach (var (name, log) in runs)
        {
            var history = LogSeries.Materialize(log, nameof(runs));
            List<LogPoint> points;
            try { points = LogSeries.Points(history, metric, xKey, paramName: nameof(runs)); }
            catch (ArgumentException e) { throw new ArgumentException($"Run '{name}': {StripParam(e.Message)}", nameof(runs), e); }
            xs.UnionWith(points.Select(p => p.X));
            var color = Palette[index++ % Palette.Length];
            traces.Add(LineTrace(name, points.Select(p => p.X), points.Select(p => p.Value), color,
                isEval ? "lines+markers" : Mode(points.Count), showLegend: true));
        }
        var label = MetricLabel(metric);
        var isFraction = metric is LogKeys.EvalAccuracy or LogKeys.EvalF1 or LogKeys.EvalPrecision or LogKeys.EvalRecall;
        var yaxis = metric == LogKeys.LearningRate
            ? LearningRateAxis()
            : Axis(label, ("tickformat", isFraction ? ".1%" : null), ("hoverformat", isFraction ? ".2%" : ".4f"));
        var wholeEpochs = isEval && xs.Count <= 20 && xs.All(e => e == Math.Round(e));
        return Chart(traces, $"{MetricTitle(metric)} by run",
            ("xaxis", isEval
                ? Axis(EpochAxis, ("dtick", wholeEpochs ? 1 : null), ("tick0", wholeEpochs ? 0 : null))
                : Axis(StepAxis, ("rangemode", "tozero"))),
            ("yaxis", yaxis),
            ("hovermode", "x unified"));
    }

    /// <summary>
    /// Trailing moving average: point i is the mean of the finite values among the last <paramref name="window"/>
    /// (i − window + 1 .. i), or null when none is finite. Same length as the input.
    /// </summary>
    internal static double?[] MovingAverage(IReadOnlyList<double> values, int window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        var result = new double?[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            double sum = 0;
            var count = 0;
            for (var j = Math.Max(0, i - window + 1); j <= i; j++)
                if (double.IsFinite(values[j])) { sum += values[j]; count++; }
            result[i] = count == 0 ? null : sum / count;
        }
        return result;
    }

    /// <summary>A metric's short name for chart titles: "Training loss", "Validation accuracy".</summary>
    internal static string MetricTitle(string metric)
    {
        var label = MetricLabel(metric);
        var unit = label.IndexOf(" (", StringComparison.Ordinal);
        return unit < 0 ? label : label[..unit];
    }

    /// <summary>A metric's axis label, with its unit.</summary>
    internal static string MetricLabel(string metric) => metric switch
    {
        LogKeys.Loss => "Training loss (cross-entropy, nats)",
        LogKeys.EvalLoss => "Validation loss (cross-entropy, nats)",
        LogKeys.LearningRate => "Learning rate",
        LogKeys.GradNorm => "Gradient L2 norm (before clipping)",
        LogKeys.EvalAccuracy => "Validation accuracy (%)",
        LogKeys.EvalF1 => "Validation F1 (%)",
        LogKeys.EvalPrecision => "Validation precision (%)",
        LogKeys.EvalRecall => "Validation recall (%)",
        LogKeys.EvalRuntime => "Evaluation time (s)",
        LogKeys.EvalSamplesPerSecond => "Evaluation throughput (samples/s)",
        LogKeys.EvalStepsPerSecond => "Evaluation throughput (steps/s)",
        _ => metric,
    };

    private static JsonObject LineTrace(string name, IEnumerable<double> x, IEnumerable<double> y, string color, string mode, bool showLegend = false) =>
        Trace("scatter",
            ("name", name),
            ("x", x.ToArray()),
            ("y", Finite(y)),
            ("mode", mode),
            ("showlegend", showLegend ? true : null),
            ("line", Obj(("color", color), ("width", 2.5))),
            ("marker", Obj(("color", color), ("size", 6))));

    private static Dictionary<string, object> LearningRateAxis() =>
        Axis("Learning rate", ("exponentformat", "e"), ("showexponent", "all"), ("hoverformat", ".3e"), ("rangemode", "tozero"));

    private static Dictionary<string, object> VerticalLine(double x, string color, string dash) =>
        Obj(("type", "line"), ("x0", x), ("x1", x), ("xref", "x"), ("y0", 0), ("y1", 1), ("yref", "paper"),
            ("line", Obj(("color", color), ("width", 2), ("dash", dash))));

    private static string Mode(int count) => count <= MarkerThreshold ? "lines+markers" : "lines";

    private static string Percent(double share) => (share * 100).ToString("0.0", Invariant) + "%";

    private static string Number(double value) => value.ToString("G4", Invariant);

    /// <summary>Learning rates the way they are written in configs: 2e-5, 1.5e-4.</summary>
    private static string Rate(double value) => value == 0 ? "0" : value.ToString("0.###e0", Invariant);

    private static string StripParam(string message)
    {
        var i = message.LastIndexOf(" (Parameter '", StringComparison.Ordinal);
        return i < 0 ? message : message[..i];
    }
}
