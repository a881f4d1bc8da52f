using System.Text.Json.Nodes;
using BertSharp.Notebooks;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Notebooks;

/// <summary>Notebook runs start kernels (a process each, about a second of CPU): one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class NotebookCollection
{
    public const string Name = "Notebooks";
}

/// <summary>
/// The runner in the real .NET Interactive kernel (dotnet-interactive, pinned in .config/dotnet-tools.json). Each
/// test that runs cells costs a kernel start, so one notebook covers as much as it can.
/// </summary>
[Collection(NotebookCollection.Name)]
public sealed class NotebookRunnerTests : IDisposable
{
    private readonly TempDirectory _dir = new("bertsharp-notebook");

    public void Dispose() => _dir.Dispose();

    private string OutputDirectory => Path.Combine(_dir.Path, "out");

    private string Write(params TestCell[] cells) => TestNotebook.Write(_dir.Path, "test.ipynb", cells);

    private async Task<(NotebookRunResult Result, JsonObject Output)> Run(string path, IReadOnlyDictionary<string, string>? parameters = null, TimeSpan? timeout = null)
    {
        var runner = new NotebookRunner(new NotebookRunOptions
        {
            Parameters = parameters ?? new Dictionary<string, string>(),
            OutputDirectory = OutputDirectory,
            CellTimeout = timeout ?? TimeSpan.FromMinutes(3),
        });
        var result = await runner.RunAsync(path);
        Assert.Equal(Path.Combine(OutputDirectory, Path.GetFileName(path)), result.OutputPath);
        var output = TestNotebook.Read(result.OutputPath);
        TestNotebook.AssertValidNbformat4(output);
        return (result, output);
    }

    private static List<JsonObject> Outputs(JsonObject cell) => TestNotebook.Outputs(cell).Cast<JsonObject>().ToList();

    private static string PlainResult(JsonObject cell) =>
        TestNotebook.Text(Assert.Single(Outputs(cell), o => (string)o["output_type"]! == "execute_result")["data"]!["text/plain"]);

    private static string BertSharpDll => Path.Combine(SharedFiles.RepoRoot, "src", "BertSharp", "bin", "Debug", "net10.0", "BertSharp.dll");

    [Fact]
    public async Task ANotebookRunsInTheKernelWithItsParametersOutputsAndCharts()
    {
        var path = Write(
            "using System.Text;\nvar before = 1;",
            TestCell.Markdown("Some *prose* between the cells."),
            TestCell.Code("var epochs = 3;\ndouble learningRate = 2e-5;\nstring modelId = \"bert-base-uncased\";\nbool shuffle = true;\n"
                + "var day = DayOfWeek.Monday;\nvar untouched = \"default\";", "parameters"),
            "Console.WriteLine(\"one\");\nvar shown = display(\"two\");\nConsole.Error.WriteLine(\"three\");\nConsole.Write(\"four\");\nConsole.WriteLine(\"five\");\n"
                + "var sb = new StringBuilder().Append(epochs).Append('|').Append(learningRate.ToString(System.Globalization.CultureInfo.InvariantCulture));\n"
                + "$\"{sb}|{modelId}|{shuffle}|{day}|{untouched}\"",
            "var live = display(\"waiting\");\nlive.Update(\"b\");\nlive.Update(\"c\");\nshown.Update(\"two, updated by a later cell\");",
            $"#r \"{BertSharpDll}\"\nBertSharp.Charts.TrainingCharts.TokenLengthHistogram(new[] {{ 10, 20, 20, 30, 600 }}, 512)");
        var tricky = "say \"hi\"\\n\nline two\t\u00e9";
        var (result, output) = await Run(path, new Dictionary<string, string>
        {
            ["epochs"] = "1", ["learningRate"] = "0.001", ["modelId"] = tricky, ["shuffle"] = "false", ["day"] = "friday",
        });

        Assert.True(result.Succeeded, result.Error?.Message);
        Assert.Equal(6, result.CellsExecuted);
        var cells = TestNotebook.CodeCells(output);
        Assert.Equal([1, 2, 3, 4, 5, 6], cells.Select(c => (int?)c["execution_count"]));

        // The injected cell follows the parameters cell; the enum's type came from the kernel once the parameters cell ran.
        var injected = cells[2];
        Assert.Equal(["injected-parameters"], ((JsonArray)injected["metadata"]!["tags"]!).Select(t => (string)t!));
        Assert.Equal(
            "// Parameters (injected by bertsharp notebook run)\nepochs = 1;\nlearningRate = 0.001;\nmodelId = \"say \\\"hi\\\"\\\\n\\nline two\\t\u00e9\";\nshuffle = false;\n"
            + "day = DayOfWeek.Friday;",
            TestNotebook.Text(injected["source"]));
        var recorded = (JsonObject)output["metadata"]!["bertsharp"]!["parameters"]!;
        Assert.Equal(1, (int)recorded["epochs"]!);
        Assert.Equal(tricky, (string)recorded["modelId"]!);
        Assert.StartsWith("dotnet-interactive 1.0.", (string)output["metadata"]!["bertsharp"]!["kernel"]!);

        // Console text, displayed values and the cell's value, in order, as the kernel produced them.
        var outputs = Outputs(cells[3]);
        string Describe(JsonObject o) => (string)o["output_type"]! switch
        {
            "stream" => $"{o["name"]}:{TestNotebook.Text(o["text"])}",
            var type => $"{type}:{TestNotebook.Text(o["data"]!["text/plain"])}",
        };
        Assert.Equal(
            ["stdout:one\n", "display_data:two", "stderr:three\n", "stdout:fourfive\n", $"execute_result:1|0.001|{tricky}|False|Friday|default"],
            outputs.Select(Describe));
        Assert.Equal(4, (int)outputs[^1]["execution_count"]!);

        // Updates replace their output as VS Code replaces it: by the kernel's value id, which in this kernel differs
        // from the id of the display they update, so the first update is a new output of the running cell.
        var updated = Outputs(cells[4]).Select(o => TestNotebook.Text(o["data"]!["text/plain"])).ToList();
        Assert.Equal("c", updated[^2]);
        Assert.Equal("two, updated by a later cell", updated[^1]);
        Assert.DoesNotContain("b", updated);

        // A BertSharp chart shows itself as the interactive chart and a PNG, in one output.
        var chart = Assert.Single(Outputs(cells[5]), o => (string)o["output_type"]! == "execute_result");
        var data = (JsonObject)chart["data"]!;
        Assert.Equal(["text/html", "image/png"], data.Select(kv => kv.Key));
        var html = TestNotebook.Text(data["text/html"]);
        Assert.Contains("Plotly.newPlot(", html);
        Assert.Contains("data:image/png;base64,", html);
        var png = Convert.FromBase64String((string)data["image/png"]!);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
    }

    [Fact]
    public async Task ACompileErrorStopsTheRunAndIsWrittenIntoTheOutputNotebook()
    {
        var path = Write("Console.WriteLine(\"first\");", "var fine = 1;\nvar y = File.Exists(\"x\") ? undefinedName : 0;", "Console.WriteLine(\"never\");");
        var (result, output) = await Run(path);

        Assert.False(result.Succeeded);
        Assert.Equal((2, 3), (result.CellsExecuted, result.CodeCells));
        var error = result.Error!;
        Assert.Equal(NotebookErrorKind.Compilation, error.Kind);
        Assert.Equal((2, 1), (error.CellNumber, error.CellIndex));
        Assert.Equal(2, error.Line);
        Assert.Contains("test.ipynb: code cell 2 (cells[1]) failed:", error.Message);
        Assert.Contains("CS0103", error.Message);
        Assert.Contains("undefinedName", error.Message);
        // The kernel has no implicit usings: File needs `using System.IO;`, as in VS Code.
        Assert.Contains("'File'", error.Message);
        var cells = TestNotebook.CodeCells(output);
        Assert.Equal("error", (string)Outputs(cells[1])[0]["output_type"]!);
        Assert.Null(cells[2]["execution_count"]);
        Assert.Equal("failed", (string)output["metadata"]!["bertsharp"]!["status"]!);
    }

    [Fact]
    public async Task EnvironmentExitInACellIsAFailureNotASuccess()
    {
        var path = Write("var a = 1;", "System.Environment.Exit(0);", "Console.WriteLine(\"never\");");
        var (result, output) = await Run(path);

        Assert.False(result.Succeeded);
        Assert.Equal(NotebookErrorKind.KernelExited, result.Error!.Kind);
        Assert.Contains("code cell 2 (cells[1]) failed: the kernel process exited (code 0)", result.Error.Message);
        Assert.Equal("KernelExited", (string)Outputs(TestNotebook.CodeCells(output)[1])[0]["ename"]!);
    }

    [Theory]
    [InlineData("{\"cells\": [", "is not valid JSON (line 1")]
    [InlineData("[]", "is not a notebook")]
    [InlineData("{\"nbformat\": 3, \"nbformat_minor\": 0, \"worksheets\": []}", "nbformat 3")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 2, \"metadata\": {}}", "no \"cells\" array")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 2, \"metadata\": {}, \"cells\": []}", "has no code cells")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 2, \"metadata\": {}, \"cells\": [{\"cell_type\": \"markdown\", \"metadata\": {}, \"source\": \"# hi\"}]}", "has no code cells")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 2, \"metadata\": {}, \"cells\": [{\"cell_type\": \"code\", \"metadata\": {}}]}", "cells[0] has no \"source\"")]
    public async Task AMalformedNotebookIsAClearErrorBeforeAnyKernelStarts(string json, string expected)
    {
        var path = Path.Combine(_dir.Path, "bad.ipynb");
        File.WriteAllText(path, json);
        var runner = new NotebookRunner(new NotebookRunOptions { OutputDirectory = OutputDirectory });
        var error = await Assert.ThrowsAsync<NotebookFormatException>(() => runner.RunAsync(path));
        Assert.Contains("bad.ipynb", error.Message);
        Assert.Contains(expected, error.Message);
        Assert.False(Directory.Exists(OutputDirectory));
    }

    [Fact]
    public async Task ParameterMistakesAndOtherKernelsAreReportedBeforeAnythingRuns()
    {
        var path = Write(TestCell.Code("var epochs = 3;\nstring modelId = \"m\";\nconst int seed = 42;", "parameters"), "Console.WriteLine(epochs);");
        async Task<string> Mistake(Dictionary<string, string> parameters, string? notebook = null) =>
            (await Assert.ThrowsAnyAsync<NotebookException>(() =>
                new NotebookRunner(new NotebookRunOptions { Parameters = parameters, OutputDirectory = OutputDirectory }).RunAsync(notebook ?? path))).Message;

        var unknown = await Mistake(new() { ["epoch"] = "1" });
        Assert.Contains("test.ipynb: unknown parameter epoch; the parameters cell (code cell 1) declares epochs, modelId, seed", unknown);
        Assert.Contains("parameter epochs is an int; \"three\" is not an int", await Mistake(new() { ["epochs"] = "three" }));
        Assert.Contains("declares seed as const", await Mistake(new() { ["seed"] = "1" }));
        Assert.Contains("has no parameters cell", await Mistake(new() { ["epochs"] = "1" }, TestNotebook.Write(_dir.Path, "plain.ipynb", "var epochs = 3;")));
        var javascript = TestNotebook.Write(_dir.Path, "js.ipynb", "var a = 1;", new TestCell("code", "console.log(1)", null, "javascript"));
        Assert.Contains("js.ipynb: code cell 2 (cells[1]) is a javascript cell", await Mistake([], javascript));
        Assert.False(Directory.Exists(OutputDirectory));
    }

    [Fact]
    public void OutputGoesToAFolderOrInPlaceNeverOverTheInputByAccident()
    {
        var path = Write("1");
        Assert.Throws<ArgumentException>(() => new NotebookRunner(new NotebookRunOptions { InPlace = true, OutputDirectory = OutputDirectory }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NotebookRunner(new NotebookRunOptions { OutputDirectory = OutputDirectory, CellTimeout = TimeSpan.Zero }));
        Assert.Equal(Path.GetFullPath(path), new NotebookRunner(new NotebookRunOptions { InPlace = true }).GetOutputPath(path));
        var sameFolder = new NotebookRunner(new NotebookRunOptions { OutputDirectory = _dir.Path });
        Assert.Contains("the input would be overwritten", Assert.Throws<NotebookException>(() => sameFolder.GetOutputPath(path)).Message);
        Assert.Contains("say where the executed notebook goes", Assert.Throws<NotebookException>(() => new NotebookRunner().GetOutputPath(path)).Message);
    }

    [Fact]
    public void TheKernelIsTheToolThisRepositoryPins()
    {
        var tool = InteractiveTool.Locate(_dir.Path);
        Assert.Equal("dotnet", tool.FileName);
        Assert.Equal(["tool", "run", "dotnet-interactive", "--"], tool.Arguments);
        Assert.Equal(SharedFiles.RepoRoot, tool.LaunchDirectory);
        Assert.Equal(InteractiveTool.PinnedVersion(Path.Combine(SharedFiles.RepoRoot, ".config", "dotnet-tools.json")), "1.0.712001");
    }
}
