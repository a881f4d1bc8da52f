using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Notebooks;

/// <summary>
/// The tutorial series in notebooks/: its conventions (a parameters cell, prose before code, glossary links that
/// resolve), a setup cell that cannot drift from the library's package versions, and a real run of all eight in the
/// .NET Interactive kernel on the stand-in model through a loopback Hub.
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

    /// <summary>The packages BertSharp.csproj (and TorchBackend.targets' cpu backend) references, with their versions.</summary>
    private static SortedDictionary<string, string> LibraryPackages()
    {
        var src = Path.Combine(SharedFiles.RepoRoot, "src");
        var props = XDocument.Load(Path.Combine(SharedFiles.RepoRoot, "Directory.Build.props"));
        string Property(string name) => props.Descendants(name).Single().Value.Trim();
        var packages = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var library = XDocument.Load(Path.Combine(src, "BertSharp", "BertSharp.csproj"));
        // PrivateAssets="all" references (plotly.js's source) do not reach the library's users.
        foreach (var reference in library.Descendants("PackageReference").Where(r => (string?)r.Attribute("PrivateAssets") != "all"))
            packages[(string)reference.Attribute("Include")!] = (string)reference.Attribute("Version")!;
        var backend = XDocument.Load(Path.Combine(src, "TorchBackend.targets")).Descendants("ItemGroup")
            .Single(g => ((string?)g.Attribute("Condition"))?.Contains("'cpu'") == true).Element("PackageReference")!;
        packages[(string)backend.Attribute("Include")!] = ((string)backend.Attribute("Version")!).Replace("$(TorchSharpVersion)", Property("TorchSharpVersion"));
        Assert.Equal(Property("TorchSharpVersion"), packages["TorchSharp-cpu"]);
        Assert.DoesNotContain(packages.Keys, k => k.StartsWith("Plotly.NET", StringComparison.Ordinal) || k.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal));
        return packages;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void TheSetupCellLoadsTheBuiltLibraryWithItsOwnPackageVersions(string name)
    {
        var setup = Cells(Load(name)).First(c => c["cell_type"]!.GetValue<string>() == "code" && Source(c).Contains("#r "));
        var source = Source(setup);
        var referenced = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in NugetReference().Matches(source)) referenced.Add(m.Groups["name"].Value, m.Groups["version"].Value);
        Assert.Equal(LibraryPackages(), referenced);
        var targetFramework = XDocument.Load(Path.Combine(SharedFiles.RepoRoot, "Directory.Build.props")).Descendants("TargetFramework").Single().Value;
        Assert.Contains($"#r \"../src/BertSharp/bin/Debug/{targetFramework}/BertSharp.dll\"", source);
        // The kernel has no implicit usings (System.IO above all): the notebook states them.
        foreach (var ns in new[] { "System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Threading.Tasks" })
            Assert.Contains($"using {ns};", source);
        // The GPU variant is one documented edit of this cell.
        Assert.Contains("TorchSharp-cuda-linux", source);
    }

    /// <summary>
    /// What the notebooks load is the core library: no notebook tooling (Roslyn scripting, .NET Interactive) and no
    /// F# (Plotly.NET's FSharp.Core 10.1 cannot load in the kernel, which has its own 10.0).
    /// </summary>
    [Fact]
    public void TheLibraryCarriesNoNotebookToolingNorFSharp()
    {
        var references = typeof(BertSharp.Charts.PlotlyChart).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.DoesNotContain(references, n => n.StartsWith("FSharp.", StringComparison.Ordinal) || n.StartsWith("Plotly.", StringComparison.Ordinal)
            || n.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal) || n.StartsWith("Microsoft.DotNet.Interactive", StringComparison.Ordinal));
        Assert.Contains("TorchSharp", references);
    }

    [GeneratedRegex(@"^#r ""nuget: *(?<name>[^, ""]+) *, *(?<version>[^ ""]+) *""", RegexOptions.Multiline)]
    private static partial Regex NugetReference();

    /// <summary>
    /// The series in the .NET Interactive kernel through <c>bertsharp notebook run</c>, with the README's small
    /// parameters on the stand-in: every cell runs without an error output, and every chart reaches the notebook as
    /// the interactive plotly.js chart and a PNG.
    /// </summary>
    [Fact]
    public void AllEightRunEndToEndInTheKernelOnTheStandIn()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub);
        using var cache = new TempDirectory();
        using var output = new TempDirectory();
        using var results = new TempDirectory();
        var result = CliProcess.Run(
            ["notebook", "run", .. Series.Select(s => Path.Combine(NotebooksDir, s)), "--output", output.Path,
             "--set", "modelId=standin/bert-tiny-imdb-mlm", "--set", "trainSamples=64", "--set", "evalSamples=32",
             "--set", "numTrainEpochs=1", "--set", "maxLength=64", "--set", "learningRate=1e-4", "--set", "batchSize=16", "--set", "compareModelId=student",
             "--set", $"outputDir={results.Path}"],
            new Dictionary<string, string?> { ["HF_ENDPOINT"] = server.Endpoint, ["HF_HUB_CACHE"] = cache.Path, ["HF_HUB_OFFLINE"] = "0" },
            TimeSpan.FromMinutes(25));
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        var charts = new Dictionary<string, int>();
        foreach (var name in Series)
        {
            var executed = JsonNode.Parse(File.ReadAllText(Path.Combine(output.Path, name)))!.AsObject();
            var code = Cells(executed).Where(c => c["cell_type"]!.GetValue<string>() == "code").ToList();
            Assert.All(code, c => Assert.NotNull(c["execution_count"]));
            var outputs = code.SelectMany(c => c["outputs"]!.AsArray().Select(o => o!.AsObject())).ToList();
            Assert.DoesNotContain(outputs, o => o["output_type"]!.GetValue<string>() == "error");
            Assert.NotEmpty(outputs);
            Assert.StartsWith("dotnet-interactive 1.0.", executed["metadata"]!["bertsharp"]!["kernel"]!.GetValue<string>());
            var injected = Source(Cells(executed).Single(c => HasTag(c, "injected-parameters")));
            Assert.Contains("standin/bert-tiny-imdb-mlm", injected);
            foreach (var chart in outputs.Where(o => o["data"]?["text/html"] is { } html && Source(new JsonObject { ["source"] = html.DeepClone() }).Contains("bertsharp-chart")))
            {
                Assert.NotNull(chart["data"]!["image/png"]);
                charts[name] = charts.GetValueOrDefault(name) + 1;
            }
        }
        // Token lengths; two schedules; learning rate, grad norm, metrics and the two runs; the confusion matrix;
        // attributions, attention from [CLS] and the faithfulness curves.
        Assert.Equal([1, 2, 4, 1, 3], new[] { "02-tokenising.ipynb", "03-training-arguments.ipynb", "04-training-on-the-gpu.ipynb", "05-evaluating.ipynb", "08-why-did-it-say-that.ipynb" }
            .Select(n => charts.GetValueOrDefault(n)));
    }
}
