using BertSharp.Data;
using Parquet;
using static BertSharp.Tests.Data.ParquetFiles;

namespace BertSharp.Tests.Data;

public class ParquetLoadingTests : IDisposable
{
    private readonly DataTempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly string[] Texts = ["first", "second, with a comma", "third\nwith a line", "fourth ✓ unicode", "fifth"];

    [Fact]
    public async Task Snappy_file_round_trips_with_label_names()
    {
        var path = _dir.File("snappy.parquet");
        await WriteAsync(path, [Strings("text", Texts), Values<long>("label", [0, 1, 1, 0, 1])], rows: 5,
            compression: CompressionMethod.Snappy);
        await using (var reader = await ParquetReader.CreateAsync(path))
        {
            // Proves the file really is Snappy, the Hub's codec, not the default of the writer.
            var codec = reader.OpenRowGroupReader(0).GetMetadata(reader.Schema.DataFields[0])!.MetaData!.Codec;
            Assert.Equal(Parquet.Meta.CompressionCodec.SNAPPY, codec);
        }

        var ds = TextClassificationDataset.FromParquet(path);
        Assert.Equal(Texts, ds.Select(e => e.Text));
        Assert.Equal([0, 1, 1, 0, 1], ds.Select(e => e.Label));
        Assert.Equal(["neg", "pos"], ds.LabelNames!);
        Assert.Equal(path, ds.Source);
        var viaFile = TextClassificationDataset.FromFile(path);
        Assert.Equal(ds, viaFile);
        var viaAsync = await TextClassificationDataset.FromParquetAsync(path);
        Assert.Equal(ds, viaAsync);
    }

    [Fact]
    public async Task Reads_every_row_group_in_order()
    {
        var path = _dir.File("groups.parquet");
        var texts = Enumerable.Range(0, 10).Select(i => $"t{i}").ToArray();
        var labels = Enumerable.Range(0, 10).Select(i => (long)(i % 2)).ToArray();
        await WriteAsync(path, [Values<long>("label", labels), Strings("text", texts)], rows: 10, rowGroups: 3);
        var ds = TextClassificationDataset.FromParquet(path);
        Assert.Equal(texts, ds.Select(e => e.Text));
        Assert.Equal(labels.Select(l => (int)l), ds.Select(e => e.Label));
    }

    [Fact]
    public async Task Accepts_narrow_integer_labels_and_other_column_names()
    {
        var path8 = _dir.File("int8.parquet");
        await WriteAsync(path8, [Strings("review", ["a", "b"]), Values<sbyte>("stars", [4, -1])], rows: 2, huggingfaceMetadata: null);
        var ds8 = TextClassificationDataset.FromParquet(path8, "review", "stars");
        Assert.Equal([4, -1], ds8.Select(e => e.Label));
        Assert.Null(ds8.LabelNames);
        Assert.Equal(5, ds8.NumLabels);

        var path16 = _dir.File("int16.parquet");
        await WriteAsync(path16, [Strings("text", ["a", "b"]), Values<short>("label", [1, 0])], rows: 2);
        Assert.Equal([1, 0], TextClassificationDataset.FromParquet(path16).Select(e => e.Label));

        var path32 = _dir.File("int32.parquet");
        await WriteAsync(path32, [Strings("text", ["a", "b"]), Values<int>("label", [0, 1])], rows: 2);
        Assert.Equal([0, 1], TextClassificationDataset.FromParquet(path32).Select(e => e.Label));
    }

    [Fact]
    public async Task Nullable_columns_without_nulls_are_fine()
    {
        var path = _dir.File("nullable.parquet");
        await WriteAsync(path, [Strings("text", ["a", "b"], nullable: true), Nullables<long>("label", [1, 0])], rows: 2);
        Assert.Equal([1, 0], TextClassificationDataset.FromParquet(path).Select(e => e.Label));
    }

    [Fact]
    public async Task Missing_column_is_named_with_the_columns_that_exist()
    {
        var path = _dir.File("nolabel.parquet");
        await WriteAsync(path, [Strings("text", ["a"]), Values<long>("sentiment", [1])], rows: 1);
        var ex = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromParquet(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("'label'", ex.Message);
        Assert.Contains("text, sentiment", ex.Message);

        var exText = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromParquet(path, textColumn: "body", labelColumn: "sentiment"));
        Assert.Contains("'body'", exText.Message);
    }

    [Fact]
    public async Task Non_integer_label_column_names_its_type()
    {
        var path = _dir.File("doublelabel.parquet");
        await WriteAsync(path, [Strings("text", ["a"]), Values<double>("label", [1.0])], rows: 1);
        var ex = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromParquet(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("label column 'label'", ex.Message);
        Assert.Contains("Double", ex.Message);

        var stringLabels = _dir.File("stringlabel.parquet");
        await WriteAsync(stringLabels, [Strings("text", ["a"]), Strings("label", ["pos"])], rows: 1);
        var ex2 = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromParquet(stringLabels));
        Assert.Contains("label column 'label'", ex2.Message);
        Assert.Contains("string", ex2.Message);
    }

    [Fact]
    public async Task Non_string_text_column_names_its_type()
    {
        var path = _dir.File("inttext.parquet");
        await WriteAsync(path, [Values<int>("text", [5]), Values<long>("label", [1])], rows: 1);
        var ex = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromParquet(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("text column 'text'", ex.Message);
        Assert.Contains("Int32", ex.Message);
    }

    [Fact]
    public async Task Null_text_names_the_row()
    {
        var path = _dir.File("nulltext.parquet");
        await WriteAsync(path, [Strings("text", ["a", "b", null], nullable: true), Values<long>("label", [0, 1, 0])], rows: 3);
        var ex = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromParquet(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("'text'", ex.Message);
        Assert.Contains("row 2", ex.Message);
    }

    [Fact]
    public async Task Null_label_names_the_row_across_row_groups()
    {
        var path = _dir.File("nulllabel.parquet");
        await WriteAsync(path, [Strings("text", ["a", "b", "c", "d"]), Nullables<long>("label", [0, 1, 1, null])], rows: 4, rowGroups: 2);
        var ex = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromParquet(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("'label'", ex.Message);
        Assert.Contains("row 3", ex.Message);
    }

    [Fact]
    public async Task Label_beyond_the_class_names_is_an_error()
    {
        var path = _dir.File("three.parquet");
        await WriteAsync(path, [Strings("text", ["a", "b"]), Values<long>("label", [1, 2])], rows: 2);
        var ex = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromParquet(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("row 1", ex.Message);
        Assert.Contains("neg, pos", ex.Message);
    }

    [Fact]
    public async Task Label_too_large_for_int_is_an_error()
    {
        var path = _dir.File("huge.parquet");
        await WriteAsync(path, [Strings("text", ["a"]), Values<long>("label", [1L << 40])], rows: 1, huggingfaceMetadata: null);
        var ex = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromParquet(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("row 0", ex.Message);
    }

    [Fact]
    public async Task Zero_rows_or_zero_bytes_is_empty()
    {
        var path = _dir.File("norows.parquet");
        await WriteAsync(path, [Strings("text", []), Values<long>("label", [])], rows: 0, rowGroups: 0);
        var ex = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromParquet(path));
        Assert.Contains($"{path}: the dataset is empty", ex.Message);

        var zero = _dir.Write("zero.parquet", "");
        var ex2 = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromParquet(zero));
        Assert.Contains($"{zero}: the dataset is empty", ex2.Message);
    }

    [Fact]
    public void Not_a_parquet_file_or_no_file_names_the_path()
    {
        var junk = _dir.Write("junk.parquet", "text,label\nthis is CSV,1\n");
        var ex = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromParquet(junk));
        Assert.Contains(junk, ex.Message);

        var absent = _dir.File("absent.parquet");
        var ex2 = Assert.Throws<FileNotFoundException>(() => TextClassificationDataset.FromParquet(absent));
        Assert.Contains(absent, ex2.Message);
    }

    [Fact]
    public async Task Unreadable_metadata_leaves_labels_unnamed()
    {
        var path = _dir.File("badmeta.parquet");
        await WriteAsync(path, [Strings("text", ["a"]), Values<long>("label", [1])], rows: 1, huggingfaceMetadata: "{not json");
        var ds = TextClassificationDataset.FromParquet(path);
        Assert.Null(ds.LabelNames);
        Assert.Equal(2, ds.NumLabels);
    }
}
