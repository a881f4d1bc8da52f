using System.Text;
using System.Text.Json.Nodes;

namespace BertSharp.Notebooks;

/// <summary>
/// The outputs of one running cell in the order they happen: console text (merged into one <c>stream</c> output
/// while the same stream keeps writing), <c>display</c> calls, the final value, an error.
/// </summary>
internal sealed class CellOutputs(TextWriter? echo)
{
    private abstract class Item;

    private sealed class StreamItem(string name) : Item
    {
        public string Name { get; } = name;
        public StringBuilder Text { get; } = new();
    }

    private sealed class DataItem(IReadOnlyList<FormattedValue> data, int? executionCount) : Item
    {
        public IReadOnlyList<FormattedValue> Data { get; set; } = data;
        public int? ExecutionCount { get; } = executionCount;
    }

    private sealed class ErrorItem(string name, string value, IReadOnlyList<string> traceback) : Item
    {
        public string Name { get; } = name;
        public string Value { get; } = value;
        public IReadOnlyList<string> Traceback { get; } = traceback;
    }

    private readonly object _gate = new();
    private readonly List<Item> _items = [];

    /// <summary>Set when the cell has finished: console text written later goes to the real console instead.</summary>
    public bool Closed { get; set; }

    /// <summary>Whether anything changed since the last <see cref="ToJson"/> (a later cell can update a displayed value).</summary>
    public bool Changed { get; private set; } = true;

    public void Write(string stream, string text)
    {
        if (text.Length == 0) return;
        lock (_gate)
        {
            if (_items.LastOrDefault() is not StreamItem last || last.Name != stream)
            {
                last = new StreamItem(stream);
                _items.Add(last);
            }
            last.Text.Append(text);
            Changed = true;
        }
        echo?.Write(text);
    }

    public DisplayedValue Display(IReadOnlyList<FormattedValue> data)
    {
        var item = new DataItem(data, null);
        lock (_gate)
        {
            _items.Add(item);
            Changed = true;
        }
        return new DisplayedValue(this, item);
    }

    public void SetResult(FormattedValue value, int executionCount)
    {
        lock (_gate)
        {
            _items.Add(new DataItem([value], executionCount));
            Changed = true;
        }
    }

    public void SetError(string name, string value, IReadOnlyList<string> traceback)
    {
        lock (_gate)
        {
            _items.Add(new ErrorItem(name, value, traceback));
            Changed = true;
        }
    }

    internal void Update(object item, IReadOnlyList<FormattedValue> data)
    {
        lock (_gate)
        {
            ((DataItem)item).Data = data;
            Changed = true;
        }
    }

    /// <summary>The outputs as nbformat 4 output objects.</summary>
    public JsonArray ToJson()
    {
        var outputs = new JsonArray();
        lock (_gate)
        {
            Changed = false;
            foreach (var item in _items)
            {
                outputs.Add(item switch
                {
                    StreamItem s => new JsonObject
                    {
                        ["name"] = s.Name,
                        ["output_type"] = "stream",
                        ["text"] = NotebookText.ToLines(s.Text.ToString()),
                    },
                    DataItem d when d.ExecutionCount is { } n => new JsonObject
                    {
                        ["data"] = Data(d.Data),
                        ["execution_count"] = n,
                        ["metadata"] = new JsonObject(),
                        ["output_type"] = "execute_result",
                    },
                    DataItem d => new JsonObject
                    {
                        ["data"] = Data(d.Data),
                        ["metadata"] = new JsonObject(),
                        ["output_type"] = "display_data",
                    },
                    ErrorItem e => new JsonObject
                    {
                        ["ename"] = e.Name,
                        ["evalue"] = e.Value,
                        ["output_type"] = "error",
                        ["traceback"] = new JsonArray(e.Traceback.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
                    },
                    _ => throw new InvalidOperationException(),
                });
            }
        }
        return outputs;
    }

    private static JsonObject Data(IReadOnlyList<FormattedValue> values)
    {
        var data = new JsonObject();
        foreach (var v in values) data[v.MimeType] = NotebookText.ToLines(v.Text);
        return data;
    }
}

/// <summary>What <c>display(x)</c> returns: <see cref="Update"/> replaces that output with another value, as in Polyglot.</summary>
public sealed class DisplayedValue
{
    private readonly CellOutputs _outputs;
    private readonly object _item;

    internal DisplayedValue(CellOutputs outputs, object item)
    {
        _outputs = outputs;
        _item = item;
    }

    public void Update(object? value) => _outputs.Update(_item, [Formatter.Format(value)]);

    public override string ToString() => "DisplayedValue";
}

/// <summary>
/// Sends console output written by a cell (and by tasks and threads it starts) to that cell's outputs. The cell is
/// found through an <see cref="AsyncLocal{T}"/>, so anything else writing to the console meanwhile is not captured.
/// </summary>
internal static class ConsoleCapture
{
    private static readonly AsyncLocal<CellOutputs?> CurrentCell = new();
    private static readonly object Gate = new();
    private static int _active;
    private static TextWriter? _originalOut, _originalError, _installedOut, _installedError;

    public static CellOutputs? Current
    {
        get => CurrentCell.Value;
        set => CurrentCell.Value = value;
    }

    /// <summary>Routes the console through the capture until the returned object is disposed (nested uses are counted).</summary>
    public static IDisposable Install()
    {
        lock (Gate)
        {
            if (_active++ == 0)
            {
                _originalOut = Console.Out;
                _originalError = Console.Error;
                Console.SetOut(new RoutingWriter("stdout", _originalOut));
                Console.SetError(new RoutingWriter("stderr", _originalError));
                _installedOut = Console.Out;
                _installedError = Console.Error;
            }
        }
        return new Uninstall();
    }

    private sealed class Uninstall : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
            lock (Gate)
            {
                if (--_active > 0) return;
                // Put the console back only if nobody replaced it meanwhile.
                if (ReferenceEquals(Console.Out, _installedOut)) Console.SetOut(_originalOut!);
                if (ReferenceEquals(Console.Error, _installedError)) Console.SetError(_originalError!);
            }
        }
    }

    private sealed class RoutingWriter(string stream, TextWriter fallback) : TextWriter
    {
        public override Encoding Encoding => fallback.Encoding;

        public override IFormatProvider FormatProvider => fallback.FormatProvider;

        public override void Write(char value) => Route(value.ToString());

        public override void Write(string? value)
        {
            if (value is not null) Route(value);
        }

        public override void Write(char[] buffer, int index, int count) => Route(new string(buffer, index, count));

        public override void Write(ReadOnlySpan<char> buffer) => Route(new string(buffer));

        public override void WriteLine(string? value) => Route((value ?? "") + NewLine);

        public override void WriteLine(ReadOnlySpan<char> buffer) => Route(new string(buffer) + NewLine);

        public override void Flush() => fallback.Flush();

        private void Route(string text)
        {
            if (CurrentCell.Value is { Closed: false } cell) cell.Write(stream, text);
            else fallback.Write(text);
        }
    }
}
