using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using BertSharp.IO;

namespace BertSharp.Notebooks;

/// <summary>
/// A Jupyter notebook (nbformat 4) as its JSON tree. Only what the runner changes is touched: every other field
/// (notebook and cell metadata, cell ids, fields this class does not know) is written back as it was read.
/// </summary>
public sealed class Notebook
{
    private readonly List<NotebookCell> _cells;

    private Notebook(JsonObject root, string sourceName)
    {
        Json = root;
        SourceName = sourceName;
        _cells = [];
        var cells = (JsonArray)root["cells"]!;
        for (var i = 0; i < cells.Count; i++) _cells.Add(new NotebookCell((JsonObject)cells[i]!));
    }

    /// <summary>The whole document; changes made here are saved.</summary>
    public JsonObject Json { get; }

    /// <summary>The file name the notebook was read from (for messages).</summary>
    public string SourceName { get; }

    public IReadOnlyList<NotebookCell> Cells => _cells;

    public int FormatMinor => Json["nbformat_minor"] is JsonValue v && v.TryGetValue(out int minor) ? minor : 0;

    /// <summary>The notebook's <c>metadata</c> object (created when missing).</summary>
    public JsonObject Metadata => GetOrAddObject(Json, "metadata");

    /// <summary>Whether cells carry ids (nbformat 4.5 and later require them).</summary>
    public bool UsesCellIds => FormatMinor >= 5 || _cells.Any(c => c.Json.ContainsKey("id"));

    public static Notebook Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (FileNotFoundException) { throw new FileNotFoundException($"notebook {path} does not exist", path); }
        return Parse(text, Path.GetFileName(path));
    }

    /// <summary>Reads a notebook from its JSON text; <paramref name="sourceName"/> names it in error messages.</summary>
    public static Notebook Parse(string json, string sourceName = "notebook")
    {
        JsonNode? node;
        try
        {
            // JsonText: half a surrogate pair in a string would otherwise throw InvalidOperationException when read.
            node = JsonText.ParseNode(json, new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" (line {line + 1}, byte {e.BytePositionInLine + 1})" : "";
            throw new NotebookFormatException($"{sourceName} is not valid JSON{where}: {FirstLine(e.Message)}");
        }
        if (node is not JsonObject root) throw new NotebookFormatException($"{sourceName} is not a notebook: its JSON is not an object");
        if (root["nbformat"] is not JsonValue format || !format.TryGetValue(out int major))
            throw new NotebookFormatException($"{sourceName} is not a notebook: it has no \"nbformat\" number");
        if (major != 4) throw new NotebookFormatException($"{sourceName} is nbformat {major}; only nbformat 4 notebooks can be run");
        if (root["cells"] is not JsonArray cells) throw new NotebookFormatException($"{sourceName} is not a notebook: it has no \"cells\" array");
        if (root["metadata"] is { } metadata && metadata is not JsonObject)
            throw new NotebookFormatException($"{sourceName}: \"metadata\" is not an object");
        for (var i = 0; i < cells.Count; i++)
        {
            var where = $"{sourceName}: cells[{i}]";
            if (cells[i] is not JsonObject cell) throw new NotebookFormatException($"{where} is not an object");
            if (cell["cell_type"] is not JsonValue type || !type.TryGetValue(out string? cellType))
                throw new NotebookFormatException($"{where} has no \"cell_type\"");
            if (cellType is not ("code" or "markdown" or "raw"))
                throw new NotebookFormatException($"{where} has an unknown cell_type \"{cellType}\"");
            if (!IsSource(cell["source"])) throw new NotebookFormatException($"{where} has no \"source\" (a string or an array of strings)");
            if (cell["metadata"] is { } m && m is not JsonObject) throw new NotebookFormatException($"{where}: \"metadata\" is not an object");
            if (cellType == "code" && cell["outputs"] is { } outputs && outputs is not JsonArray)
                throw new NotebookFormatException($"{where}: \"outputs\" is not an array");
        }
        return new Notebook(root, sourceName);
    }

    public void InsertCell(int index, NotebookCell cell)
    {
        ((JsonArray)Json["cells"]!).Insert(index, cell.Json);
        _cells.Insert(index, cell);
    }

    public void RemoveCellAt(int index)
    {
        ((JsonArray)Json["cells"]!).RemoveAt(index);
        _cells.RemoveAt(index);
    }

    /// <summary>The notebook as Jupyter writes it: one-space indentation, non-ASCII and HTML kept readable, a final newline.</summary>
    public string ToJson()
    {
        var buffer = new MemoryStream();
        WriteTo(buffer);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Writes the notebook atomically (a temporary file, then a rename).</summary>
    public void Save(string path) => AtomicFile.Write(path, WriteTo);

    private void WriteTo(Stream stream)
    {
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions
        {
            Indented = true,
            IndentSize = 1,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
        {
            Json.WriteTo(writer);
        }
        stream.WriteByte((byte)'\n');
    }

    internal static JsonObject GetOrAddObject(JsonObject parent, string name)
    {
        if (parent[name] is JsonObject existing) return existing;
        var created = new JsonObject();
        parent[name] = created;
        return created;
    }

    private static bool IsSource(JsonNode? node) => node switch
    {
        JsonValue v => v.TryGetValue(out string? _),
        JsonArray a => a.All(x => x is JsonValue v && v.TryGetValue(out string? _)),
        _ => false,
    };

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
}

/// <summary>One cell of a <see cref="Notebook"/>, over its JSON object.</summary>
public sealed class NotebookCell
{
    internal NotebookCell(JsonObject json) => Json = json;

    public JsonObject Json { get; }

    public string CellType => Json["cell_type"]!.GetValue<string>();

    public bool IsCode => CellType == "code";

    /// <summary>The cell's text (nbformat stores it as one string or as a list of lines; either is read).</summary>
    public string Source
    {
        get => Json["source"] switch
        {
            JsonArray lines => string.Concat(lines.Select(l => l!.GetValue<string>())),
            JsonValue v => v.GetValue<string>(),
            _ => "",
        };
        set => Json["source"] = NotebookText.ToLines(value);
    }

    /// <summary>The cell's <c>metadata</c> object (created when missing).</summary>
    public JsonObject Metadata => Notebook.GetOrAddObject(Json, "metadata");

    public IReadOnlyList<string> Tags => Json["metadata"] is JsonObject m && m["tags"] is JsonArray tags
        ? tags.OfType<JsonValue>().Select(t => t.TryGetValue(out string? s) ? s : null).OfType<string>().ToList()
        : [];

    public bool HasTag(string tag) => Tags.Contains(tag);

    /// <summary>The .NET Interactive kernel this cell names in its metadata, if any (Polyglot, or the older dotnet_interactive key).</summary>
    public string? KernelName =>
        (Json["metadata"] as JsonObject)?["polyglot_notebook"]?["kernelName"] is JsonValue k && k.TryGetValue(out string? name) ? name
        : (Json["metadata"] as JsonObject)?["dotnet_interactive"]?["language"] is JsonValue l && l.TryGetValue(out string? language) ? language
        : null;

    public int? ExecutionCount
    {
        get => Json["execution_count"] is JsonValue v && v.TryGetValue(out int n) ? n : null;
        set => Json["execution_count"] = value is { } n ? JsonValue.Create(n) : null;
    }

    /// <summary>A code cell's outputs (created when missing).</summary>
    public JsonArray Outputs
    {
        get
        {
            if (Json["outputs"] is JsonArray outputs) return outputs;
            var created = new JsonArray();
            Json["outputs"] = created;
            return created;
        }
    }

    /// <summary>A new C# code cell in the Polyglot layout (<c>metadata.polyglot_notebook.kernelName = "csharp"</c>).</summary>
    public static NotebookCell Code(string source, IEnumerable<string>? tags = null, string? id = null)
    {
        var metadata = new JsonObject();
        if (tags is not null) metadata["tags"] = new JsonArray(tags.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray());
        metadata["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" };
        var json = new JsonObject();
        if (id is not null) json["id"] = id;
        json["cell_type"] = "code";
        json["execution_count"] = null;
        json["metadata"] = metadata;
        json["outputs"] = new JsonArray();
        json["source"] = NotebookText.ToLines(source);
        return new NotebookCell(json);
    }
}

/// <summary>nbformat's multi-line strings: a list of lines, each but the last ending in "\n".</summary>
internal static class NotebookText
{
    public static JsonArray ToLines(string text)
    {
        var lines = new JsonArray();
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOf('\n', start);
            if (end < 0) end = text.Length - 1;
            lines.Add(text[start..(end + 1)]);
            start = end + 1;
        }
        return lines;
    }
}
