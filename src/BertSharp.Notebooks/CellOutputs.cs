using System.Text;
using System.Text.Json.Nodes;

namespace BertSharp.Notebooks;

/// <summary>
/// The nbformat outputs of one notebook run, built from the kernel's events as Jupyter and VS Code build them:
/// console text merged into <c>stream</c> outputs while the same stream keeps writing, <c>display_data</c> for
/// displayed values (replaced in place when the kernel updates them, also from a later cell), <c>execute_result</c>
/// for a cell's value, <c>error</c> for a failure.
/// </summary>
internal sealed class CellOutputs(TextWriter? echo)
{
    private readonly Dictionary<string, JsonObject> _displayed = new(StringComparer.Ordinal);
    private JsonArray _current = [];

    /// <summary>Starts collecting the outputs of the next cell into <paramref name="outputs"/>.</summary>
    public void StartCell(JsonArray outputs) => _current = outputs;

    /// <summary>Adds what one kernel event shows; returns the error message of an error event, else null.</summary>
    public string? Add(string eventType, JsonObject body, int executionCount)
    {
        switch (eventType)
        {
            case "StandardOutputValueProduced":
                Stream("stdout", Text(body));
                return null;
            case "StandardErrorValueProduced":
                Stream("stderr", Text(body));
                return null;
            case "DisplayedValueProduced":
                Display(body);
                return null;
            case "DisplayedValueUpdated":
                if (body["valueId"]?.GetValue<string>() is { } id && _displayed.TryGetValue(id, out var shown)) shown["data"] = Data(body);
                else Display(body);
                return null;
            case "ReturnValueProduced":
                if (Data(body) is { Count: > 0 } data)
                {
                    _current.Add(new JsonObject
                    {
                        ["data"] = data,
                        ["execution_count"] = executionCount,
                        ["metadata"] = new JsonObject(),
                        ["output_type"] = "execute_result",
                    });
                }
                return null;
            case "ErrorProduced":
                var message = body["message"]?.GetValue<string>() ?? Text(body);
                return message;
            default:
                return null;
        }
    }

    /// <summary>Adds an <c>error</c> output.</summary>
    public void AddError(string name, string value, IReadOnlyList<string> traceback) => _current.Add(new JsonObject
    {
        ["ename"] = name,
        ["evalue"] = value,
        ["output_type"] = "error",
        ["traceback"] = new JsonArray(traceback.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
    });

    private void Display(JsonObject body)
    {
        var data = Data(body);
        if (data.Count == 0) return;
        var output = new JsonObject
        {
            ["data"] = data,
            ["metadata"] = new JsonObject(),
            ["output_type"] = "display_data",
        };
        _current.Add(output);
        if (body["valueId"]?.GetValue<string>() is { } id) _displayed[id] = output;
    }

    private void Stream(string name, string text)
    {
        if (text.Length == 0) return;
        echo?.Write(text);
        if (_current.Count > 0 && _current[^1] is JsonObject last && (string?)last["output_type"] == "stream" && (string?)last["name"] == name)
        {
            var joined = new StringBuilder();
            foreach (var line in last["text"]!.AsArray()) joined.Append(line!.GetValue<string>());
            last["text"] = NotebookText.ToLines(joined.Append(text).ToString());
            return;
        }
        _current.Add(new JsonObject
        {
            ["name"] = name,
            ["output_type"] = "stream",
            ["text"] = NotebookText.ToLines(text),
        });
    }

    private static string Text(JsonObject body) => string.Concat(Values(body).Select(v => v.Value));

    /// <summary>A MIME bundle: text as nbformat's list of lines; images as the base64 text the kernel sends.</summary>
    private static JsonObject Data(JsonObject body)
    {
        var data = new JsonObject();
        foreach (var (mimeType, value) in Values(body))
            data[mimeType] = mimeType.StartsWith("image/", StringComparison.Ordinal) && mimeType != "image/svg+xml" ? value : NotebookText.ToLines(value);
        return data;
    }

    private static IEnumerable<(string MimeType, string Value)> Values(JsonObject body) =>
        (body["formattedValues"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .Where(v => v["suppressDisplay"]?.GetValue<bool>() != true)
            .Select(v => (v["mimeType"]?.GetValue<string>() ?? "text/plain", v["value"]?.GetValue<string>() ?? ""));
}
