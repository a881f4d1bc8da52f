namespace BertSharp.Notebooks;

/// <summary>
/// A notebook that cannot be run as given: not a notebook, an unknown or mistyped parameter, no kernel to run it in.
/// Raised before any cell runs; the message names the notebook and, where it applies, the cell.
/// </summary>
public class NotebookException(string message) : Exception(message);

/// <summary>A file that is not a readable nbformat 4 notebook (malformed JSON, missing or mistyped fields).</summary>
public sealed class NotebookFormatException(string message) : NotebookException(message);
