using BertSharp.Data;

namespace BertSharp.Tests.Data;

public class TextClassificationDatasetTests
{
    private static TextClassificationDataset Numbered(int n, string source = "numbered") =>
        new(Enumerable.Range(0, n).Select(i => new TextExample($"row {i}", i % 3)).ToList(), source: source);

    [Fact]
    public void Holds_rows_in_order_and_counts_labels()
    {
        var ds = Numbered(10);
        Assert.Equal(10, ds.Count);
        Assert.Equal("row 4", ds[4].Text);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"row {i}"), ds.Select(e => e.Text));
        Assert.Equal(new Dictionary<int, int> { [0] = 4, [1] = 3, [2] = 3 }, ds.LabelCounts());
        Assert.Equal([0, 1, 2], ds.LabelCounts().Keys);
        Assert.Equal(3, ds.NumLabels);
        Assert.Null(ds.LabelNames);
        Assert.Equal("numbered", ds.Source);
    }

    [Fact]
    public void Copies_its_input_so_later_changes_do_not_leak_in()
    {
        var list = new List<TextExample> { new("a", 0) };
        var ds = new TextClassificationDataset(list);
        list[0] = new TextExample("b", 1);
        Assert.Equal("a", ds[0].Text);
        Assert.Equal("in-memory", ds.Source);
    }

    [Fact]
    public void NumLabels_prefers_label_names()
    {
        var ds = new TextClassificationDataset([new("a", 0)], ["neg", "pos", "neutral"]);
        Assert.Equal(3, ds.NumLabels);
        Assert.Equal(["neg", "pos", "neutral"], ds.LabelNames!);
        Assert.Equal(0, new TextClassificationDataset([]).NumLabels);
        Assert.Equal(0, new TextClassificationDataset([new("x", -1)]).NumLabels);
    }

    [Fact]
    public void Rejects_labels_beyond_the_names_and_null_rows()
    {
        var ex = Assert.Throws<ArgumentException>(() => new TextClassificationDataset([new("a", 2)], ["neg", "pos"], "mine"));
        Assert.Contains("mine", ex.Message);
        Assert.Contains("label 2", ex.Message);
        Assert.Throws<ArgumentException>(() => new TextClassificationDataset([null!]));
        Assert.Throws<ArgumentException>(() => new TextClassificationDataset([new(null!, 0)]));
    }

    [Fact]
    public void Shuffle_follows_the_numpy_permutation()
    {
        var ds = Numbered(50);
        var order = NumpyRandom.Permutation(42, 50);
        var shuffled = ds.Shuffle(42);
        Assert.Equal(order.Select(i => ds[i]), shuffled);
        Assert.Contains("numbered", shuffled.Source);
        Assert.Contains("42", shuffled.Source);
        Assert.Equal(ds.Shuffle(42), ds.Shuffle(42));
        Assert.Empty(Numbered(0).Shuffle(42));
    }

    [Fact]
    public void SelectRange_takes_a_contiguous_range()
    {
        var ds = Numbered(10);
        Assert.Equal(["row 3", "row 4", "row 5"], ds.SelectRange(3, 3).Select(e => e.Text));
        Assert.Empty(ds.SelectRange(10, 0));
        Assert.Equal(10, ds.SelectRange(0, 10).Count);
        Assert.Equal(ds.NumLabels, ds.SelectRange(0, 1).NumLabels);
        // LINQ's Select and Take keep their meaning on the dataset: they are not shadowed.
        Assert.Equal(["row 0", "row 1"], ds.Take(2).Select(e => e.Text));
    }

    [Theory]
    [InlineData(-1, 2)]
    [InlineData(0, -1)]
    [InlineData(8, 3)]
    [InlineData(11, 0)]
    [InlineData(int.MaxValue, int.MaxValue)]
    public void SelectRange_out_of_range_names_the_sizes(int start, int count)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Numbered(10, "ten rows").SelectRange(start, count));
        Assert.Contains($"start: {start}", ex.Message);
        Assert.Contains($"count: {count}", ex.Message);
        Assert.Contains("has 10 rows", ex.Message);
        Assert.Contains("ten rows", ex.Message);
    }

    [Fact]
    public void SelectRange_of_a_count_needs_enough_rows()
    {
        var ds = Numbered(10, "ten rows");
        Assert.Equal(4, ds.SelectRange(4).Count);
        Assert.Equal(10, ds.SelectRange(10).Count);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ds.SelectRange(2000));
        Assert.Contains("2000", ex.Message);
        Assert.Contains("10", ex.Message);
        Assert.Contains("ten rows", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ds.SelectRange(-1));
    }

    [Fact]
    public void EnsureLabeled_names_the_source()
    {
        Numbered(5).EnsureLabeled();
        var ds = new TextClassificationDataset([new("a", 0), new("b", -1), new("c", -1)], source: "mixed.csv");
        var ex = Assert.Throws<InvalidDataException>(ds.EnsureLabeled);
        Assert.Contains("mixed.csv has unlabeled rows", ex.Message);
        Assert.Contains("2 of 3", ex.Message);
        Assert.Contains("row 1", ex.Message);
        Assert.Contains("train or test", ex.Message);
        // The tokenised dataset says the same, from the same check.
        var tokenized = new TokenizedDataset([new TokenizedExample([101, 102], 0), new TokenizedExample([101, 102])], "mixed.csv", 8);
        Assert.Equal(ex.Message.Replace("2 of 3", "1 of 2"), Assert.Throws<InvalidDataException>(tokenized.EnsureLabeled).Message);
    }
}
