using BertSharp.Evaluation;

namespace BertSharp.Tests.Training;

public class MetricsTests
{
    // Ratios of small counts in double: the library and these literals round in a different order, a few ulps apart.
    private const double Ulps = 1e-15;

    [Fact]
    public void BinaryMetricsMatchScikitLearn()
    {
        // sklearn: accuracy 0.625, precision (pos=1) 2/3, recall 0.5, f1 4/7.
        int[] labels = [1, 1, 1, 1, 0, 0, 0, 0];
        int[] predictions = [1, 1, 0, 0, 1, 0, 0, 0];
        var m = ClassificationMetrics.Compute(labels, predictions, 2);
        Assert.Equal(0.625, m.Accuracy, Ulps);
        Assert.Equal(2.0 / 3, m.Precision, Ulps);
        Assert.Equal(0.5, m.Recall, Ulps);
        Assert.Equal(4.0 / 7, m.F1, Ulps);
        Assert.Equal(3, m.ConfusionMatrix[0, 0]);
        Assert.Equal(1, m.ConfusionMatrix[0, 1]);
        Assert.Equal(2, m.ConfusionMatrix[1, 0]);
        Assert.Equal(2, m.ConfusionMatrix[1, 1]);
    }

    [Fact]
    public void MulticlassIsMacroAveragedAndZeroDivisionIsZero()
    {
        int[] labels = [0, 1, 2, 2];
        int[] predictions = [0, 2, 2, 2];
        var m = ClassificationMetrics.Compute(labels, predictions, 3);
        // class 1 is never predicted: precision 0 (zero_division=0), recall 0.
        Assert.Equal((1 + 0 + 2.0 / 3) / 3, m.Precision, Ulps);
        Assert.Equal((1 + 0 + 1) / 3.0, m.Recall, Ulps);
    }

    [Fact]
    public void OutOfRangeLabelsAndEmptyInputAreErrors()
    {
        Assert.Contains("Label 5", Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute([5], [0], 2)).Message);
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute([], [], 2));
    }
}
