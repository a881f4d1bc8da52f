using System.Text.Json;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Cli;

public class CliTests
{
    private static JsonElement ReferenceCases() =>
        JsonDocument.Parse(File.ReadAllText(SharedFiles.Path("fixtures", "hf-reference", "tokenizer-reference.json"))).RootElement.GetProperty("cases");

    [Fact]
    public void TokenizeJsonMatchesHuggingFaceForAFileOfTexts()
    {
        using var dir = new TempDirectory();
        var cases = ReferenceCases().EnumerateArray().Take(40).ToList();
        File.WriteAllLines(dir.File("texts.jsonl"), cases.Select(c => JsonSerializer.Serialize(c.GetProperty("text").GetString())));

        var result = CliProcess.Run(["tokenize", "--model", SharedFiles.TinyModelDir, "--file", dir.File("texts.jsonl"), "--json"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(cases.Count, lines.Length);
        for (var i = 0; i < cases.Count; i++)
        {
            using var line = JsonDocument.Parse(lines[i]);
            Assert.Equal(cases[i].GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()),
                line.RootElement.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()));
            Assert.Equal(cases[i].GetProperty("tokens").EnumerateArray().Select(x => x.GetString()),
                line.RootElement.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()));
        }
    }

    [Fact]
    public void PredictJsonGivesLabelProbabilitiesAndLogits()
    {
        var result = CliProcess.Run(["predict", "--model", SharedFiles.TinyModelDir, "--text", "A wonderful, moving film.", "--json"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var doc = JsonDocument.Parse(result.Stdout.Trim());
        var root = doc.RootElement;
        Assert.Matches("^LABEL_[01]$", root.GetProperty("label").GetString());
        var probabilities = root.GetProperty("probabilities").EnumerateArray().Select(x => x.GetDouble()).ToList();
        Assert.Equal(2, probabilities.Count);
        // Each is a double softmax rounded to float, then written as the shortest decimal that reads back as that
        // float: within a float ulp (6e-8) of the exact share.
        Assert.Equal(1.0, probabilities.Sum(), 1e-6);
        Assert.Equal(2, root.GetProperty("logits").GetArrayLength());
        // The stand-in is a masked-LM checkpoint: the report must tell the user the classifier is untrained.
        Assert.Contains("newly initialized", result.Stderr);
    }

    [Theory]
    [InlineData(new[] { "tokenize", "--model", "/no/such/model-dir", "--text", "hi" }, "/no/such/model-dir")]
    [InlineData(new[] { "tokenize", "--model", "MODEL", "--text", "hi", "--file", "x.jsonl" }, "exactly one of --text or --file")]
    [InlineData(new[] { "predict", "--model", "MODEL", "--file", "/no/such/file.jsonl" }, "/no/such/file.jsonl")]
    [InlineData(new[] { "predict", "--model", "MODEL", "--text", "hi", "--batch-size", "0" }, "--batch-size")]
    [InlineData(new[] { "tokenize", "--model", "not a repo id!", "--text", "hi" }, "not a repo id!")]
    public void UserMistakesAreOneLineOnStderr(string[] args, string expected)
    {
        var result = CliProcess.Run(args.Select(a => a == "MODEL" ? SharedFiles.TinyModelDir : a));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(expected, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public void ABadJsonlLineIsNamedByLineNumber()
    {
        using var dir = new TempDirectory();
        File.WriteAllLines(dir.File("bad.jsonl"), ["\"fine\"", "{\"text\": 1}"]);
        var result = CliProcess.Run(["tokenize", "--model", SharedFiles.TinyModelDir, "--file", dir.File("bad.jsonl")]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("bad.jsonl: line 2", result.Stderr);
    }

    [Fact]
    public void HelpListsTheCommands()
    {
        var result = CliProcess.Run(["--help"]);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("tokenize", result.Stdout);
        Assert.Contains("predict", result.Stdout);
    }
}

public class CliHubTests
{
    [Fact]
    public void TokenizeByHubIdThroughAPlainStaticServer()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Plain);
        using var cache = new TempDirectory();
        var result = CliProcess.Run(["tokenize", "--model", "bert-base-uncased", "--text", "HELLO world", "--json"],
            new Dictionary<string, string?> { ["HF_ENDPOINT"] = server.Endpoint, ["HF_HUB_CACHE"] = cache.Path, ["HF_HUB_OFFLINE"] = "0" });
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var doc = System.Text.Json.JsonDocument.Parse(result.Stdout);
        Assert.Equal([101, 7592, 2088, 102], doc.RootElement.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()));
        // bert-base-uncased on the mirror has vocab.txt and no tokenizer.json: the optional file's 404 must not fail.
        Assert.True(server.RequestCount("/bert-base-uncased/resolve/main/vocab.txt", "GET") == 1);
    }
}
