using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Notebooks;

/// <summary>
/// The tutorial series in notebooks/: its conventions (a parameters cell, prose before code, glossary links that
/// resolve) and a real run of all of them on the stand-in model through a loopback Hub.
/// </summary>
public partial class NotebookSeriesTests
{
    private static string NotebooksDir => Path.Combine(SharedFiles.RepoRoot, "notebooks");

    private static readonly string[] Series =
    [
        "01-loading-the-model.ipynb", "02-tokenising.ipynb", "03-training-arguments.ipynb",
        "04-training-on-the-gpu.ipynb", "05-evaluating.ipynb", "06-saving-and-loading.ipynb", "07-serving-as-a-web-app.ipynb",
        "08-why-did-it-say-that.ipynb",
    ];

    private static JsonObject Load(string name) => JsonNode.Parse(File.ReadAllText(Path.Combine(NotebooksDir, name)))!.AsObject();

    private static IEnumerable<JsonObject> Cells(JsonObject notebook) => notebook["cells"]!.AsArray().Select(c => c!.AsObject());

    private static bool HasTag(JsonObject cell, string tag) =>
        cell["metadata"]?["tags"] is JsonArray tags && tags.Any(t => t!.GetValue<string>() == tag);

    private static string Source(JsonObject cell) => cell["source"] switch
    {
        JsonArray lines => string.Concat(lines.Select(l => l!.GetValue<string>())),
        JsonValue text => text.GetValue<string>(),
        _ => "",
    };

    [Fact]
    public void TheSeriesIsComplete()
    {
        Assert.Equal(Series, Directory.GetFiles(NotebooksDir, "*.ipynb").Select(Path.GetFileName).Order());
        var index = File.ReadAllText(Path.Combine(NotebooksDir, "README.md"));
        Assert.All(Series, name => Assert.Contains($"]({name})", index));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void EachNotebookHasPolyglotMetadataOneParametersCellAndProseBeforeEveryCodeCell(string name)
    {
        var notebook = Load(name);
        Assert.Equal(".net-csharp", notebook["metadata"]!["kernelspec"]!["name"]!.GetValue<string>());
        Assert.Equal("csharp", notebook["metadata"]!["polyglot_notebook"]!["kernelInfo"]!["defaultKernelName"]!.GetValue<string>());
        var cells = Cells(notebook).ToList();
        Assert.Single(cells, c => HasTag(c, "parameters"));
        for (var i = 0; i < cells.Count; i++)
        {
            if (cells[i]["cell_type"]!.GetValue<string>() != "code") continue;
            Assert.Equal("csharp", cells[i]["metadata"]!["polyglot_notebook"]!["kernelName"]!.GetValue<string>());
            if (HasTag(cells[i], "injected-parameters")) continue;
            Assert.True(i > 0 && cells[i - 1]["cell_type"]!.GetValue<string>() == "markdown",
                $"{name}: code cell cells[{i}] is not preceded by prose:\n{Source(cells[i])}");
        }
    }

    public static IEnumerable<object[]> Names() => Series.Select(s => new object[] { s });

    [Fact]
    public void EveryGlossaryTermLinksToACellThatExists()
    {
        var glossary = File.ReadAllText(Path.Combine(NotebooksDir, "GLOSSARY.md"));
        var links = GlossaryLink().Matches(glossary).ToList();
        Assert.True(links.Count >= 30, $"only {links.Count} glossary links");
        foreach (Match link in links)
        {
            var (file, id) = (link.Groups["file"].Value, link.Groups["id"].Value);
            Assert.True(File.Exists(Path.Combine(NotebooksDir, file)), $"GLOSSARY.md links to a missing notebook: {file}");
            var cell = Cells(Load(file)).SingleOrDefault(c => c["id"]?.GetValue<string>() == id);
            Assert.True(cell is not null, $"GLOSSARY.md links to {file}#{id}, which has no such cell");
            Assert.Contains($"**Glossary — {link.Groups["term"].Value}.**", Source(cell!));
        }
        // Every annotation in the notebooks is listed in the glossary.
        foreach (var name in Series)
            foreach (var cell in Cells(Load(name)).Where(c => Source(c).StartsWith("> **Glossary — ")))
                Assert.Contains($"({name}#{cell["id"]!.GetValue<string>()})", glossary);
    }

    [GeneratedRegex(@"^\| (?<term>[^|]+?) \| \[[^\]]+\]\((?<file>[^)#]+)#(?<id>[^)]+)\)", RegexOptions.Multiline)]
    private static partial Regex GlossaryLink();

    [Fact]
    public void AllEightRunEndToEndOnTheStandIn()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub);
        using var cache = new TempDirectory();
        using var output = new TempDirectory();
        using var results = new TempDirectory();
        var result = CliProcess.Run(
            ["notebook", "run", .. Series.Select(s => Path.Combine(NotebooksDir, s)), "--output", output.Path,
             "--set", "modelId=standin/bert-tiny-imdb-mlm", "--set", "trainSamples=64", "--set", "evalSamples=32",
             "--set", "numTrainEpochs=1", "--set", "maxLength=64", "--set", "learningRate=1e-4", "--set", "batchSize=16",
             "--set", $"outputDir={results.Path}"],
            new Dictionary<string, string?> { ["HF_ENDPOINT"] = server.Endpoint, ["HF_HUB_CACHE"] = cache.Path, ["HF_HUB_OFFLINE"] = "0" },
            TimeSpan.FromMinutes(8));
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        foreach (var name in Series)
        {
            var executed = JsonNode.Parse(File.ReadAllText(Path.Combine(output.Path, name)))!.AsObject();
            var code = Cells(executed).Where(c => c["cell_type"]!.GetValue<string>() == "code").ToList();
            Assert.All(code, c => Assert.NotNull(c["execution_count"]));
            var outputs = code.SelectMany(c => c["outputs"]!.AsArray().Select(o => o!.AsObject())).ToList();
            Assert.DoesNotContain(outputs, o => o["output_type"]!.GetValue<string>() == "error");
            Assert.NotEmpty(outputs);
            var injected = Source(Cells(executed).Single(c => HasTag(c, "injected-parameters")));
            Assert.Contains("standin/bert-tiny-imdb-mlm", injected);
        }
        // The charts reach the notebooks as HTML.
        foreach (var name in new[] { "02-tokenising.ipynb", "03-training-arguments.ipynb", "04-training-on-the-gpu.ipynb", "05-evaluating.ipynb", "08-why-did-it-say-that.ipynb" })
            Assert.Contains("text/html", File.ReadAllText(Path.Combine(output.Path, name)));
    }
}
