namespace BertSharp.Notebooks;

/// <summary>
/// The globals every cell sees, standing in for the functions Polyglot's C# kernel provides, so the same code runs
/// in VS Code and in the runner: <c>display(value)</c> and <c>HTML("...")</c>.
/// </summary>
#pragma warning disable IDE1006 // lower-case names: they are the names notebooks call in Polyglot.
public sealed class NotebookGlobals
{
    internal NotebookGlobals(Func<CellOutputs?> currentCell) => _currentCell = currentCell;

    private readonly Func<CellOutputs?> _currentCell;

    /// <summary>
    /// Adds an output to the running cell: the value formatted by <see cref="Formatter"/>, or, when MIME types are
    /// given, one representation per type (e.g. <c>display("&lt;b&gt;hi&lt;/b&gt;", "text/html")</c>).
    /// </summary>
    public DisplayedValue display(object? value, params string[] mimeTypes)
    {
        var cell = ConsoleCapture.Current ?? _currentCell()
            ?? throw new InvalidOperationException("display() can only be called while a notebook cell runs");
        IReadOnlyList<FormattedValue> data = mimeTypes is { Length: > 0 }
            ? mimeTypes.Distinct().Select(m => Formatter.Format(value, m)).ToList()
            : [Formatter.Format(value)];
        return cell.Display(data);
    }

    /// <summary>Text to be shown as HTML, as Polyglot's <c>HTML(...)</c>.</summary>
    public HtmlString HTML(string html) => new(html);
}
#pragma warning restore IDE1006
