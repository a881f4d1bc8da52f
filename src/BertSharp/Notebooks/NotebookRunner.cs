using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace BertSharp.Notebooks;

/// <summary>
/// Runs Polyglot (.NET Interactive) C# notebooks without .NET Interactive, the way papermill runs Jupyter ones:
/// code cells in order in one Roslyn scripting state (so variables, usings and types carry over), outputs and
/// execution counts written into a copy of the notebook, parameters injected after the cell tagged
/// <c>parameters</c>, and the first failing cell ends the run (its error is in the written notebook too).
/// </summary>
/// <remarks>
/// A notebook's code runs in this process with the notebook's folder as the working directory, so runs are
/// serialised process-wide. A cell that exceeds the timeout is abandoned, not stopped (.NET cannot abort a thread):
/// it keeps running in the background until the process ends.
/// </remarks>
public sealed class NotebookRunner
{
    private static readonly SemaphoreSlim RunGate = new(1, 1);
    private static readonly string[] DefaultImports = ["System", "System.Linq", "System.Collections.Generic", "System.IO", "System.Threading.Tasks"];
    private const string RunMetadataKey = "bertsharp";

    public NotebookRunner(NotebookRunOptions? options = null)
    {
        Options = options ?? new NotebookRunOptions();
        if (Options.CellTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), "the cell timeout must be positive");
        if (Options.InPlace && Options.OutputDirectory is not null)
            throw new ArgumentException("write the executed notebook either to an output directory or in place, not both", nameof(options));
        foreach (var name in Options.Parameters.Keys)
        {
            if (!Microsoft.CodeAnalysis.CSharp.SyntaxFacts.IsValidIdentifier(name))
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
    /// Everything that can be checked without running code: the file is an nbformat 4 notebook, every code cell is
    /// C#, its directives and packages are supported, the parameters exist. Throws <see cref="NotebookException"/>.
    /// </summary>
    public void Check(string notebookPath) => Plan(notebookPath);

    /// <summary>Runs one notebook in a fresh scripting state and writes the executed copy (also when a cell fails).</summary>
    /// <exception cref="NotebookException">The notebook cannot be run (see <see cref="Check"/>); nothing was run or written.</exception>
    public async Task<NotebookRunResult> RunAsync(string notebookPath, CancellationToken cancellationToken = default)
    {
        var plan = Plan(notebookPath);
        await RunGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ExecuteAsync(plan, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            RunGate.Release();
        }
    }

    private sealed class PlannedCell(NotebookCell cell, int number, int index, PreparedCode code)
    {
        public NotebookCell Cell { get; } = cell;

        /// <summary>1-based among the input's code cells; 0 for the injected parameters cell.</summary>
        public int Number { get; } = number;

        /// <summary>Index in the input file's cells; -1 for the injected cell.</summary>
        public int Index { get; } = index;

        public PreparedCode Code { get; set; } = code;

        public bool Injected => Number == 0;

        public string Label => Injected ? "injected-parameters.csx" : $"code-cell-{Number}.csx";

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
        var defaultKernel = DefaultKernel(notebook);

        var cells = new List<PlannedCell>();
        var number = 0;
        for (var i = 0; i < notebook.Cells.Count; i++)
        {
            var cell = notebook.Cells[i];
            if (!cell.IsCode) continue;
            number++;
            var where = $"{name}: code cell {number} (cells[{i}])";
            var kernel = CellPreprocessor.NormalizeKernelName(cell.KernelName ?? defaultKernel);
            if (kernel != "csharp")
                throw new NotebookException($"{where} is a {kernel} cell; the notebook runner runs only C# cells (kernelName \"csharp\")");
            PreparedCode code;
            try
            {
                code = CellPreprocessor.Prepare(cell.Source);
            }
            catch (CellDirectiveException e)
            {
                throw new NotebookException($"{where}, {e.Message}");
            }
            foreach (var directive in code.Directives.Where(d => d.Kind == DirectiveKind.PackageReference))
            {
                if (RunnerAssemblies.Current.FindPackage(directive.Argument) is null)
                {
                    throw new NotebookException($"{where}, line {directive.Line}: package {directive.Argument} is not available to the notebook runner; "
                        + "reference a built DLL with #r \"path\" instead");
                }
            }
            cells.Add(new PlannedCell(cell, number, i, code));
        }

        var plan = new RunPlan
        {
            Name = name,
            InputPath = input,
            OutputPath = output,
            Directory = Path.GetDirectoryName(input)!,
            Notebook = notebook,
            Cells = cells,
        };
        if (Options.Parameters.Count > 0) InjectParameters(plan);
        return plan;
    }

    private void InjectParameters(RunPlan plan)
    {
        var parametersCell = plan.Cells.FirstOrDefault(c => c.Cell.HasTag(NotebookParameters.ParametersTag))
            ?? throw new NotebookException($"{plan.Name} has no parameters cell, so --set has nothing to set: tag the cell that declares the defaults with \"{NotebookParameters.ParametersTag}\"");
        // An injected cell from an earlier run is replaced, as papermill does.
        foreach (var old in plan.Cells.Where(c => c.Cell.HasTag(NotebookParameters.InjectedTag)).ToList())
        {
            plan.Cells.Remove(old);
            plan.Notebook.RemoveCellAt(IndexOf(plan.Notebook, old.Cell));
        }
        var declared = NotebookParameters.Parse(parametersCell.Code.Code);
        var where = $"the parameters cell (code cell {parametersCell.Number})";
        var injected = new PlannedCell(NotebookCell.Code("", [NotebookParameters.InjectedTag], plan.Notebook.UsesCellIds ? Guid.NewGuid().ToString("N") : null),
            0, -1, new PreparedCode("", []));
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
            $"// {p.Parameter.Name}: {Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(p.Value, quote: true)}, typed once the parameters cell has run")));

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

    /// <summary>What carries from cell to cell of one notebook.</summary>
    private sealed class Session(ScriptOptions options)
    {
        public NotebookGlobals? Globals { get; set; }
        public ScriptOptions Options { get; private set; } = options;
        public ScriptState<object>? State { get; set; }
        public CellOutputs? Current { get; set; }

        public void AddReferences(IEnumerable<MetadataReference> references)
        {
            var added = references.Where(r => !Options.MetadataReferences.Contains(r)).ToList();
            if (added.Count > 0) Options = Options.AddReferences(added);
        }
    }

    private async Task<NotebookRunResult> ExecuteAsync(RunPlan plan, CancellationToken cancellationToken)
    {
        var log = Options.Log;
        var startTime = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var notebook = plan.Notebook;
        foreach (var cell in notebook.Cells.Where(c => c.IsCode))
        {
            cell.Json["outputs"] = new JsonArray();
            cell.ExecutionCount = null;
        }
        var runRecord = Notebook.GetOrAddObject(notebook.Metadata, RunMetadataKey);
        runRecord["input_path"] = plan.InputPath;
        runRecord["output_path"] = plan.OutputPath;
        runRecord["parameters"] = plan.ParameterRecord.DeepClone();
        runRecord["start_time"] = startTime.ToString("o", CultureInfo.InvariantCulture);
        runRecord["end_time"] = null;
        runRecord["duration"] = null;
        runRecord["status"] = "running";
        runRecord.Remove("error");

        var runnable = plan.Cells.Where(c => c.Injected || c.Code.HasCode || c.Code.Directives.Count > 0).ToList();
        var executed = 0;
        var done = new List<(NotebookCell Cell, CellOutputs Outputs)>();
        void Save()
        {
            // Outputs of earlier cells change when a later cell updates a value they displayed.
            foreach (var (cell, cellOutputs) in done)
                if (cellOutputs.Changed) cell.Json["outputs"] = cellOutputs.ToJson();
            notebook.Save(plan.OutputPath);
        }
        NotebookCellError? error = null;
        Session? session = null;
        var formatters = Formatter.Snapshot();
        var previousDirectory = Directory.GetCurrentDirectory();
        using (ConsoleCapture.Install())
        {
            try
            {
                Directory.SetCurrentDirectory(plan.Directory);
                var baseOptions = ScriptOptions.Default
                    .WithReferences(RunnerAssemblies.Current.DefaultReferences)
                    .WithImports(DefaultImports)
                    .WithEmitDebugInformation(true)
                    .WithFileEncoding(Encoding.UTF8)
                    .WithSourceResolver(new SourceFileResolver([], plan.Directory))
                    .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(plan.Directory));
                var current = session = new Session(baseOptions);
                current.Globals = new NotebookGlobals(() => current.Current);
                foreach (var planned in runnable)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    executed++;
                    planned.Cell.ExecutionCount = executed;
                    var outputs = session.Current = new CellOutputs(Options.LogOutput ? log : null);
                    var cellStart = DateTimeOffset.UtcNow;
                    var cellClock = Stopwatch.StartNew();
                    try
                    {
                        error = await ExecuteCellAsync(plan, planned, session, outputs, executed, cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        outputs.Closed = true;
                        done.Add((planned.Cell, outputs));
                        planned.Cell.Metadata[RunMetadataKey] = new JsonObject
                        {
                            ["start_time"] = cellStart.ToString("o", CultureInfo.InvariantCulture),
                            ["duration"] = Math.Round(cellClock.Elapsed.TotalSeconds, 3),
                            ["status"] = error is null ? "completed" : "failed",
                        };
                    }
                    var label = planned.Injected ? "injected parameters" : $"code cell {planned.Number}";
                    log?.WriteLine($"  [{executed}/{runnable.Count}] {label}: {(error is null ? "ok" : "failed")} ({cellClock.Elapsed.TotalSeconds:F1} s)");
                    if (error is not null) break;
                    Save();
                }
            }
            finally
            {
                Directory.SetCurrentDirectory(previousDirectory);
                Formatter.Restore(formatters);
                if (session is not null) session.Current = null;
                runRecord["end_time"] = DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture);
                runRecord["duration"] = Math.Round(clock.Elapsed.TotalSeconds, 3);
                runRecord["status"] = error is not null ? "failed" : cancellationToken.IsCancellationRequested ? "cancelled" : executed == runnable.Count ? "completed" : "failed";
                if (error is not null) runRecord["error"] = error.Message;
                Save();
            }
        }
        return new NotebookRunResult(plan.InputPath, plan.OutputPath, executed, runnable.Count, clock.Elapsed, error);
    }

    private async Task<NotebookCellError?> ExecuteCellAsync(RunPlan plan, PlannedCell planned, Session session, CellOutputs outputs, int executionCount,
        CancellationToken cancellationToken)
    {
        NotebookCellError Fail(NotebookErrorKind kind, string name, string value, IReadOnlyList<string> traceback, IReadOnlyList<string>? diagnostics = null, int? line = null)
        {
            outputs.SetError(name, value, traceback);
            var index = planned.Injected ? IndexOf(plan.Notebook, planned.Cell) : planned.Index;
            return new NotebookCellError(plan.Name, planned.Number, index, planned.Injected, kind, name, value, diagnostics ?? [], traceback, line);
        }

        var where = planned.Injected ? $"{plan.Name}: injected parameters" : $"{plan.Name}: code cell {planned.Number}";
        foreach (var directive in planned.Code.Directives)
        {
            switch (directive.Kind)
            {
                case DirectiveKind.PackageSource:
                    Options.Log?.WriteLine($"note: {where}, line {directive.Line}: #i \"{directive.Argument}\" ignored (the runner uses only the packages it was built with)");
                    break;
                case DirectiveKind.PackageReference:
                    var package = RunnerAssemblies.Current.FindPackage(directive.Argument)!;
                    if (directive.Version is { } wanted && !VersionMatches(wanted, package.Version))
                        Options.Log?.WriteLine($"note: {where}, line {directive.Line}: {directive.Argument} {wanted} is satisfied by the runner's {package.Name} {package.Version}");
                    session.AddReferences(package.AssemblyPaths.Select(RunnerAssemblies.Current.Reference));
                    break;
                case DirectiveKind.AssemblyReference:
                    if (ResolveAssembly(plan, directive.Argument) is not { } path)
                    {
                        var full = Path.GetFullPath(Path.Combine(plan.Directory, directive.Argument));
                        var message = $"#r \"{directive.Argument}\" (line {directive.Line}): {full} does not exist";
                        return Fail(NotebookErrorKind.Directive, "FileNotFoundException", message, [message]);
                    }
                    session.AddReferences([RunnerAssemblies.Current.Reference(path)]);
                    break;
            }
        }

        if (planned.Pending.Count > 0)
        {
            try
            {
                foreach (var (parameter, value) in planned.Pending)
                {
                    var variable = session.State?.GetVariable(parameter.Name)
                        ?? throw new ParameterValueException($"parameter {parameter.Name} was not defined by the parameters cell");
                    planned.Assignments.Add((parameter.Name, NotebookParameters.Literal(parameter.Name, value, variable.Type, parameter.TypeText)));
                    plan.ParameterRecord[parameter.Name] = RecordValue(variable.Type, value);
                }
            }
            catch (ParameterValueException e)
            {
                return Fail(NotebookErrorKind.Parameters, "ParameterError", e.Message, [e.Message]);
            }
            finally
            {
                plan.Notebook.Metadata[RunMetadataKey]!["parameters"] = plan.ParameterRecord.DeepClone();
            }
            planned.Pending.Clear();
        }
        if (planned.Injected)
        {
            planned.Cell.Source = InjectedSource(planned);
            planned.Code = CellPreprocessor.Prepare(planned.Cell.Source);
        }
        if (!planned.Code.HasCode) return null;

        var options = session.Options.WithFilePath(planned.Label);
        var code = new MemoryStream(Encoding.UTF8.GetBytes(planned.Code.Code));
        var previous = session.State;
        Func<Task<ScriptState<object>>> run = previous is null
            ? () => CSharpScript.Create<object>(code, options, typeof(NotebookGlobals)).RunAsync(session.Globals!, null, cancellationToken)
            : () => previous.Script.ContinueWith<object>(code, options).RunFromAsync(previous, null, cancellationToken);
        var task = StartOnOwnThread(run, outputs);
        try
        {
            var timeout = Options.CellTimeout > TimeSpan.FromDays(24) ? Timeout.InfiniteTimeSpan : Options.CellTimeout;
            var state = await task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            session.State = state;
            if (state.ReturnValue is { } value and not DisplayedValue)
                outputs.SetResult(Formatter.Format(value), executionCount);
            return null;
        }
        catch (CompilationErrorException e)
        {
            var diagnostics = e.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(FormatDiagnostic).ToList();
            if (diagnostics.Count == 0) diagnostics.Add(e.Message);
            var value = string.Join("; ", diagnostics.Take(5)) + (diagnostics.Count > 5 ? $"; and {diagnostics.Count - 5} more" : "");
            return Fail(NotebookErrorKind.Compilation, "CompilationError", value, diagnostics, diagnostics);
        }
        catch (TimeoutException) when (!task.IsCompleted)
        {
            var message = $"did not finish within the cell timeout of {Options.CellTimeout.TotalSeconds:0.###} s";
            return Fail(NotebookErrorKind.Timeout, "CellTimeout", message, [message]);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outputs.SetError("Cancelled", "the run was cancelled", ["the run was cancelled"]);
            throw;
        }
        catch (Exception e)
        {
            var exception = Unwrap(e);
            // Stack frames name the cell by the path Roslyn gives it (the notebook's folder); the label alone says it.
            var traceback = Traceback(exception).Select(l => l.Replace(Path.Combine(plan.Directory, planned.Label), planned.Label, StringComparison.Ordinal)).ToList();
            var line = Regex.Match(string.Join('\n', traceback), $@" in {Regex.Escape(planned.Label)}:line (\d+)") is { Success: true } m
                ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : (int?)null;
            return Fail(NotebookErrorKind.Runtime, exception.GetType().FullName ?? exception.GetType().Name, exception.Message, traceback, line: line);
        }
    }

    /// <summary>
    /// Starts a cell on a thread of its own, so a cell that blocks (or loops) before its first await cannot hold
    /// up the timeout, and marks the thread (and everything it starts) as that cell's for console capture.
    /// </summary>
    private static Task<ScriptState<object>> StartOnOwnThread(Func<Task<ScriptState<object>>> run, CellOutputs outputs)
    {
        var started = new TaskCompletionSource<Task<ScriptState<object>>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            ConsoleCapture.Current = outputs;
            try
            {
                started.SetResult(run());
            }
            catch (Exception e)
            {
                started.SetException(e);
            }
        }, maxStackSize: 16 << 20)
        {
            IsBackground = true,
            Name = "notebook cell",
        };
        thread.Start();
        return started.Task.Unwrap();
    }

    /// <summary>
    /// The file a <c>#r</c> means. An assembly this process already has (the BertSharp library above all, wherever
    /// the notebook's path points, e.g. <c>../src/BertSharp/bin/Debug/net10.0/BertSharp.dll</c>) is the runner's own
    /// copy: a second copy could not be loaded beside it. Anything else is a path relative to the notebook's folder.
    /// </summary>
    private string? ResolveAssembly(RunPlan plan, string argument)
    {
        var isPath = argument.Contains('/') || argument.Contains('\\') || argument.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
            || argument.EndsWith(".exe", StringComparison.OrdinalIgnoreCase);
        var simpleName = isPath ? Path.GetFileNameWithoutExtension(argument) : argument;
        if (RunnerAssemblies.Current.FindAssemblyPath(simpleName) is { } own)
        {
            if (isPath && !string.Equals(simpleName, RunnerAssemblies.Library.GetName().Name, StringComparison.OrdinalIgnoreCase))
                Options.Log?.WriteLine($"note: {plan.Name}: #r \"{argument}\" uses the runner's own {Path.GetFileName(own)}");
            return own;
        }
        var full = Path.GetFullPath(Path.Combine(plan.Directory, argument));
        return File.Exists(full) ? full : null;
    }

    private static bool VersionMatches(string wanted, string actual) =>
        wanted.Contains('*') || wanted.StartsWith('[') || wanted.StartsWith('(') || string.Equals(wanted, actual, StringComparison.OrdinalIgnoreCase);

    private static string FormatDiagnostic(Diagnostic d)
    {
        if (!d.Location.IsInSource) return $"error {d.Id}: {d.GetMessage(CultureInfo.InvariantCulture)}";
        var start = d.Location.GetLineSpan().StartLinePosition;
        return $"({start.Line + 1},{start.Character + 1}): error {d.Id}: {d.GetMessage(CultureInfo.InvariantCulture)}";
    }

    private static Exception Unwrap(Exception e) => e switch
    {
        TargetInvocationException { InnerException: { } inner } => Unwrap(inner),
        AggregateException { InnerExceptions.Count: 1 } aggregate => Unwrap(aggregate.InnerExceptions[0]),
        _ => e,
    };

    /// <summary>The exception as .NET prints it, less the frames of the scripting engine and the runner.</summary>
    private static List<string> Traceback(Exception exception)
    {
        var lines = new List<string>();
        foreach (var raw in exception.ToString().Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Contains("Microsoft.CodeAnalysis.Scripting.", StringComparison.Ordinal)
                || line.Contains("BertSharp.Notebooks.NotebookRunner", StringComparison.Ordinal)
                || line.Contains("System.Threading.ExecutionContext.Run", StringComparison.Ordinal)
                || line.Contains("System.Threading.Thread.StartCallback", StringComparison.Ordinal)) continue;
            if (line.TrimStart().StartsWith("--- End of stack trace", StringComparison.Ordinal) && lines.LastOrDefault()?.TrimStart().StartsWith("--- End", StringComparison.Ordinal) == true)
                continue;
            lines.Add(line);
        }
        while (lines.Count > 0 && lines[^1].TrimStart().StartsWith("--- End of stack trace", StringComparison.Ordinal)) lines.RemoveAt(lines.Count - 1);
        return lines;
    }
}
