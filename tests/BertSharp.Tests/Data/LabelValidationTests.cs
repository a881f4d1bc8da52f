using System.Text;
using BertSharp.Data;

namespace BertSharp.Tests.Data;

/// <summary>
/// Inputs that used to load without a word and then gave wrong numbers: labels that are not classes, text that is
/// not valid UTF-8 (silently turned into U+FFFD) or half a surrogate pair.
/// </summary>
public class LabelValidationTests : IDisposable
{
    private readonly DataTempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string WriteBytes(string name, byte[] bytes)
    {
        var path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] U(string s) => Encoding.UTF8.GetBytes(s);

    [Theory]
    [InlineData("data.jsonl", "{\"text\": \"fine\", \"label\": 1}\n\n{\"text\": \"caf", "\", \"label\": 0}\n")]
    [InlineData("data.csv", "text,label\nfine,1\ncaf", ",0\n")]
    [InlineData("data.tsv", "text\tlabel\nfine\t1\ncaf", "\t0\n")]
    public void InvalidUtf8IsAnErrorNamingTheFileAndLineNotAReplacementCharacter(string name, string before, string after)
    {
        var path = WriteBytes(name, [.. U(before), 0xE9, .. U(after)]);
        var error = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromFile(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("line 3", error.Message);
        Assert.Contains("UTF-8", error.Message);
    }

    [Fact]
    public void AByteOrderMarkIsStillAccepted()
    {
        var path = WriteBytes("bom.csv", [0xEF, 0xBB, 0xBF, .. U("text,label\ncafé,1\n")]);
        var data = TextClassificationDataset.FromCsv(path);
        Assert.Equal("café", Assert.Single(data).Text);
    }

    [Theory]
    [InlineData("{\"text\": \"half \\ud800 a pair\", \"label\": 0}", "'text'")]
    [InlineData("{\"text\": \"fine\", \"label\": \"pos\\udc00\"}", "'label'")]
    [InlineData("{\"\\ud800\": 1, \"text\": \"fine\", \"label\": 0}", "surrogate")]
    public void JsonlWithHalfASurrogatePairNamesTheLine(string line, string detail)
    {
        var path = _dir.Write("surrogate.jsonl", "{\"text\": \"ok\", \"label\": 1}\n" + line + "\n");
        var error = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromJsonl(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("line 2", error.Message);
        Assert.Contains(detail, error.Message);
    }

    [Theory]
    [InlineData("1.5", "1.5")]
    [InlineData("NaN", "NaN")]
    [InlineData("nan", "nan")]
    [InlineData("1e3", "1e3")]
    [InlineData("-0.5", "-0.5")]
    [InlineData("inf", "inf")]
    public void CsvLabelsThatAreNumbersButNotClassIdsAreErrors(string label, string shown)
    {
        var path = _dir.Write("labels.csv", $"text,label\ngood,1\nbad,0\nodd,{label}\n");
        var error = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromCsv(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("line 4", error.Message);
        Assert.Contains($"'{shown}'", error.Message);
    }

    [Theory]
    [InlineData("NA")]
    [InlineData("null")]
    [InlineData("None")]
    [InlineData("  ")]
    public void CsvLabelsThatMeanMissingAreErrors(string label)
    {
        var path = _dir.Write("missing.csv", $"text,label\ngood,pos\nbad,neg\nodd,{label}\n");
        var error = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromCsv(path));
        Assert.Contains("line 4", error.Message);
        Assert.Contains("'label'", error.Message);
    }

    [Fact]
    public void CsvMixingClassIdsAndNamesIsAnError()
    {
        var path = _dir.Write("mixed.csv", "text,label\ngood,1\nbad,0\nodd,pos\n");
        var error = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromCsv(path));
        Assert.Contains("line 4", error.Message);
        Assert.Contains("'pos'", error.Message);
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("\"   \"")]
    [InlineData("\"NaN\"")]
    [InlineData("\"1.5\"")]
    public void JsonlLabelsThatAreEmptyOrMissingOrNotWholeNumbersAreErrors(string label)
    {
        var path = _dir.Write("labels.jsonl", "{\"text\": \"good\", \"label\": \"pos\"}\n{\"text\": \"bad\", \"label\": " + label + "}\n");
        var error = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromJsonl(path));
        Assert.Contains("line 2", error.Message);
        Assert.Contains("'label'", error.Message);
    }

    private static TextClassificationDataset Rows(IReadOnlyList<string>? names, params int[] labels) =>
        new(labels.Select((l, i) => new TextExample($"review {i}", l)).ToList(), names, "reviews.jsonl");

    [Fact]
    public void ClassificationLabelsMustBeClassesOfTheModel()
    {
        Rows(null, 0, 1, 1).EnsureClassificationLabels(2);

        var outside = Assert.Throws<InvalidDataException>(() => Rows(null, 0, 1, 2, 3).EnsureClassificationLabels(2));
        Assert.StartsWith("reviews.jsonl: row 2 has label 2, but the classifier has 2 classes (0 to 1); 2 of 4 rows are outside them.", outside.Message);

        var unlabeled = Assert.Throws<InvalidDataException>(() => Rows(null, 0, -1, 1).EnsureClassificationLabels(2));
        Assert.StartsWith("reviews.jsonl: row 1 has no label (-1)", unlabeled.Message);

        var named = Assert.Throws<InvalidDataException>(() => Rows(["neg", "pos", "mixed"], 0, 2).EnsureClassificationLabels(2));
        Assert.Contains("row 1 has label 2 ('mixed')", named.Message);
    }

    [Fact]
    public void OneClassCannotTrainAClassifierButMayBeEvaluated()
    {
        // All "pos": the names give one class, so a head of one label would be a regression model answering 1.0.
        var onlyPos = Rows(["pos"], 0, 0, 0);
        var error = Assert.Throws<InvalidDataException>(() => onlyPos.EnsureClassificationLabels(onlyPos.NumLabels));
        Assert.Contains("a classifier needs at least two classes, but there is one ('pos')", error.Message);

        var single = Assert.Throws<InvalidDataException>(() => Rows(null, 1, 1, 1).EnsureClassificationLabels(2));
        Assert.Contains("every one of its 3 rows has label 1; a classifier cannot learn from a single class", single.Message);
        Rows(null, 1, 1, 1).EnsureClassificationLabels(2, training: false);
    }

    [Fact]
    public void NamesResolveThroughTheModelsLabel2IdNotTheirSortedOrder()
    {
        // The case: 20 reviews labelled "pos" are scored against a model whose id2label is {0: neg, 1: pos}.
        // Alone in the file, "pos" sorts first and gets id 0: every review counted as "neg".
        var path = _dir.Write("pos.jsonl", string.Concat(Enumerable.Repeat("{\"text\": \"A wonderful film.\", \"label\": \"pos\"}\n", 20)));
        var data = TextClassificationDataset.FromJsonl(path);
        Assert.Equal(0, data[0].Label);
        Assert.True(data.LabelsFromNames);

        var mapped = data.WithLabelIds(new Dictionary<string, int> { ["neg"] = 0, ["pos"] = 1 });
        Assert.All(mapped, e => Assert.Equal(1, e.Label));
        Assert.Equal(["neg", "pos"], mapped.LabelNames!);
        Assert.Equal(2, mapped.NumLabels);
        Assert.Equal(data.Select(e => e.Text), mapped.Select(e => e.Text));
        mapped.EnsureClassificationLabels(2, training: false);

        // Shuffled and subset data keep knowing that their ids came from names.
        Assert.All(data.Shuffle(3).SelectRange(5).WithLabelIds(new Dictionary<string, int> { ["neg"] = 0, ["pos"] = 1 }), e => Assert.Equal(1, e.Label));
        // Case differences resolve as transformers' run_glue resolves them.
        Assert.All(data.WithLabelIds(new Dictionary<string, int> { ["NEG"] = 0, ["POS"] = 1 }), e => Assert.Equal(1, e.Label));
    }

    [Fact]
    public void ANameTheModelDoesNotHaveIsAnErrorListingTheModelsLabels()
    {
        var data = Rows(["neg", "neutral", "pos"], 0, 2, 1, 1);
        var error = Assert.Throws<InvalidDataException>(() => data.WithLabelIds(new Dictionary<string, int> { ["neg"] = 0, ["pos"] = 1 }));
        Assert.Equal("reviews.jsonl: label 'neutral' (row 2) is not one of the model's labels (0: neg, 1: pos).", error.Message);
    }

    [Fact]
    public void IdsAreKeptWhenTheModelHasNoNamesAndMustBeInItsRange()
    {
        var unnamed = new Dictionary<string, int> { ["LABEL_0"] = 0, ["LABEL_1"] = 1 };
        Assert.Equal([1, 0, -1], Rows(null, 1, 0, -1).WithLabelIds(unnamed).Select(e => e.Label));
        // IMDb's Parquet names its ids neg/pos; a model saved without names keeps the ids.
        Assert.Equal([1, 0], Rows(["neg", "pos"], 1, 0).WithLabelIds(unnamed).Select(e => e.Label));

        var outside = Assert.Throws<InvalidDataException>(() => Rows(null, 0, 2).WithLabelIds(unnamed));
        Assert.Equal("reviews.jsonl: row 1 has label 2, but the model has 2 labels (0: LABEL_0, 1: LABEL_1); 1 of 2 rows are outside them.", outside.Message);

        // Names from a text file cannot be matched to ids the model never named.
        var path = _dir.Write("named.csv", "text,label\ngood,pos\nbad,neg\n");
        var names = Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromCsv(path).WithLabelIds(unnamed));
        Assert.Contains("its labels are names ('pos', 'neg'), but the model's labels have no names (0: LABEL_0, 1: LABEL_1)", names.Message);
    }

    [Fact]
    public void ParquetIdsWithNamesFollowTheModelsNames()
    {
        // IMDb's files name 0 "neg" and 1 "pos"; a model that numbers them the other way round gets them swapped.
        var data = Rows(["neg", "pos"], 0, 1, 1);
        Assert.Equal([1, 0, 0], data.WithLabelIds(new Dictionary<string, int> { ["pos"] = 0, ["neg"] = 1 }).Select(e => e.Label));

        // An SST-2 model's NEGATIVE/POSITIVE match no IMDb name: ids stay, as run_glue keeps them, and the mismatch is said.
        var warnings = new List<string>();
        var kept = data.WithLabelIds(new Dictionary<string, int> { ["NEGATIVE"] = 0, ["POSITIVE"] = 1 }, warnings.Add);
        Assert.Equal([0, 1, 1], kept.Select(e => e.Label));
        Assert.Contains("differ from the model's (0: NEGATIVE, 1: POSITIVE)", Assert.Single(warnings));
        // Names written in the file itself must resolve, though: there is no id to fall back on.
        var path = _dir.Write("named.jsonl", "{\"text\": \"a\", \"label\": \"neg\"}\n{\"text\": \"b\", \"label\": \"pos\"}\n");
        Assert.Throws<InvalidDataException>(() => TextClassificationDataset.FromJsonl(path).WithLabelIds(new Dictionary<string, int> { ["NEGATIVE"] = 0, ["POSITIVE"] = 1 }));
    }

    [Theory]
    [InlineData("{\"text\": \"ok\", \"label\": \"10\"}", 10)]
    [InlineData("{\"text\": \"ok\", \"label\": \" 2 \"}", 2)]
    public void JsonlIntegerStringsAreClassIdsNotNamesSortedAsText(string line, int expected)
    {
        // As names, "10" would sort before "2" and take id 0.
        var path = _dir.Write("ids.jsonl", "{\"text\": \"a\", \"label\": 1}\n" + line + "\n");
        var data = TextClassificationDataset.FromJsonl(path);
        Assert.Equal([1, expected], data.Select(e => e.Label));
        Assert.Null(data.LabelNames);
    }
}
