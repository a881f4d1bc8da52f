using System.CommandLine;
using System.Globalization;
using BertSharp.Notebooks;
using Microsoft.CodeAnalysis.CSharp;

namespace BertSharp.Cli.Commands;

/// <summary>
/// <c>bertsharp notebook run</c>: runs Polyglot notebooks from top to bottom in the .NET Interactive kernel (the
/// dotnet-interactive tool that VS Code's Polyglot Notebooks runs) and writes the executed copies, like papermill
/// (and the CI check that the tutorial notebooks still work).
/// </summary>
internal static class NotebookCommand
{
    public static Command Create()
    {
        var command = new Command("notebook", "Work with the tutorial notebooks (Polyglot C# .ipynb files).");
        command.Subcommands.Add(Run());
        return command;
    }

    private static Command Run()
    {
        var paths = new Argument<string[]>("notebooks") { Description = "The .ipynb notebooks to run, in order (each in a fresh kernel process).", Arity = ArgumentArity.OneOrMore };
        var set = new Option<string[]>("--set", "-p")
        {
            Description = "Set a parameter: name=value, for a variable of the cell tagged \"parameters\" (repeatable).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var output = new Option<string?>("--output", "-o") { Description = "Write the executed notebooks into this folder, under their own names." };
        var inPlace = new Option<bool>("--in-place") { Description = "Overwrite the input notebooks with the executed ones." };
        var cellTimeout = new Option<double>("--cell-timeout")
        {
            Description = "Fail a cell that runs longer than this many seconds (its kernel is stopped).",
            DefaultValueFactory = _ => 600,
        };
        var logOutput = new Option<bool>("--log-output") { Description = "Also copy what the cells print to stderr as they run." };
        var continueOnError = new Option<bool>("--continue-on-error") { Description = "Run the remaining notebooks after one fails." };
        var command = new Command("run", "Run notebooks cell by cell in the dotnet-interactive kernel and write the executed copies (outputs, execution counts, errors), like papermill.")
        {
            paths, set, output, inPlace, cellTimeout, logOutput, continueOnError,
        };
        command.SetAction(parse =>
        {
            var outputDirectory = parse.GetValue(output);
            var overwrite = parse.GetValue(inPlace);
            if (outputDirectory is null && !overwrite)
                throw new CliUsageException("say where the executed notebooks go: --output DIR, or --in-place to overwrite them");
            if (outputDirectory is not null && overwrite) throw new CliUsageException("give --output or --in-place, not both");
            var timeout = parse.GetValue(cellTimeout);
            if (!(timeout > 0)) throw new CliUsageException("--cell-timeout must be a positive number of seconds");

            var runner = new NotebookRunner(new NotebookRunOptions
            {
                Parameters = ParseParameters(parse.GetValue(set) ?? []),
                OutputDirectory = outputDirectory,
                InPlace = overwrite,
                CellTimeout = TimeSpan.FromSeconds(Math.Min(timeout, TimeSpan.MaxValue.TotalSeconds / 2)),
                Log = Console.Error,
                LogOutput = parse.GetValue(logOutput),
            });
            var notebooks = parse.GetValue(paths)!;
            try
            {
                // Every notebook is checked before any runs: a typo in the last one should not cost the first one's run.
                var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var notebook in notebooks)
                {
                    runner.Check(notebook);
                    var path = runner.GetOutputPath(notebook);
                    if (outputs.TryGetValue(path, out var other) && Path.GetFullPath(other) != Path.GetFullPath(notebook))
                        throw new CliUsageException($"{other} and {notebook} would both be written to {path}");
                    outputs[path] = notebook;
                }
                return RunAll(runner, notebooks, parse.GetValue(continueOnError));
            }
            catch (NotebookException e)
            {
                throw new CliUsageException(e.Message);
            }
        });
        return command;
    }

    private static int RunAll(NotebookRunner runner, string[] notebooks, bool continueOnError)
    {
        var failed = false;
        foreach (var notebook in notebooks)
        {
            if (failed && !continueOnError)
            {
                Console.Out.WriteLine($"skipped {notebook}");
                continue;
            }
            Console.Error.WriteLine($"running {notebook}");
            var result = runner.RunAsync(notebook).GetAwaiter().GetResult();
            var seconds = result.Duration.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture);
            var written = Path.GetRelativePath(Directory.GetCurrentDirectory(), result.OutputPath);
            Console.Out.WriteLine($"{(result.Succeeded ? "ok     " : "failed ")} {notebook}: {result.CellsExecuted}/{result.CodeCells} cells, {seconds} s -> {written}");
            if (result.Error is { } error)
            {
                Console.Error.WriteLine($"error: {error.Message} (the executed notebook with the error: {written})");
                failed = true;
            }
        }
        return failed ? CliRunner.UserError : 0;
    }

    private static Dictionary<string, string> ParseParameters(IEnumerable<string> assignments)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var assignment in assignments)
        {
            var equals = assignment.IndexOf('=');
            if (equals <= 0) throw new CliUsageException($"--set takes name=value, not \"{assignment}\"");
            var name = assignment[..equals].Trim();
            if (!SyntaxFacts.IsValidIdentifier(name)) throw new CliUsageException($"--set {assignment}: \"{name}\" is not a C# variable name");
            parameters[name] = assignment[(equals + 1)..];
        }
        return parameters;
    }
}
