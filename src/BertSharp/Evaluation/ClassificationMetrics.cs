namespace BertSharp.Evaluation;

/// <summary>
/// Accuracy, precision, recall and F1 as scikit-learn / the `evaluate` library compute them: for two classes the
/// positive class is label 1 (average="binary"), for more classes the unweighted mean over classes ("macro").
/// </summary>
public sealed record ClassificationMetrics(
    double Accuracy,
    double Precision,
    double Recall,
    double F1,
    ConfusionMatrix ConfusionMatrix)
{
    public static ClassificationMetrics Compute(IReadOnlyList<int> labels, IReadOnlyList<int> predictions, int numLabels)
    {
        if (labels.Count != predictions.Count)
            throw new ArgumentException($"{labels.Count} labels but {predictions.Count} predictions.");
        if (labels.Count == 0) throw new ArgumentException("Cannot compute metrics of an empty dataset.");
        var matrix = ConfusionMatrix.From(labels, predictions, numLabels);
        var accuracy = (double)Enumerable.Range(0, numLabels).Sum(i => matrix[i, i]) / labels.Count;
        if (numLabels == 2)
        {
            var (p, r, f) = matrix.PrecisionRecallF1(1);
            return new ClassificationMetrics(accuracy, p, r, f, matrix);
        }
        var perClass = Enumerable.Range(0, numLabels).Select(matrix.PrecisionRecallF1).ToList();
        return new ClassificationMetrics(accuracy, perClass.Average(c => c.Precision), perClass.Average(c => c.Recall), perClass.Average(c => c.F1), matrix);
    }
}

/// <summary>Counts of (true label, predicted label) pairs: row = truth, column = prediction.</summary>
public sealed class ConfusionMatrix
{
    private readonly long[,] _counts;

    private ConfusionMatrix(long[,] counts) => _counts = counts;

    public int NumLabels => _counts.GetLength(0);

    public long this[int truth, int predicted] => _counts[truth, predicted];

    public long Total => _counts.Cast<long>().Sum();

    public static ConfusionMatrix From(IReadOnlyList<int> labels, IReadOnlyList<int> predictions, int numLabels)
    {
        var counts = new long[numLabels, numLabels];
        for (var i = 0; i < labels.Count; i++)
        {
            if ((uint)labels[i] >= numLabels) throw new ArgumentException($"Label {labels[i]} at row {i} is outside 0..{numLabels - 1}.");
            if ((uint)predictions[i] >= numLabels) throw new ArgumentException($"Prediction {predictions[i]} at row {i} is outside 0..{numLabels - 1}.");
            counts[labels[i], predictions[i]]++;
        }
        return new ConfusionMatrix(counts);
    }

    /// <summary>A matrix from saved counts (rows: true label, columns: predicted), e.g. confusion_matrix.json.</summary>
    public static ConfusionMatrix FromCounts(IReadOnlyList<IReadOnlyList<long>> counts)
    {
        var n = counts.Count;
        if (n == 0 || counts.Any(row => row.Count != n))
            throw new ArgumentException($"A confusion matrix must be square and non-empty; got {n} rows of lengths [{string.Join(", ", counts.Select(r => r.Count))}].");
        var matrix = new long[n, n];
        for (var t = 0; t < n; t++)
            for (var p = 0; p < n; p++)
                matrix[t, p] = counts[t][p] >= 0 ? counts[t][p] : throw new ArgumentException($"Count [{t}, {p}] is negative: {counts[t][p]}.");
        return new ConfusionMatrix(matrix);
    }

    /// <summary>Precision, recall and F1 of one class; 0 where a denominator is 0 (scikit-learn's zero_division=0).</summary>
    public (double Precision, double Recall, double F1) PrecisionRecallF1(int label)
    {
        long truePositive = _counts[label, label], predicted = 0, actual = 0;
        for (var i = 0; i < NumLabels; i++)
        {
            predicted += _counts[i, label];
            actual += _counts[label, i];
        }
        var precision = predicted == 0 ? 0 : (double)truePositive / predicted;
        var recall = actual == 0 ? 0 : (double)truePositive / actual;
        var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return (precision, recall, f1);
    }

    public long[][] ToArray() =>
        Enumerable.Range(0, NumLabels).Select(r => Enumerable.Range(0, NumLabels).Select(c => _counts[r, c]).ToArray()).ToArray();
}
