using BertSharp.Data;

namespace BertSharp.Tests.Data;

public class TextFileLoadingTests : IDisposable
{
    private readonly DataTempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Csv_handles_quotes_commas_and_line_breaks_with_named_labels()
    {
        var path = _dir.Write("reviews.csv",
            "id,text,label\r\n" +
            "1,\"Great, really \"\"great\"\" film\",pos\r\n" +
            "2,\"Two\r\nlines\nhere\",neg\r\n" +
            "\r\n" +
            "3,plain text,pos\r\n" +
            "4,\"\",neutral");
        var ds = TextClassificationDataset.FromCsv(path);
        Assert.Equal(["Great, really \"great\" film", "Two\r\nlines\nhere", "plain text", ""], ds.Select(e => e.Text));
        // Ordinal name order: neg, neutral, pos.
        Assert.Equal(["neg", "neutral", "pos"], ds.LabelNames!);
        Assert.Equal([2, 0, 2, 1], ds.Select(e => e.Label));
        Assert.Equal(3, ds.NumLabels);
        Assert.Equal(path, ds.Source);
    }

    [Fact]
    public void Csv_with_integer_labels_keeps_them()
    {
        var path = _dir.Write("ints.csv", "label,text\n1,good\n0,bad\n-1,unknown\n");
        var ds = TextClassificationDataset.FromCsv(path);
        Assert.Equal([1, 0, -1], ds.Select(e => e.Label));
        Assert.Null(ds.LabelNames);
        Assert.Equal(2, ds.NumLabels);
        Assert.Throws<InvalidDataException>(ds.EnsureLabeled);
    }

    [Fact]
    public void Csv_custom_columns_and_tsv()
    {
        var csv = _dir.Write("custom.csv", "sentence,y\nhello,1\n");
        Assert.Equal([new TextExample("hello", 1)], TextClassificationDataset.FromCsv(csv, "sentence", "y"));
        var tsv = _dir.Write("data.tsv", "text\tlabel\n\"a, b\tc\"\t1\nplain\t0\n");
        var ds = TextClassificationDataset.FromFile(tsv);
        Assert.Equal(["a, b\tc", "plain"], ds.Select(e => e.Text));
    }

    [Fact]
    public void Csv_unclosed_quote_names_the_line_where_it_opens()
    {
        var path = _dir.Write("unclosed.csv", "text,label\ngood,1\n\"never closed,0\nmore,1\n");
        var ex = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromCsv(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("line 3", ex.Message);
        Assert.Contains("never closed", ex.Message);
    }

    [Fact]
    public void Csv_stray_quotes_name_the_line()
    {
        var inside = _dir.Write("inside.csv", "text,label\ngood,1\nsay \"hi\",0\n");
        var ex = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromCsv(inside));
        Assert.Contains(inside, ex.Message);
        Assert.Contains("line 3", ex.Message);
        Assert.Contains("quote", ex.Message);

        var after = _dir.Write("after.csv", "text,label\n\"multi\nline\"x,1\n");
        var ex2 = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromCsv(after));
        Assert.Contains("line 3", ex2.Message);
        Assert.Contains("'x'", ex2.Message);
    }

    [Fact]
    public void Csv_wrong_field_count_names_the_line()
    {
        var path = _dir.Write("extra.csv", "text,label\nfine,1\nnot, fine,0\n");
        var ex = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromCsv(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("line 3", ex.Message);
        Assert.Contains("3 fields", ex.Message);
    }

    [Fact]
    public void Csv_missing_column_lists_the_header()
    {
        var path = _dir.Write("nolabel.csv", "text,sentiment\na,1\n");
        var ex = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromCsv(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("'label'", ex.Message);
        Assert.Contains("text, sentiment", ex.Message);
    }

    [Fact]
    public void Csv_empty_label_names_the_line_and_column()
    {
        var path = _dir.Write("emptylabel.csv", "text,label\na,1\nb,\n");
        var ex = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromCsv(path));
        Assert.Contains("line 3", ex.Message);
        Assert.Contains("'label'", ex.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("text,label\n")]
    [InlineData("text,label\n\n\n")]
    public void Csv_without_rows_is_empty(string content)
    {
        var path = _dir.Write("empty.csv", content);
        var ex = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromCsv(path));
        Assert.Contains($"{path}: the dataset is empty", ex.Message);
    }

    [Fact]
    public void Jsonl_reads_integer_or_named_labels()
    {
        var ints = _dir.Write("ints.jsonl", "{\"text\": \"good \\\"film\\\"\\nyes\", \"label\": 1}\n\n{\"label\": 0, \"text\": \"bad\", \"extra\": [1]}\n");
        var ds = TextClassificationDataset.FromJsonl(ints);
        Assert.Equal([new TextExample("good \"film\"\nyes", 1), new TextExample("bad", 0)], ds);
        Assert.Null(ds.LabelNames);

        var names = _dir.Write("names.jsonl", "{\"review\": \"x\", \"y\": \"pos\"}\r\n{\"review\": \"z\", \"y\": \"neg\"}\r\n");
        var named = TextClassificationDataset.FromFile(names, "review", "y");
        Assert.Equal(["neg", "pos"], named.LabelNames!);
        Assert.Equal([1, 0], named.Select(e => e.Label));
    }

    [Fact]
    public void Jsonl_missing_field_names_the_line_and_fields()
    {
        var path = _dir.Write("missing.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"sentiment\": 0}\n");
        var ex = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromJsonl(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("line 2", ex.Message);
        Assert.Contains("'label'", ex.Message);
        Assert.Contains("text, sentiment", ex.Message);
    }

    [Theory]
    [InlineData("{\"text\": 5, \"label\": 1}", "text field 'text'", "a number")]
    [InlineData("{\"text\": null, \"label\": 1}", "text field 'text'", "null")]
    [InlineData("{\"text\": \"a\", \"label\": 1.5}", "label field 'label'", "1.5")]
    [InlineData("{\"text\": \"a\", \"label\": null}", "label field 'label'", "null")]
    [InlineData("{\"text\": \"a\", \"label\": 1", "line 2", "not valid JSON")]
    [InlineData("[1, 2]", "line 2", "an array")]
    [InlineData("{\"text\": \"a\", \"label\": \"pos\"}", "label field 'label'", "earlier lines")]
    public void Jsonl_bad_values_name_the_line_and_field(string secondLine, string field, string detail)
    {
        var path = _dir.Write("bad.jsonl", "{\"text\": \"ok\", \"label\": 0}\n" + secondLine + "\n");
        var ex = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromJsonl(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("line 2", ex.Message);
        Assert.Contains(field, ex.Message);
        Assert.Contains(detail, ex.Message);
    }

    [Fact]
    public void Jsonl_without_rows_is_empty()
    {
        var path = _dir.Write("empty.jsonl", "\n  \n");
        var ex = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromJsonl(path));
        Assert.Contains($"{path}: the dataset is empty", ex.Message);
    }

    [Fact]
    public void FromFile_rejects_unknown_extensions_and_missing_files()
    {
        var path = _dir.Write("data.xlsx", "whatever");
        var ex = Assert.Throws<ArgumentException>(() => TextClassificationDataset.FromFile(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains(".xlsx", ex.Message);
        Assert.Contains(".parquet", ex.Message);

        var absent = _dir.File("absent.csv");
        var ex2 = Assert.Throws<FileNotFoundException>(() => TextClassificationDataset.FromFile(absent));
        Assert.Contains(absent, ex2.Message);
        Assert.Throws<FileNotFoundException>(() => TextClassificationDataset.FromJsonl(_dir.File("absent.jsonl")));
    }
}
