using BertSharp.Data;
using BertSharp.Notebooks;
using BertSharp.Tests.Data;
using BertSharp.Tests.TestSupport;
using BertSharp.Tokenization;

namespace BertSharp.Tests.IO;

/// <summary>
/// The same defect as the server's 500 on <c>{"\ud800": …}</c>, in every other reader of JSON files: half a surrogate
/// pair parsed, then threw InvalidOperationException when read, which no reader's error handling caught.
/// </summary>
public class JsonReadersTests
{
    [Theory]
    [InlineData("tokenizer_config.json", "{\"\\ud800\": true, \"do_lower_case\": true}")]
    [InlineData("special_tokens_map.json", "{\"unk_token\": \"[UNK\\udc00]\"}")]
    public void ATokenizerFileWithHalfASurrogatePairIsAnErrorNamingTheFile(string file, string json)
    {
        using var dir = new TempDirectory();
        File.Copy(Path.Combine(SharedFiles.TinyModelDir, "vocab.txt"), dir.File("vocab.txt"));
        File.WriteAllText(dir.File(file), json);
        var error = Assert.Throws<InvalidDataException>(() => BertTokenizer.FromDirectory(dir.Path));
        Assert.Contains(file, error.Message);
        Assert.Contains("surrogate", error.Message);
    }

    [Fact]
    public void ANotebookWithHalfASurrogatePairIsAFormatError()
    {
        var error = Assert.Throws<NotebookFormatException>(() => Notebook.Parse("{\"nbformat\": 4, \"\\ud800\": 1, \"cells\": []}", "bad.ipynb"));
        Assert.Contains("bad.ipynb is not valid JSON", error.Message);
        Assert.Contains("surrogate", error.Message);
    }

    [Fact]
    public async Task ParquetLabelNamesWithHalfASurrogatePairAreIgnoredLikeOtherUnreadableMetadata()
    {
        using var dir = new DataTempDir();
        var path = dir.File("data.parquet");
        await ParquetFiles.WriteAsync(path, [ParquetFiles.Strings("text", ["a", "b"]), ParquetFiles.Values<long>("label", [0, 1])], rows: 2,
            huggingfaceMetadata: """{"info": {"features": {"label": {"names": ["\ud800", "pos"], "_type": "ClassLabel"}}}}""");
        var data = TextClassificationDataset.FromParquet(path);
        Assert.Null(data.LabelNames);
        Assert.Equal([0, 1], data.Select(e => e.Label));
    }
}
