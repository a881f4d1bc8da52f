namespace BertSharp.Notebooks;

/// <summary>How <see cref="NotebookRunner"/> runs notebooks and where it writes them.</summary>
public sealed record NotebookRunOptions
{
    /// <summary>Values for the variables of the cell tagged <c>parameters</c> (papermill's <c>-p name value</c>), as text typed by the declarations.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary>The folder the executed notebook is written to, under the input's file name. Either this or <see cref="InPlace"/>.</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>Overwrite the input notebook with the executed one.</summary>
    public bool InPlace { get; init; }

    /// <summary>The longest one cell may run (the default is 10 minutes).</summary>
    public TimeSpan CellTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long the kernel may take to start (it restores nothing yet; packages come with the cells).</summary>
    public TimeSpan KernelStartTimeout { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>Progress and notes (the kernel used, one line per executed cell); null for none.</summary>
    public TextWriter? Log { get; init; }

    /// <summary>Also copy what cells write to the console to <see cref="Log"/> as it happens (papermill's --log-output).</summary>
    public bool LogOutput { get; init; }
}

/// <summary>The outcome of running one notebook.</summary>
/// <param name="InputPath">The notebook that was run (full path).</param>
/// <param name="OutputPath">Where the executed notebook was written (also when a cell failed).</param>
/// <param name="CellsExecuted">Code cells that ran (the injected-parameters cell included), the failed one included.</param>
/// <param name="CodeCells">Code cells the run had to execute.</param>
/// <param name="Duration">From the first cell to the written notebook.</param>
/// <param name="Error">Why the run stopped early; null when every cell ran.</param>
public sealed record NotebookRunResult(string InputPath, string OutputPath, int CellsExecuted, int CodeCells, TimeSpan Duration, NotebookCellError? Error)
{
    public bool Succeeded => Error is null;
}

public enum NotebookErrorKind
{
    /// <summary>The cell did not compile (<see cref="NotebookCellError.Diagnostics"/> has the compiler's errors).</summary>
    Compilation,

    /// <summary>The cell threw an exception, or the kernel reported another failure (a package that did not restore, a missing DLL).</summary>
    Runtime,

    /// <summary>The kernel process ended while the cell ran (e.g. the cell called <c>Environment.Exit</c>).</summary>
    KernelExited,

    /// <summary>The kernel process could not be started.</summary>
    KernelStart,

    /// <summary>A <c>--set</c> value did not fit the type its parameter turned out to have.</summary>
    Parameters,

    /// <summary>The cell ran longer than <see cref="NotebookRunOptions.CellTimeout"/> (the kernel was stopped).</summary>
    Timeout,
}

/// <summary>
/// Why a run stopped. <paramref name="CellNumber"/> counts the input's code cells from 1 (0 for the injected
/// parameters cell, and for a kernel that did not start); <paramref name="CellIndex"/> is the cell's index in the input
/// file's <c>cells</c> array (its index in the output notebook for the injected cell); <paramref name="Line"/> is the
/// line of the cell an error points at, when the kernel tells. <see cref="Message"/> says it all in one line.
/// </summary>
public sealed record NotebookCellError(
    string Notebook,
    int CellNumber,
    int CellIndex,
    bool InjectedParameters,
    NotebookErrorKind Kind,
    string ErrorName,
    string ErrorValue,
    IReadOnlyList<string> Diagnostics,
    IReadOnlyList<string> Traceback,
    int? Line = null)
{
    public string Cell => Kind == NotebookErrorKind.KernelStart ? "the kernel"
        : InjectedParameters ? $"the injected-parameters cell (cells[{CellIndex}] of the output)" : $"code cell {CellNumber} (cells[{CellIndex}])";

    public string Message => $"{Notebook}: {Cell} failed: {Detail.ReplaceLineEndings(" ")}";

    private string Detail => Kind == NotebookErrorKind.Runtime
        ? $"{ErrorName}: {ErrorValue}{(Line is { } line ? $" (line {line} of the cell)" : "")}"
        : ErrorValue;
}
