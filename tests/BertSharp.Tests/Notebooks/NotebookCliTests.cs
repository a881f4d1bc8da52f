using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Notebooks;

/// <summary><c>bertsharp notebook run</c> as a user runs it: the built CLI in a child process.</summary>
[Collection(NotebookCollection.Name)]
public sealed class NotebookCliTests : IDisposable
{
    private readonly TempDirectory _dir = new("bertsharp-notebook-cli");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void RunsNotebooksInOrderWithParametersAndWritesThemToTheOutputFolder()
    {
        var first = TestNotebook.Write(_dir.Path, "01-first.ipynb",
            $"#r \"{Path.Combine(SharedFiles.RepoRoot, "src", "BertSharp", "bin", "Debug", "net10.0", "BertSharp.dll")}\"",
            TestCell.Code("var epochs = 3;\nstring name = \"default\";", "parameters"),
            "Console.WriteLine($\"epochs={epochs} name={name}\");\n$\"heads={new BertSharp.Modeling.BertConfig().NumAttentionHeads}\"");
        var second = TestNotebook.Write(_dir.Path, "02-second.ipynb",
            TestCell.Code("var epochs = 1;\nstring name = \"other\";", "parameters"),
            "$\"{name}:{epochs * 2}\"");
        var output = Path.Combine(_dir.Path, "executed");

        var result = CliProcess.Run(["notebook", "run", first, second, "--set", "epochs=2", "-p", "name=it's \"quoted\"", "--output", output]);

        Assert.True(result.ExitCode == 0, result.Stderr);
        var summary = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, summary.Length);
        Assert.Matches(@"^ok +.*01-first\.ipynb: 4/4 cells, [0-9.]+ s -> .*executed/01-first\.ipynb$", summary[0]);
        Assert.Matches(@"^ok +.*02-second\.ipynb: 3/3 cells", summary[1]);
        Assert.DoesNotContain("error", result.Stderr);

        var executed = TestNotebook.Read(Path.Combine(output, "01-first.ipynb"));
        TestNotebook.AssertValidNbformat4(executed);
        var cells = TestNotebook.CodeCells(executed);
        Assert.Equal("injected-parameters", (string)cells[2]["metadata"]!["tags"]![0]!);
        Assert.Equal("epochs=2 name=it's \"quoted\"\n", TestNotebook.Text(TestNotebook.Outputs(cells[3])[0]!["text"]));
        Assert.Equal("heads=12", TestNotebook.Text(TestNotebook.Outputs(cells[3])[1]!["data"]!["text/plain"]));
        var executedSecond = TestNotebook.Read(Path.Combine(output, "02-second.ipynb"));
        Assert.Equal("it's \"quoted\":4", TestNotebook.Text(TestNotebook.Outputs(TestNotebook.CodeCells(executedSecond)[2])[0]!["data"]!["text/plain"]));
        // The inputs are untouched.
        Assert.All(TestNotebook.CodeCells(TestNotebook.Read(first)), c => Assert.Empty(TestNotebook.Outputs(c)));
    }

    [Fact]
    public void AFailingCellEndsTheRunWithOneErrorLineAndTheNotebookWritten()
    {
        var broken = TestNotebook.Write(_dir.Path, "broken.ipynb", "var a = 1;", "var b = a / 0;", "Console.WriteLine(b);");
        var after = TestNotebook.Write(_dir.Path, "after.ipynb", "1");
        var output = Path.Combine(_dir.Path, "out");

        var result = CliProcess.Run(["notebook", "run", broken, after, "--output", output]);

        Assert.Equal(1, result.ExitCode);
        var error = Assert.Single(result.Stderr.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains("broken.ipynb: code cell 2 (cells[1]) failed: System.DivideByZeroException: Attempted to divide by zero.", error);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.Contains("failed  " + broken + ": 2/3 cells", result.Stdout);
        Assert.Contains("skipped " + after, result.Stdout);
        var executed = TestNotebook.Read(Path.Combine(output, "broken.ipynb"));
        Assert.Equal("error", (string)TestNotebook.Outputs(TestNotebook.CodeCells(executed)[1])[0]!["output_type"]!);
        Assert.False(File.Exists(Path.Combine(output, "after.ipynb")));
    }

    [Fact]
    public void ACellThatLoopsForeverIsStoppedWithItsKernelBeforeTheNextNotebookStarts()
    {
        var pidFile = Path.Combine(_dir.Path, "kernel.pid");
        var looping = TestNotebook.Write(_dir.Path, "looping.ipynb",
            $"System.IO.File.WriteAllText(@\"{pidFile}\", System.Environment.ProcessId.ToString());",
            "while (true) { }");
        var next = TestNotebook.Write(_dir.Path, "next.ipynb",
            $"var pid = int.Parse(System.IO.File.ReadAllText(@\"{pidFile}\"));\n"
            + "System.Diagnostics.Process.GetProcesses().Any(p => p.Id == pid) ? throw new System.Exception($\"kernel {pid} still runs\") : \"gone\"");
        var output = Path.Combine(_dir.Path, "out");

        var result = CliProcess.Run(["notebook", "run", looping, next, "--output", output, "--cell-timeout", "20", "--continue-on-error"]);

        Assert.Equal(1, result.ExitCode);
        var error = Assert.Single(result.Stderr.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains("looping.ipynb: code cell 2 (cells[1]) failed: the cell ran longer than 20 s (--cell-timeout); the kernel was stopped", error);
        Assert.Contains("ok      " + next, result.Stdout);
        var executed = TestNotebook.CodeCells(TestNotebook.Read(Path.Combine(output, "next.ipynb")));
        Assert.Equal("gone", TestNotebook.Text(TestNotebook.Outputs(executed[0])[0]!["data"]!["text/plain"]));
    }

    [Theory]
    [InlineData(new[] { "notebook", "run", "NB" }, "--output DIR, or --in-place")]
    [InlineData(new[] { "notebook", "run", "NB", "--output", "OUT", "--set", "epochs" }, "--set takes name=value")]
    [InlineData(new[] { "notebook", "run", "NB", "--output", "OUT", "--set", "nope=1" }, "unknown parameter nope; the parameters cell (code cell 1) declares epochs")]
    [InlineData(new[] { "notebook", "run", "NB", "--output", "OUT", "--set", "epochs=x" }, "parameter epochs is an int; \"x\" is not an int")]
    [InlineData(new[] { "notebook", "run", "NB", "--output", "OUT", "--cell-timeout", "0" }, "--cell-timeout")]
    [InlineData(new[] { "notebook", "run", "MALFORMED", "--output", "OUT" }, "malformed.ipynb is not valid JSON")]
    [InlineData(new[] { "notebook", "run", "NB", "MALFORMED", "--output", "OUT" }, "malformed.ipynb is not valid JSON")]
    [InlineData(new[] { "notebook", "run", "/no/such/notebook.ipynb", "--output", "OUT" }, "/no/such/notebook.ipynb")]
    public void MistakesAreOneLineOnStderr(string[] args, string expected)
    {
        var notebook = TestNotebook.Write(_dir.Path, "nb.ipynb", TestCell.Code("var epochs = 3;", "parameters"));
        var malformed = Path.Combine(_dir.Path, "malformed.ipynb");
        File.WriteAllText(malformed, "{ not json");
        var output = Path.Combine(_dir.Path, "out");

        var result = CliProcess.Run(args.Select(a => a switch { "NB" => notebook, "MALFORMED" => malformed, "OUT" => output, _ => a }));

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
        Assert.Equal("", result.Stdout);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public void HelpDescribesTheCommand()
    {
        var result = CliProcess.Run(["notebook", "run", "--help"]);
        Assert.Equal(0, result.ExitCode);
        foreach (var option in new[] { "--set", "--output", "--in-place", "--cell-timeout", "--log-output", "--continue-on-error" })
            Assert.Contains(option, result.Stdout);
    }
}
