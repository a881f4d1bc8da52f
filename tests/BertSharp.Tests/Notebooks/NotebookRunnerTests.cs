using System.Text.Json.Nodes;
using BertSharp.Notebooks;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Notebooks;

/// <summary>Notebook tests share process-wide state (console capture, working directory, formatters): one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class NotebookCollection
{
    public const string Name = "Notebooks";
}

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
            CellTimeout = timeout ?? TimeSpan.FromMinutes(2),
        });
        var result = await runner.RunAsync(path);
        Assert.Equal(Path.Combine(OutputDirectory, Path.GetFileName(path)), result.OutputPath);
        var output = TestNotebook.Read(result.OutputPath);
        TestNotebook.AssertValidNbformat4(output);
        return (result, output);
    }

    private static JsonObject Single(JsonArray outputs, string outputType) => Assert.Single(outputs.Cast<JsonObject>(), o => (string)o["output_type"]! == outputType);

    private static string Result(JsonObject cell) => TestNotebook.Text(Single(TestNotebook.Outputs(cell), "execute_result")["data"]!["text/plain"]);

    [Fact]
    public async Task VariablesUsingsAndTypesCarryFromCellToCell()
    {
        var path = Write(
            "using System.Text;\nvar x = 41;\nclass Counter { public int N; }\nrecord Point(int X, int Y);",
            TestCell.Markdown("Some *prose* between the cells."),
            "var sb = new StringBuilder();\nsb.Append(x + 1);\nvar c = new Counter { N = 2 };\n$\"{sb}-{c.N}\"",
            "new Point(c.N, x)");
        var (result, output) = await Run(path);

        Assert.True(result.Succeeded, result.Error?.Message);
        Assert.Equal(3, result.CellsExecuted);
        var cells = TestNotebook.CodeCells(output);
        Assert.Equal([1, 2, 3], cells.Select(c => (int?)c["execution_count"]));
        Assert.Equal("42-2", Result(cells[1]));
        Assert.Equal("Point { X = 2, Y = 41 }", Result(cells[2]));
        Assert.Equal(2, (int)Single(TestNotebook.Outputs(cells[1]), "execute_result")["execution_count"]!);
    }

    [Fact]
    public async Task ConsoleTextDisplayCallsAndTheFinalValueAreOutputsInOrder()
    {
        var path = Write(
            "Console.WriteLine(\"one\");\ndisplay(\"two\");\nConsole.Error.WriteLine(\"three\");\nConsole.Write(\"four\");\nConsole.WriteLine(\"five\");\n"
            + "await Task.Run(() => Console.WriteLine(\"six from a task\"));\n"
            + "display(new[] { 1, 2, 3 });\ndisplay(new Dictionary<string, int> { [\"a\"] = 1, [\"b\"] = 2 });\n6 * 7");
        var (result, output) = await Run(path);

        Assert.True(result.Succeeded, result.Error?.Message);
        var outputs = TestNotebook.Outputs(TestNotebook.CodeCells(output)[0]).Cast<JsonObject>().ToList();
        string Describe(JsonObject o) => (string)o["output_type"]! switch
        {
            "stream" => $"{o["name"]}:{TestNotebook.Text(o["text"])}",
            var type => $"{type}:{TestNotebook.Text(o["data"]!["text/plain"])}",
        };
        Assert.Equal(
        [
            "stdout:one\n", "display_data:two", "stderr:three\n", "stdout:fourfive\nsix from a task\n",
            "display_data:[ 1, 2, 3 ]", "display_data:{ \"a\": 1, \"b\": 2 }", "execute_result:42",
        ], outputs.Select(Describe));
        // Stream text is stored as nbformat's list of lines.
        Assert.Equal(["fourfive\n", "six from a task\n"], ((JsonArray)outputs[3]["text"]!).Select(l => (string)l!));
    }

    [Fact]
    public async Task ParametersAreInjectedAsATaggedCellRightAfterTheParametersCell()
    {
        var path = Write(
            "var before = 1;",
            TestCell.Code("var epochs = 3;\ndouble learningRate = 2e-5;\nstring modelId = \"bert-base-uncased\";\nbool shuffle = true;\nvar untouched = \"default\";", "parameters"),
            "$\"{epochs}|{learningRate.ToString(System.Globalization.CultureInfo.InvariantCulture)}|{modelId}|{shuffle}|{untouched}\"");
        var tricky = "say \"hi\"\\n\nline two\t\u00e9";
        var (result, output) = await Run(path, new Dictionary<string, string>
        {
            ["epochs"] = "1", ["learningRate"] = "0.001", ["modelId"] = tricky, ["shuffle"] = "false",
        });

        Assert.True(result.Succeeded, result.Error?.Message);
        var cells = (JsonArray)output["cells"]!;
        Assert.Equal(4, cells.Count);
        var injected = (JsonObject)cells[2]!;
        Assert.Equal(["injected-parameters"], ((JsonArray)injected["metadata"]!["tags"]!).Select(t => (string)t!));
        Assert.Equal("csharp", (string)injected["metadata"]!["polyglot_notebook"]!["kernelName"]!);
        Assert.Equal(
            "// Parameters (injected by bertsharp notebook run)\nepochs = 1;\nlearningRate = 0.001;\nmodelId = \"say \\\"hi\\\"\\\\n\\nline two\\t\u00e9\";\nshuffle = false;",
            TestNotebook.Text(injected["source"]));
        Assert.Equal(3, (int)injected["execution_count"]!);
        Assert.Equal($"1|0.001|{tricky}|False|default", Result((JsonObject)cells[3]!));
        var recorded = (JsonObject)output["metadata"]!["bertsharp"]!["parameters"]!;
        Assert.Equal(1, (int)recorded["epochs"]!);
        Assert.Equal(tricky, (string)recorded["modelId"]!);
        Assert.False((bool)recorded["shuffle"]!);
    }

    [Fact]
    public async Task EnumParametersAndReRunsReplaceTheOldInjectedCell()
    {
        var path = Write(
            TestCell.Code("var day = DayOfWeek.Monday;\nlong steps = 10;", "parameters"),
            TestCell.Code("day = DayOfWeek.Sunday;", "injected-parameters"),
            "$\"{day} {steps}\"");
        var (result, output) = await Run(path, new Dictionary<string, string> { ["day"] = "DayOfWeek.Friday", ["steps"] = "-5" });

        Assert.True(result.Succeeded, result.Error?.Message);
        var cells = TestNotebook.CodeCells(output);
        Assert.Equal(3, cells.Count);
        Assert.EndsWith("steps = -5L;\nday = DayOfWeek.Friday;", TestNotebook.Text(cells[1]["source"]));
        Assert.Equal("Friday -5", Result(cells[2]));
    }

    [Fact]
    public async Task ParameterMistakesAreReportedBeforeAnythingRuns()
    {
        var path = Write(TestCell.Code("var epochs = 3;\nstring modelId = \"m\";", "parameters"), "Console.WriteLine(epochs);");
        var runner = new NotebookRunner(new NotebookRunOptions { Parameters = new Dictionary<string, string> { ["epoch"] = "1" }, OutputDirectory = OutputDirectory });
        var unknown = await Assert.ThrowsAsync<NotebookException>(() => runner.RunAsync(path));
        Assert.Contains("test.ipynb", unknown.Message);
        Assert.Contains("unknown parameter epoch", unknown.Message);
        Assert.Contains("declares epochs, modelId", unknown.Message);

        var badValue = new NotebookRunner(new NotebookRunOptions { Parameters = new Dictionary<string, string> { ["epochs"] = "three" }, OutputDirectory = OutputDirectory });
        Assert.Contains("parameter epochs is an int; \"three\" is not an int", (await Assert.ThrowsAsync<NotebookException>(() => badValue.RunAsync(path))).Message);

        var noParameters = Write("var epochs = 3;");
        var error = await Assert.ThrowsAsync<NotebookException>(() => runner.RunAsync(noParameters));
        Assert.Contains("has no parameters cell", error.Message);
        Assert.False(Directory.Exists(OutputDirectory));
    }

    [Fact]
    public async Task ACompileErrorStopsTheRunAndIsWrittenIntoTheOutputNotebook()
    {
        var path = Write(
            "Console.WriteLine(\"first\");",
            TestCell.Markdown("# A heading"),
            "var ok = 2;\nok",
            "var fine = 1;\nvar y = undefinedName + 1;",
            "Console.WriteLine(\"never\");");
        var (result, output) = await Run(path);

        var error = Assert.IsType<NotebookCellError>(result.Error);
        Assert.Equal(3, error.CellNumber);
        Assert.Equal(3, error.CellIndex);
        Assert.Equal(NotebookErrorKind.Compilation, error.Kind);
        Assert.Equal(["(2,9): error CS0103: The name 'undefinedName' does not exist in the current context"], error.Diagnostics);
        Assert.Equal("test.ipynb: code cell 3 (cells[3]) failed: (2,9): error CS0103: The name 'undefinedName' does not exist in the current context", error.Message);
        Assert.Equal(3, result.CellsExecuted);

        var cells = TestNotebook.CodeCells(output);
        Assert.Equal("first\n", TestNotebook.Text(Single(TestNotebook.Outputs(cells[0]), "stream")["text"]));
        Assert.Equal("2", Result(cells[1]));
        var errorOutput = Single(TestNotebook.Outputs(cells[2]), "error");
        Assert.Equal("CompilationError", (string)errorOutput["ename"]!);
        Assert.Contains("CS0103", (string)errorOutput["evalue"]!);
        Assert.Equal(3, (int)cells[2]["execution_count"]!);
        Assert.Null(cells[3]["execution_count"]);
        Assert.Empty(TestNotebook.Outputs(cells[3]));
        Assert.Equal("failed", (string)output["metadata"]!["bertsharp"]!["status"]!);
    }

    [Fact]
    public async Task ARuntimeExceptionNamesItsTypeMessageAndLine()
    {
        var path = Write("Console.WriteLine(\"before\");\nthrow new InvalidOperationException(\"boom\");", "1");
        var (result, output) = await Run(path);

        var error = Assert.IsType<NotebookCellError>(result.Error);
        Assert.Equal(NotebookErrorKind.Runtime, error.Kind);
        Assert.Equal("System.InvalidOperationException", error.ErrorName);
        Assert.Equal("boom", error.ErrorValue);
        Assert.Equal(2, error.Line);
        Assert.Equal("test.ipynb: code cell 1 (cells[0]) failed: System.InvalidOperationException: boom (line 2 of the cell)", error.Message);
        var outputs = TestNotebook.Outputs(TestNotebook.CodeCells(output)[0]);
        Assert.Equal(["stream", "error"], outputs.Select(o => (string)o!["output_type"]!));
        var traceback = ((JsonArray)outputs[1]!["traceback"]!).Select(t => (string)t!).ToList();
        Assert.Equal("System.InvalidOperationException: boom", traceback[0]);
        Assert.Contains(traceback, t => t.EndsWith("in code-cell-1.csx:line 2", StringComparison.Ordinal));
        Assert.DoesNotContain(traceback, t => t.Contains("Microsoft.CodeAnalysis"));
    }

    [Fact]
    public async Task CellsOfOtherKernelsAndUnsupportedMagicsAreRejectedUpFront()
    {
        var runner = new NotebookRunner(new NotebookRunOptions { OutputDirectory = OutputDirectory });
        var fsharp = Write("var x = 1;", TestCell.Markdown("text"), new TestCell("code", "let x = 1", Kernel: "fsharp"));
        var error = await Assert.ThrowsAsync<NotebookException>(() => runner.RunAsync(fsharp));
        Assert.Equal("test.ipynb: code cell 2 (cells[2]) is a fsharp cell; the notebook runner runs only C# cells (kernelName \"csharp\")", error.Message);

        var pwsh = Write("#!pwsh\nGet-ChildItem");
        Assert.Contains("code cell 1 (cells[0]), line 1 switches to the pwsh kernel", (await Assert.ThrowsAsync<NotebookException>(() => runner.RunAsync(pwsh))).Message);

        var about = Write("var x = 1;", "#!csharp\nvar y = 2;", "var z = 3;\n#!about");
        Assert.Contains("code cell 3 (cells[2]), line 2: the magic command #!about is not supported", (await Assert.ThrowsAsync<NotebookException>(() => runner.RunAsync(about))).Message);
        Assert.False(Directory.Exists(OutputDirectory));
    }

    [Theory]
    [InlineData("{\"cells\": [", "is not valid JSON (line 1")]
    [InlineData("[]", "is not a notebook")]
    [InlineData("{\"nbformat\": 3, \"nbformat_minor\": 0, \"worksheets\": []}", "nbformat 3")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 2, \"metadata\": {}}", "no \"cells\" array")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 2, \"metadata\": {}, \"cells\": [{\"cell_type\": \"code\", \"metadata\": {}}]}", "cells[0] has no \"source\"")]
    public async Task AMalformedNotebookIsAClearError(string json, string expected)
    {
        var path = Path.Combine(_dir.Path, "broken.ipynb");
        File.WriteAllText(path, json);
        var runner = new NotebookRunner(new NotebookRunOptions { OutputDirectory = OutputDirectory });
        var error = await Assert.ThrowsAsync<NotebookFormatException>(() => runner.RunAsync(path));
        Assert.StartsWith("broken.ipynb", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public async Task TheLibraryAndItsPackagesAreReferencedAsPolyglotNotebooksDo()
    {
        var path = Write(
            "#r \"nuget: TorchSharp, 0.107.0\"\n#r \"nuget: TorchSharp-cpu, 0.107.0\"\n#r \"nuget: Microsoft.ML.Tokenizers, 2.0.1\"\n#i \"nuget: https://example.org/v3/index.json\"\n"
            + "#r \"../src/BertSharp/bin/Debug/net10.0/BertSharp.dll\"",
            "using BertSharp.Modeling;\nnew BertConfig().HiddenSize",
            "typeof(TorchSharp.torch).Assembly.GetName().Name + \" \" + typeof(Microsoft.ML.Tokenizers.Tokenizer).Assembly.GetName().Name",
            "// The notebook sees the runner's own copy of the library, not a second one.\ntypeof(BertConfig).Assembly == typeof(BertSharp.Notebooks.NotebookRunner).Assembly");
        var (result, output) = await Run(path);

        Assert.True(result.Succeeded, result.Error?.Message);
        var cells = TestNotebook.CodeCells(output);
        Assert.Equal("768", Result(cells[1]));
        Assert.Equal("TorchSharp Microsoft.ML.Tokenizers", Result(cells[2]));
        Assert.Equal("true", Result(cells[3]));
    }

    [Fact]
    public async Task APackageTheRunnerDoesNotHaveIsAClearError()
    {
        var path = Write("var x = 1;", "#r \"nuget: NotAPackage, 1.0\"\nvar y = 2;");
        var runner = new NotebookRunner(new NotebookRunOptions { OutputDirectory = OutputDirectory });
        var error = await Assert.ThrowsAsync<NotebookException>(() => runner.RunAsync(path));
        Assert.Equal("test.ipynb: code cell 2 (cells[1]), line 1: package NotAPackage is not available to the notebook runner; "
            + "reference a built DLL with #r \"path\" instead", error.Message);
    }

    [Fact]
    public async Task ADllIsReferencedRelativeToTheNotebooksFolder()
    {
        // A library the runner does not have: compiled here into lib/ beside the notebook.
        var tree = Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText("namespace Greetings { public class Greeter { public string Hello(string who) => $\"hello, {who}\"; } }");
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p) is "System.Runtime.dll" or "System.Private.CoreLib.dll")
            .Select(p => Microsoft.CodeAnalysis.MetadataReference.CreateFromFile(p));
        var compilation = Microsoft.CodeAnalysis.CSharp.CSharpCompilation.Create("Greetings", [tree], references,
            new Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions(Microsoft.CodeAnalysis.OutputKind.DynamicallyLinkedLibrary));
        Directory.CreateDirectory(Path.Combine(_dir.Path, "lib"));
        Microsoft.CodeAnalysis.Emit.EmitResult emitted;
        using (var dll = File.Create(Path.Combine(_dir.Path, "lib", "Greetings.dll"))) emitted = compilation.Emit(dll);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));

        var path = Write("#r \"lib/Greetings.dll\"\nusing Greetings;", "new Greeter().Hello(\"notebook\")");
        var (result, output) = await Run(path);
        Assert.True(result.Succeeded, result.Error?.Message);
        Assert.Equal("hello, notebook", Result(TestNotebook.CodeCells(output)[1]));
    }

    [Fact]
    public async Task AMissingDllFailsItsCell()
    {
        var path = Write("var x = 1;", "#r \"lib/Missing.dll\"\nvar y = 2;");
        var (result, _) = await Run(path);
        var error = Assert.IsType<NotebookCellError>(result.Error);
        Assert.Equal(NotebookErrorKind.Directive, error.Kind);
        Assert.Equal(2, error.CellNumber);
        Assert.Contains(Path.Combine(_dir.Path, "lib", "Missing.dll") + " does not exist", error.Message);
    }

    [Fact]
    public async Task TheOutputKeepsEveryFieldItDoesNotOwnAndIsValidNbformat()
    {
        var extra = new JsonObject { ["custom"] = new JsonObject { ["keep"] = new JsonArray(1, "two") }, ["authors"] = new JsonArray("someone") };
        var path = TestNotebook.Write(_dir.Path, "ids.ipynb", 5, extra,
            TestCell.Markdown("# Title"),
            TestCell.Code("var n = 2;", "parameters"),
            "display(HTML(\"<b>bold</b>\"));\nn");
        var input = TestNotebook.Read(path);
        ((JsonObject)input["cells"]![1]!["metadata"]!)["collapsed"] = true;
        ((JsonObject)input["cells"]![0]!["metadata"]!)["slideshow"] = new JsonObject { ["slide_type"] = "slide" };
        File.WriteAllText(path, input.ToJsonString());

        var (result, output) = await Run(path, new Dictionary<string, string> { ["n"] = "5" });

        Assert.True(result.Succeeded, result.Error?.Message);
        Assert.Equal("slide", (string)output["cells"]![0]!["metadata"]!["slideshow"]!["slide_type"]!);
        Assert.Equal(1, (int)output["metadata"]!["custom"]!["keep"]![0]!);
        Assert.Equal("someone", (string)output["metadata"]!["authors"]![0]!);
        Assert.Equal(".net-csharp", (string)output["metadata"]!["kernelspec"]!["name"]!);
        Assert.Equal("csharp", (string)output["metadata"]!["polyglot_notebook"]!["kernelInfo"]!["defaultKernelName"]!);
        var cells = (JsonArray)output["cells"]!;
        Assert.Equal(["cell-0", "cell-1"], cells.Take(2).Select(c => (string)c!["id"]!));
        Assert.True((bool)cells[1]!["metadata"]!["collapsed"]!);
        Assert.Matches("^[0-9a-f]{32}$", (string)cells[2]!["id"]!);
        var last = (JsonObject)cells[3]!;
        Assert.Equal("<b>bold</b>", TestNotebook.Text(Single(TestNotebook.Outputs(last), "display_data")["data"]!["text/html"]));
        Assert.Equal("5", Result(last));
        var run = (JsonObject)output["metadata"]!["bertsharp"]!;
        Assert.Equal("completed", (string)run["status"]!);
        Assert.True(DateTimeOffset.Parse((string)run["end_time"]!) >= DateTimeOffset.Parse((string)run["start_time"]!));
        Assert.True((double)run["duration"]! >= 0);
        // Jupyter's layout: one-space indentation, a final newline, HTML not escaped.
        var text = File.ReadAllText(result.OutputPath);
        Assert.StartsWith("{\n \"cells\": [\n  {\n", text);
        Assert.EndsWith("}\n", text);
        Assert.Contains("<b>bold</b>", text);
        Assert.DoesNotContain(Directory.GetFiles(OutputDirectory), f => Path.GetFileName(f).Contains(".tmp"));
    }

    [Fact]
    public async Task EachNotebookGetsAFreshStateItsFolderAsWorkingDirectoryAndItsOwnFormatters()
    {
        var before = Directory.GetCurrentDirectory();
        var sub = Directory.CreateDirectory(Path.Combine(_dir.Path, "sub")).FullName;
        File.WriteAllText(Path.Combine(sub, "data.txt"), "from the notebook's folder");
        var first = TestNotebook.Write(sub, "first.ipynb",
            "var shared = 1;\nBertSharp.Notebooks.Formatter.Register<Version>(v => $\"<i>{v}</i>\");\nFile.ReadAllText(\"data.txt\")",
            "new Version(1, 2)");
        var second = TestNotebook.Write(_dir.Path, "second.ipynb", "shared");

        var (firstResult, firstOutput) = await Run(first);
        Assert.True(firstResult.Succeeded, firstResult.Error?.Message);
        var cells = TestNotebook.CodeCells(firstOutput);
        Assert.Equal("from the notebook's folder", Result(cells[0]));
        Assert.Equal("<i>1.2</i>", TestNotebook.Text(Single(TestNotebook.Outputs(cells[1]), "execute_result")["data"]!["text/html"]));
        Assert.Equal(before, Directory.GetCurrentDirectory());
        Assert.Equal("text/plain", Formatter.Format(new Version(1, 2)).MimeType);

        var (secondResult, _) = await Run(second);
        Assert.Equal(NotebookErrorKind.Compilation, secondResult.Error?.Kind);
        Assert.Contains("'shared' does not exist", secondResult.Error!.Message);
    }

    [Fact]
    public async Task ACellThatRunsTooLongFailsWithATimeout()
    {
        var path = Write("var x = 1;", "System.Threading.Thread.Sleep(15000);", "Console.WriteLine(\"never\");");
        var (result, output) = await Run(path, timeout: TimeSpan.FromSeconds(1));

        var error = Assert.IsType<NotebookCellError>(result.Error);
        Assert.Equal(NotebookErrorKind.Timeout, error.Kind);
        Assert.Equal("test.ipynb: code cell 2 (cells[1]) failed: did not finish within the cell timeout of 1 s", error.Message);
        Assert.Null(TestNotebook.CodeCells(output)[2]["execution_count"]);
        Assert.True(result.Duration < TimeSpan.FromSeconds(14));
    }

    [Fact]
    public async Task DisplayedValuesCanBeUpdatedLaterAsInPolyglot()
    {
        var path = Write("var shown = display(\"starting\");", "shown.Update(\"done\");");
        var (result, output) = await Run(path);
        Assert.True(result.Succeeded, result.Error?.Message);
        var first = TestNotebook.Outputs(TestNotebook.CodeCells(output)[0]);
        Assert.Equal("done", TestNotebook.Text(Single(first, "display_data")["data"]!["text/plain"]));
    }

    [Fact]
    public async Task OutputGoesToAFolderOrInPlaceNeverOverTheInputByAccident()
    {
        var path = Write("1 + 1");
        Assert.Throws<NotebookException>(() => new NotebookRunner().GetOutputPath(path));
        var intoOwnFolder = new NotebookRunner(new NotebookRunOptions { OutputDirectory = _dir.Path });
        Assert.Contains("would be overwritten", Assert.Throws<NotebookException>(() => intoOwnFolder.GetOutputPath(path)).Message);

        var result = await new NotebookRunner(new NotebookRunOptions { InPlace = true }).RunAsync(path);
        Assert.True(result.Succeeded, result.Error?.Message);
        Assert.Equal(Path.GetFullPath(path), result.OutputPath);
        Assert.Equal("2", Result(TestNotebook.CodeCells(TestNotebook.Read(path))[0]));
    }
}
