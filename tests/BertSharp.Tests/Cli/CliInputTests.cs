using System.Text;
using BertSharp.Tests.Modeling;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Cli;

/// <summary>Hostile inputs to the real program end in one sentence on stderr and exit code 1, never an abort or a stack trace.</summary>
public class CliInputTests
{
    private static void AssertOneErrorLine(CliProcess.Result result, params string[] expected)
    {
        Assert.True(result.ExitCode == 1, $"exit {result.ExitCode}: {result.Stderr}");
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.DoesNotContain("(Parameter '", line);
        foreach (var e in expected) Assert.Contains(e, line);
    }

    [Theory]
    [InlineData("", "model")]
    [InlineData("   ", "model")]
    [InlineData("not a repo id!", "not a repo id!")]
    [InlineData("/no/such/folder//x", "/no/such/folder//x")]
    [InlineData("org/name@", "org/name@")]
    public void ABadModelIdIsOneSentenceWithoutAParameterName(string modelId, string expected)
    {
        AssertOneErrorLine(CliProcess.Run(["predict", "--model", modelId, "--text", "hi"]), expected);
        AssertOneErrorLine(CliProcess.Run(["tokenize", "--model", modelId, "--text", "hi"]), expected);
    }

    [Fact]
    public void ABadDatasetRevisionIsOneSentence()
    {
        AssertOneErrorLine(CliProcess.Run(["evaluate", "--model", SharedFiles.TinyClsDir, "--dataset", "stanfordnlp/imdb@"]), "stanfordnlp/imdb@");
    }

    [Theory]
    [InlineData("hidden_size", 1000000000L)]
    [InlineData("vocab_size", 2147483647L)]
    public void AnAbsurdSizeInConfigJsonIsOneErrorLineNotAnAbort(string field, long value)
    {
        using var dir = ModelSizeTests.CopyWithConfig(SharedFiles.TinyModelDir, field, value, "vocab.txt", "tokenizer_config.json");
        AssertOneErrorLine(CliProcess.Run(["predict", "--model", dir.Path, "--text", "A fine film."]), $"'{field}'", "model.safetensors");
    }

    [Fact]
    public void TokenizeMaxLengthBelowOneIsOneSentence()
    {
        AssertOneErrorLine(CliProcess.Run(["tokenize", "--model", SharedFiles.TinyModelDir, "--text", "hi", "--max-length", "0"]), "--max-length must be at least 2 (got 0)");
    }

    [Fact]
    public void AnInputFileWithInvalidUtf8NamesTheLine()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("texts.jsonl"), [.. Encoding.UTF8.GetBytes("\"fine\"\n\"caf"), 0xE9, .. Encoding.UTF8.GetBytes("\"\n")]);
        foreach (var command in new[] { "tokenize", "predict" })
            AssertOneErrorLine(CliProcess.Run([command, "--model", SharedFiles.TinyModelDir, "--file", dir.File("texts.jsonl")]), "texts.jsonl", "line 2", "UTF-8");
    }

    [Fact]
    public void AnInputFileWithHalfASurrogatePairNamesTheLine()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("texts.jsonl"), "\"fine\"\n\"half \\ud800 a pair\"\n");
        AssertOneErrorLine(CliProcess.Run(["tokenize", "--model", SharedFiles.TinyModelDir, "--file", dir.File("texts.jsonl")]), "texts.jsonl", "line 2", "surrogate");
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("\"  \\n\\t \"")]
    public void AnEmptyTextInAnInputFileIsAnErrorNotAPrediction(string line)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("texts.jsonl"), "\"fine\"\n" + line + "\n");
        AssertOneErrorLine(CliProcess.Run(["predict", "--model", SharedFiles.TinyModelDir, "--file", dir.File("texts.jsonl")]), "texts.jsonl", "line 2", "empty");
        // Tokenizing an empty text is a fair question ([CLS] [SEP]); the reference cases include it.
        Assert.Equal(0, CliProcess.Run(["tokenize", "--model", SharedFiles.TinyModelDir, "--file", dir.File("texts.jsonl")]).ExitCode);
    }
}
