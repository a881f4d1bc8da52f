using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.CSharp;

namespace BertSharp.Notebooks;

/// <summary>
/// Runs Polyglot (.NET Interactive) notebooks the way papermill runs Jupyter ones, in the real kernel: each notebook
/// gets a fresh <c>dotnet-interactive stdio</c> process (the one VS Code's Polyglot Notebooks extension starts) with
/// the notebook's folder as its working directory; code cells are submitted in order; the kernel's events become the
/// outputs of a copy of the notebook; parameters are injected as a cell tagged <c>injected-parameters</c> after the
/// cell tagged <c>parameters</c>; the first failing cell (or error output) ends the run, and its error is written
/// into the copy too. The kernel is stopped when the notebook ends, fails or times out, so nothing a notebook started
/// is left running when the next one starts.
/// </summary>
public sealed partial class NotebookRunner
{
    private const string RunMetadataKey = "bertsharp";

    /// <summary>The kernels that run inside the dotnet-interactive process (others, like html or javascript, need VS Code's front end).</summary>
    private static readonly HashSet<string> ProcessKernels = ["csharp", "fsharp", "pwsh"];

    public NotebookRunner(NotebookRunOptions? options = null)
    {
        Options = options ?? new NotebookRunOptions();
        if (Options.CellTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), "the cell timeout must be positive");
        if (Options.InPlace && Options.OutputDirectory is not null)
            throw new ArgumentException("write the executed notebook either to an output directory or in place, not both", nameof(options));
        foreach (var name in Options.Parameters.Keys)
        {
            if (!SyntaxFacts.IsValidIdentifier(name))
                throw new ArgumentException($"parameter name \"{name}\" is not a C# identifier", nameof(options));
        }
    }

    public NotebookRunOptions Options { get; }

    /// <summary>Where the executed copy of <paramref name="notebookPath"/> is written.</summary>
    public string GetOutputPath(string notebookPath)
    {
        var input = Path.GetFullPath(notebookPath);
        if (Options.InPlace) return input;
        if (Options.OutputDirectory is null)
            throw new NotebookException("say where the executed notebook goes: an output directory, or in place");
        var output = Path.Combine(Path.GetFullPath(Options.OutputDirectory), Path.GetFileName(input));
        if (output == input)
            throw new NotebookException($"{Path.GetFileName(input)}: the output directory is the notebook's own folder, so the input would be overwritten (run it in place to mean that)");
        return output;
    }

    /// <summary>
    /// Everything that can be checked without running code: the file is an nbformat 4 notebook with code cells in
    /// kernels the process runs, the parameters exist and their values fit, and there is a kernel to run it in.
    /// Throws <see cref="NotebookException"/>.
    /// </summary>
    public void Check(string notebookPath) => Plan(notebookPath);

    /// <summary>Runs one notebook in a fresh kernel and writes the executed copy (also when a cell fails).</summary>
    /// <exception cref="NotebookException">The notebook cannot be run (see <see cref="Check"/>); nothing was run or written.</exception>
    public Task<NotebookRunResult> RunAsync(string notebookPath, CancellationToken cancellationToken = default) =>
        ExecuteAsync(Plan(notebookPath), cancellationToken);

    private sealed class PlannedCell(NotebookCell cell, int number, int index, string kernel)
    {
        public NotebookCell Cell { get; } = cell;

        /// <summary>1-based among the input's code cells; 0 for the injected parameters cell.</summary>
        public int Number { get; } = number;

        /// <summary>Index in the input file's cells; -1 for the injected cell.</summary>
        public int Index { get; } = index;

        public string Kernel { get; } = kernel;

        public bool Injected => Number == 0;

        /// <summary>For the injected cell: the parameters whose type is known only once the parameters cell has run.</summary>
        public List<(DeclaredParameter Parameter, string Value)> Pending { get; } = [];

        public List<(string Name, string Literal)> Assignments { get; } = [];
    }

    private sealed class RunPlan
    {
        public required string Name { get; init; }
        public required string InputPath { get; init; }
        public required string OutputPath { get; init; }
        public required string Directory { get; init; }
        public required Notebook Notebook { get; init; }
        public required List<PlannedCell> Cells { get; init; }
        public required InteractiveTool Tool { get; init; }
        public JsonObject ParameterRecord { get; } = [];
    }

    private RunPlan Plan(string notebookPath)
    {
        var input = Path.GetFullPath(notebookPath);
        var name = Path.GetFileName(input);
        var extension = Path.GetExtension(input);
        if (!string.Equals(extension, ".ipynb", StringComparison.OrdinalIgnoreCase))
        {
            throw new NotebookException($"{notebookPath}: only .ipynb notebooks can be run"
                + (string.Equals(extension, ".dib", StringComparison.OrdinalIgnoreCase) ? " (save the .dib as .ipynb in VS Code first)" : ""));
        }
        if (!File.Exists(input)) throw new FileNotFoundException($"notebook {notebookPath} does not exist", notebookPath);
        var output = GetOutputPath(input);
        var notebook = Notebook.Load(input);
        if (!notebook.Cells.Any(c => c.IsCode)) throw new NotebookFormatException($"{name} has no code cells to run");
        var defaultKernel = NormalizeKernelName(DefaultKernel(notebook));

        var cells = new List<PlannedCell>();
        var number = 0;
        for (var i = 0; i < notebook.Cells.Count; i++)
        {
            var cell = notebook.Cells[i];
            if (!cell.IsCode) continue;
            number++;
            var kernel = cell.KernelName is { } k ? NormalizeKernelName(k) : defaultKernel;
            if (!ProcessKernels.Contains(kernel))
            {
                throw new NotebookException($"{name}: code cell {number} (cells[{i}]) is a {kernel} cell; headless runs support the kernels "
                    + $"{string.Join(", ", ProcessKernels)} (the others need VS Code's front end)");
            }
            cells.Add(new PlannedCell(cell, number, i, kernel));
        }

        var plan = new RunPlan
        {
            Name = name,
            InputPath = input,
            OutputPath = output,
            Directory = Path.GetDirectoryName(input)!,
            Notebook = notebook,
            Cells = cells,
            Tool = InteractiveTool.Locate(Path.GetDirectoryName(input)!),
        };
        if (Options.Parameters.Count > 0) InjectParameters(plan);
        return plan;
    }

    private void InjectParameters(RunPlan plan)
    {
        var parametersCell = plan.Cells.FirstOrDefault(c => c.Cell.HasTag(NotebookParameters.ParametersTag))
            ?? throw new NotebookException($"{plan.Name} has no parameters cell, so --set has nothing to set: tag the cell that declares the defaults with \"{NotebookParameters.ParametersTag}\"");
        if (parametersCell.Kernel != "csharp")
            throw new NotebookException($"{plan.Name}: the parameters cell (code cell {parametersCell.Number}) is a {parametersCell.Kernel} cell; --set writes C#");
        // An injected cell from an earlier run is replaced, as papermill does.
        foreach (var old in plan.Cells.Where(c => c.Cell.HasTag(NotebookParameters.InjectedTag)).ToList())
        {
            plan.Cells.Remove(old);
            plan.Notebook.RemoveCellAt(IndexOf(plan.Notebook, old.Cell));
        }
        var declared = NotebookParameters.Parse(parametersCell.Cell.Source);
        var where = $"the parameters cell (code cell {parametersCell.Number})";
        var injected = new PlannedCell(NotebookCell.Code("", [NotebookParameters.InjectedTag], plan.Notebook.UsesCellIds ? Guid.NewGuid().ToString("N") : null),
            0, -1, "csharp");
        foreach (var declaration in declared)
        {
            if (!Options.Parameters.TryGetValue(declaration.Name, out var value)) continue;
            if (declaration.IsConst) throw new NotebookException($"{plan.Name}: {where} declares {declaration.Name} as const, so it cannot be set");
            if (declaration.Type is { } type)
            {
                try
                {
                    injected.Assignments.Add((declaration.Name, NotebookParameters.Literal(declaration.Name, value, type, declaration.TypeText)));
                    plan.ParameterRecord[declaration.Name] = RecordValue(type, value);
                }
                catch (ParameterValueException e)
                {
                    throw new NotebookException($"{plan.Name}: {e.Message}");
                }
            }
            else
            {
                injected.Pending.Add((declaration, value));
                plan.ParameterRecord[declaration.Name] = value;
            }
        }
        var names = declared.Select(d => d.Name).Distinct().ToList();
        var unknown = Options.Parameters.Keys.Where(k => !names.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new NotebookException($"{plan.Name}: unknown parameter{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown)}; {where} declares "
                + (names.Count == 0 ? "none" : string.Join(", ", names)));
        }
        injected.Cell.Source = InjectedSource(injected);
        plan.Notebook.InsertCell(IndexOf(plan.Notebook, parametersCell.Cell) + 1, injected.Cell);
        plan.Cells.Insert(plan.Cells.IndexOf(parametersCell) + 1, injected);
    }

    private static string InjectedSource(PlannedCell injected) => NotebookParameters.InjectedSource(
        injected.Assignments.Select(a => $"{a.Name} = {a.Literal};").Concat(injected.Pending.Select(p =>
            $"// {p.Parameter.Name}: {SymbolDisplay.FormatLiteral(p.Value, quote: true)}, typed once the parameters cell has run")));

    private static int IndexOf(Notebook notebook, NotebookCell cell)
    {
        for (var i = 0; i < notebook.Cells.Count; i++)
            if (ReferenceEquals(notebook.Cells[i], cell)) return i;
        throw new InvalidOperationException("the cell is not in the notebook");
    }

    private static JsonNode? RecordValue(Type type, string value)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        var invariant = CultureInfo.InvariantCulture;
        if (t == typeof(bool) && bool.TryParse(value.Trim(), out var b)) return b;
        if ((t == typeof(int) || t == typeof(long) || t == typeof(short) || t == typeof(byte) || t == typeof(sbyte) || t == typeof(ushort) || t == typeof(uint))
            && long.TryParse(value, NumberStyles.Integer, invariant, out var l)) return l;
        if ((t == typeof(double) || t == typeof(float) || t == typeof(decimal)) && double.TryParse(value, NumberStyles.Float, invariant, out var d) && double.IsFinite(d))
            return d;
        return value;
    }

    private static string DefaultKernel(Notebook notebook)
    {
        var metadata = notebook.Metadata;
        if (metadata["polyglot_notebook"]?["kernelInfo"]?["defaultKernelName"] is JsonValue k && k.TryGetValue(out string? kernel)) return kernel;
        if (metadata["kernelspec"] is JsonObject spec)
        {
            if (spec["name"] is JsonValue n && n.TryGetValue(out string? name)) return name;
            if (spec["language"] is JsonValue l && l.TryGetValue(out string? language)) return language;
        }
        return "csharp";
    }

    /// <summary>A kernel name as notebooks write it in metadata, normalised ("C#", ".net-csharp" → "csharp").</summary>
    internal static string NormalizeKernelName(string name) => name.Trim().ToLowerInvariant() switch
    {
        "c#" or "csharp" or ".net-csharp" => "csharp",
        "f#" or "fsharp" or ".net-fsharp" => "fsharp",
        "powershell" or "pwsh" or ".net-pwsh" or ".net-powershell" => "pwsh",
        var other => other,
    };

    private async Task<NotebookRunResult> ExecuteAsync(RunPlan plan, CancellationToken cancellationToken)
    {
        var log = Options.Log;
        var clock = Stopwatch.StartNew();
        var notebook = plan.Notebook;
        foreach (var cell in notebook.Cells.Where(c => c.IsCode))
        {
            cell.Json["outputs"] = new JsonArray();
            cell.ExecutionCount = null;
            cell.Metadata.Remove(RunMetadataKey);
        }
        var runRecord = Notebook.GetOrAddObject(notebook.Metadata, RunMetadataKey);
        runRecord["parameters"] = plan.ParameterRecord.DeepClone();
        runRecord["kernel"] = plan.Tool.Description.Split(" (")[0];
        runRecord["start_time"] = DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture);
        runRecord["end_time"] = null;
        runRecord["duration"] = null;
        runRecord["status"] = "running";
        runRecord.Remove("error");
        runRecord.Remove("input_path");
        runRecord.Remove("output_path");

        var runnable = plan.Cells.Where(c => c.Injected || !string.IsNullOrWhiteSpace(c.Cell.Source)).ToList();
        var outputs = new CellOutputs(Options.LogOutput ? log : null);
        var executed = 0;
        NotebookCellError? error = null;
        KernelProcess? kernel = null;
        try
        {
            log?.WriteLine($"  kernel: {plan.Tool.Description}");
            try
            {
                kernel = await KernelProcess.StartAsync(plan.Tool, plan.Directory, Options.KernelStartTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (KernelStartException e)
            {
                error = new NotebookCellError(plan.Name, 0, -1, false, NotebookErrorKind.KernelStart, "KernelStartError", e.Message, [], [e.Message]);
                return new NotebookRunResult(plan.InputPath, plan.OutputPath, 0, runnable.Count, clock.Elapsed, error);
            }
            foreach (var planned in runnable)
            {
                cancellationToken.ThrowIfCancellationRequested();
                executed++;
                planned.Cell.ExecutionCount = executed;
                outputs.StartCell(planned.Cell.Outputs);
                var cellStart = DateTimeOffset.UtcNow;
                var cellClock = Stopwatch.StartNew();
                error = await ExecuteCellAsync(plan, planned, kernel, outputs, executed, cancellationToken).ConfigureAwait(false);
                planned.Cell.Metadata[RunMetadataKey] = new JsonObject
                {
                    ["start_time"] = cellStart.ToString("o", CultureInfo.InvariantCulture),
                    ["duration"] = Math.Round(cellClock.Elapsed.TotalSeconds, 3),
                    ["status"] = error is null ? "completed" : "failed",
                };
                var label = planned.Injected ? "injected parameters" : $"code cell {planned.Number}";
                log?.WriteLine($"  [{executed}/{runnable.Count}] {label}: {(error is null ? "ok" : "failed")} ({cellClock.Elapsed.TotalSeconds:F1} s)");
                if (error is not null) break;
                notebook.Save(plan.OutputPath);
            }
        }
        finally
        {
            if (kernel is not null) await kernel.DisposeAsync().ConfigureAwait(false);
            runRecord["end_time"] = DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture);
            runRecord["duration"] = Math.Round(clock.Elapsed.TotalSeconds, 3);
            runRecord["status"] = error is not null ? "failed" : cancellationToken.IsCancellationRequested ? "cancelled" : executed == runnable.Count ? "completed" : "failed";
            if (error is not null) runRecord["error"] = error.Message;
            runRecord["parameters"] = plan.ParameterRecord.DeepClone();
            notebook.Save(plan.OutputPath);
        }
        return new NotebookRunResult(plan.InputPath, plan.OutputPath, executed, runnable.Count, clock.Elapsed, error);
    }

    private async Task<NotebookCellError?> ExecuteCellAsync(RunPlan plan, PlannedCell planned, KernelProcess kernel, CellOutputs outputs, int executionCount,
        CancellationToken cancellationToken)
    {
        NotebookCellError Fail(NotebookErrorKind kind, string name, string value, IReadOnlyList<string> traceback, IReadOnlyList<string>? diagnostics = null, int? line = null)
        {
            outputs.AddError(name, value, traceback);
            var index = planned.Injected ? IndexOf(plan.Notebook, planned.Cell) : planned.Index;
            return new NotebookCellError(plan.Name, planned.Number, index, planned.Injected, kind, name, value, diagnostics ?? [], traceback, line);
        }

        if (planned.Pending.Count > 0)
        {
            // The parameters cell has run: the kernel knows the types its declarations did not say.
            string? answer = null;
            var probe = await kernel.SubmitAsync(NotebookParameters.TypeProbe(planned.Pending.Select(p => p.Parameter.Name)), "csharp",
                (type, body) =>
                {
                    if (type == "ReturnValueProduced")
                        answer = (body["formattedValues"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(v => (string?)v["mimeType"] == "text/plain")?["value"]?.GetValue<string>();
                }, Options.CellTimeout, cancellationToken).ConfigureAwait(false);
            if (probe.Outcome != SubmissionOutcome.Succeeded || answer is null)
                return Fail(NotebookErrorKind.Parameters, "ParameterError", $"the kernel could not tell the parameters' types: {probe.Message}", [probe.Message ?? ""]);
            var types = answer.Split('\n');
            try
            {
                for (var i = 0; i < planned.Pending.Count; i++)
                {
                    var (parameter, value) = planned.Pending[i];
                    var type = KernelType.Parse(types[i].Trim());
                    planned.Assignments.Add((parameter.Name, NotebookParameters.Literal(parameter.Name, value, type, parameter.TypeText)));
                    if (type.Clr is { } clr) plan.ParameterRecord[parameter.Name] = RecordValue(clr, value);
                }
            }
            catch (ParameterValueException e)
            {
                return Fail(NotebookErrorKind.Parameters, "ParameterError", e.Message, [e.Message]);
            }
            planned.Pending.Clear();
        }
        if (planned.Injected) planned.Cell.Source = InjectedSource(planned);

        string? errorOutput = null;
        var result = await kernel.SubmitAsync(planned.Cell.Source, planned.Kernel, (type, body) =>
        {
            if (outputs.Add(type, body, executionCount) is { } message) errorOutput ??= message;
        }, Options.CellTimeout, cancellationToken).ConfigureAwait(false);
        return result.Outcome switch
        {
            SubmissionOutcome.Succeeded when errorOutput is null => null,
            SubmissionOutcome.Succeeded => FromMessage(errorOutput!),
            SubmissionOutcome.Failed => FromMessage(result.Message!),
            SubmissionOutcome.TimedOut => Fail(NotebookErrorKind.Timeout, "CellTimeout", result.Message!, [result.Message!]),
            _ => Fail(NotebookErrorKind.KernelExited, "KernelExited", result.Message!, [result.Message!]),
        };

        NotebookCellError FromMessage(string message)
        {
            var lines = message.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
            var diagnostics = lines.Where(l => Diagnostic().IsMatch(l)).ToList();
            if (diagnostics.Count > 0 && diagnostics.Count == lines.Count(l => l.Trim().Length > 0))
            {
                var value = string.Join("; ", diagnostics.Take(5)) + (diagnostics.Count > 5 ? $"; and {diagnostics.Count - 5} more" : "");
                var line = int.Parse(Diagnostic().Match(diagnostics[0]).Groups["line"].Value, CultureInfo.InvariantCulture);
                return Fail(NotebookErrorKind.Compilation, "CompilationError", value, diagnostics, diagnostics, line);
            }
            var first = ExceptionLine().Match(lines[0]);
            var name = first.Success ? first.Groups["type"].Value : "Error";
            var text = first.Success ? first.Groups["message"].Value : lines[0];
            int? at = SubmissionLine().Match(message) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;
            return Fail(NotebookErrorKind.Runtime, name, text, lines, line: at);
        }
    }

    [GeneratedRegex(@"^\s*\((?<line>\d+),(?<column>\d+)\): error [A-Z]+\d+:")]
    private static partial Regex Diagnostic();

    [GeneratedRegex(@"^(?<type>[A-Za-z_][\w.`+]*(?:Exception|Error)): (?<message>.*)$")]
    private static partial Regex ExceptionLine();

    [GeneratedRegex(@"at Submission#\d+\.[^\n]* in [^\n]*:line (\d+)")]
    private static partial Regex SubmissionLine();
}
