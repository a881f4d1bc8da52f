using System.Text.Json;
using BertSharp.Tests.TestSupport;
using BertSharp.Tokenization;

namespace BertSharp.Tests.Tokenization;

/// <summary>
/// DistilBERT's tokenizer is BERT's WordPiece; what differs is the class (DistilBertTokenizer) and so the model's inputs
/// (no token_type_ids), which must survive a save so transformers feeds a saved DistilBERT folder correctly.
/// </summary>
public class AutoTokenizerFamilyTests
{
    [Fact]
    public void ADistilBertFolderWithoutAClassGetsDistilBertTokenizerFromModelType()
    {
        var tokenizer = AutoTokenizer.FromPretrained(TinyDistilBert.Directory);
        Assert.Equal("DistilBertTokenizer", tokenizer.TokenizerClass);
        Assert.Equal(["input_ids", "attention_mask"], tokenizer.ModelInputNames);
        // Same WordPiece as bert-base-uncased's.
        var bert = AutoTokenizer.FromPretrained(SharedFiles.TinyModelDir);
        Assert.Equal("BertTokenizer", bert.TokenizerClass);
        Assert.Equal(["input_ids", "token_type_ids", "attention_mask"], bert.ModelInputNames);
        const string text = "DistilBERT is smaller, faster, cheaper and lighter!";
        Assert.Equal(bert.Encode(text).InputIds, tokenizer.Encode(text).InputIds);

        using var dir = new TempDirectory();
        tokenizer.SavePretrained(dir.Path);
        using (var config = JsonDocument.Parse(File.ReadAllText(dir.File("tokenizer_config.json"))))
        {
            Assert.Equal("DistilBertTokenizer", config.RootElement.GetProperty("tokenizer_class").GetString());
            Assert.False(config.RootElement.TryGetProperty("model_input_names", out _));
        }
        // Saved beside no config.json at all, the class alone says it.
        Assert.Equal("DistilBertTokenizer", AutoTokenizer.FromPretrained(dir.Path).TokenizerClass);
        Assert.Equal(["input_ids", "attention_mask"], BertTokenizer.FromDirectory(dir.Path).ModelInputNames);
    }

    [Fact]
    public void ExplicitModelInputNamesAreReadAndWrittenBack()
    {
        using var dir = new TempDirectory();
        foreach (var file in new[] { "vocab.txt", "tokenizer.json" })
            File.Copy(Path.Combine(SharedFiles.TinyModelDir, file), dir.File(file));
        File.WriteAllText(dir.File("tokenizer_config.json"),
            "{\"tokenizer_class\": \"BertTokenizerFast\", \"model_input_names\": [\"input_ids\", \"attention_mask\"]}");
        var tokenizer = AutoTokenizer.FromPretrained(dir.Path);
        Assert.Equal("BertTokenizerFast", tokenizer.TokenizerClass);
        Assert.Equal(["input_ids", "attention_mask"], tokenizer.ModelInputNames);
        using var saved = new TempDirectory();
        tokenizer.SavePretrained(saved.Path);
        using var config = JsonDocument.Parse(File.ReadAllText(saved.File("tokenizer_config.json")));
        Assert.Equal("BertTokenizerFast", config.RootElement.GetProperty("tokenizer_class").GetString());
        Assert.Equal(["input_ids", "attention_mask"], config.RootElement.GetProperty("model_input_names").EnumerateArray().Select(e => e.GetString()));
    }

    [Theory]
    [InlineData("tokenizer_config.json", "{\"tokenizer_class\": \"RobertaTokenizer\"}", "tokenizer_class 'RobertaTokenizer' is not supported")]
    [InlineData("config.json", "{\"model_type\": \"roberta\"}", "model_type 'roberta' has no tokenizer in BertSharp; supported: bert, distilbert")]
    [InlineData("tokenizer_config.json", "{\"model_input_names\": \"input_ids\"}", "'model_input_names' must be a non-empty list of strings")]
    public void OtherTokenizerFamiliesAreOneClearError(string file, string json, string expected)
    {
        using var dir = new TempDirectory();
        File.Copy(Path.Combine(SharedFiles.TinyModelDir, "vocab.txt"), dir.File("vocab.txt"));
        File.WriteAllText(dir.File(file), json);
        var error = Assert.ThrowsAny<Exception>(() => AutoTokenizer.FromPretrained(dir.Path));
        Assert.True(error is NotSupportedException or InvalidDataException, error.GetType().Name);
        Assert.Contains(expected, error.Message);
        Assert.Contains(file, error.Message);
    }
}
