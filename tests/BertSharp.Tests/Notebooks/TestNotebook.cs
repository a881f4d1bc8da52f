using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace BertSharp.Tests.Notebooks;

/// <summary>A cell for <see cref="TestNotebook.Write"/>.</summary>
public sealed record TestCell(string CellType, string Source, string[]? Tags = null, string? Kernel = "csharp")
{
    public static TestCell Code(string source, params string[] tags) => new("code", source, tags.Length > 0 ? tags : null);

    public static TestCell Markdown(string source) => new("markdown", source, null, null);

    public static implicit operator TestCell(string code) => Code(code);
}

/// <summary>
/// Writes notebooks the way VS Code's Polyglot extension saves them (written here independently of the library's
/// own notebook class), and checks notebooks against nbformat 4's structure.
/// </summary>
public static class TestNotebook
{
    public static string Write(string directory, string name, params TestCell[] cells) => Write(directory, name, 2, null, cells);

    public static string Write(string directory, string name, int formatMinor, JsonObject? extraMetadata, params TestCell[] cells)
    {
        var cellArray = new JsonArray();
        var id = 0;
        foreach (var cell in cells)
        {
            var metadata = new JsonObject();
            if (cell.Kernel is not null) metadata["polyglot_notebook"] = new JsonObject { ["kernelName"] = cell.Kernel };
            if (cell.Tags is not null) metadata["tags"] = new JsonArray(cell.Tags.Select(t => (JsonNode?)t).ToArray());
            var json = new JsonObject();
            if (formatMinor >= 5) json["id"] = $"cell-{id++}";
            json["cell_type"] = cell.CellType;
            if (cell.CellType == "code") json["execution_count"] = null;
            json["metadata"] = metadata;
            if (cell.CellType == "code") json["outputs"] = new JsonArray();
            json["source"] = Lines(cell.Source);
            cellArray.Add(json);
        }
        var notebookMetadata = new JsonObject
        {
            ["kernelspec"] = new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" },
            ["language_info"] = new JsonObject { ["name"] = "polyglot-notebook" },
            ["polyglot_notebook"] = new JsonObject
            {
                ["kernelInfo"] = new JsonObject
                {
                    ["defaultKernelName"] = "csharp",
                    ["items"] = new JsonArray(new JsonObject { ["aliases"] = new JsonArray(), ["name"] = "csharp" }),
                },
            },
        };
        foreach (var (key, value) in extraMetadata ?? []) notebookMetadata[key] = value?.DeepClone();
        var notebook = new JsonObject
        {
            ["cells"] = cellArray,
            ["metadata"] = notebookMetadata,
            ["nbformat"] = 4,
            ["nbformat_minor"] = formatMinor,
        };
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, notebook.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }

    public static JsonObject Read(string path) => (JsonObject)JsonNode.Parse(File.ReadAllText(path))!;

    public static List<JsonObject> CodeCells(JsonObject notebook) =>
        ((JsonArray)notebook["cells"]!).Cast<JsonObject>().Where(c => (string)c["cell_type"]! == "code").ToList();

    public static string Text(JsonNode? multiline) => multiline switch
    {
        JsonArray lines => string.Concat(lines.Select(l => (string)l!)),
        JsonValue v => (string)v!,
        _ => throw new InvalidOperationException("not a multi-line string"),
    };

    public static JsonArray Outputs(JsonObject cell) => (JsonArray)cell["outputs"]!;

    private static JsonArray Lines(string text)
    {
        var lines = new JsonArray();
        foreach (var line in Regex.Split(text, "(?<=\n)").Where(l => l.Length > 0)) lines.Add(line);
        return lines;
    }

    /// <summary>
    /// nbformat 4's JSON schema, structurally: required and allowed keys and their types for the notebook, each cell
    /// type and each output type, and cell ids where nbformat 4.5+ requires them.
    /// </summary>
    public static void AssertValidNbformat4(JsonObject notebook)
    {
        AssertKeys(notebook, "notebook", ["cells", "metadata", "nbformat", "nbformat_minor"], []);
        Assert.Equal(4, (int)notebook["nbformat"]!);
        var minor = (int)notebook["nbformat_minor"]!;
        Assert.True(minor >= 0);
        Assert.IsType<JsonObject>(notebook["metadata"]);
        var ids = new HashSet<string>();
        foreach (var (cell, i) in ((JsonArray)notebook["cells"]!).Select((c, i) => (Assert.IsType<JsonObject>(c), i)))
        {
            var where = $"cells[{i}]";
            var type = (string)cell["cell_type"]!;
            string[] required = type switch
            {
                "code" => ["cell_type", "metadata", "source", "outputs", "execution_count"],
                "markdown" or "raw" => ["cell_type", "metadata", "source"],
                _ => throw new Xunit.Sdk.XunitException($"{where}: unknown cell_type {type}"),
            };
            AssertKeys(cell, where, required, type == "code" ? ["id"] : ["id", "attachments"]);
            if (minor >= 5)
            {
                var id = (string?)cell["id"] ?? throw new Xunit.Sdk.XunitException($"{where}: nbformat 4.{minor} requires a cell id");
                Assert.Matches("^[a-zA-Z0-9-_]{1,64}$", id);
                Assert.True(ids.Add(id), $"{where}: duplicate cell id {id}");
            }
            Assert.IsType<JsonObject>(cell["metadata"]);
            AssertMultiline(cell["source"], $"{where}.source");
            if (type != "code") continue;
            if (cell["execution_count"] is { } count) Assert.True((int)count >= 0);
            foreach (var (output, j) in ((JsonArray)cell["outputs"]!).Select((o, j) => (Assert.IsType<JsonObject>(o), j)))
            {
                var at = $"{where}.outputs[{j}]";
                switch ((string)output["output_type"]!)
                {
                    case "stream":
                        AssertKeys(output, at, ["output_type", "name", "text"], []);
                        Assert.Contains((string)output["name"]!, new[] { "stdout", "stderr" });
                        AssertMultiline(output["text"], at);
                        break;
                    case "display_data":
                        AssertKeys(output, at, ["output_type", "data", "metadata"], ["transient"]);
                        AssertMimeBundle(output, at);
                        break;
                    case "execute_result":
                        AssertKeys(output, at, ["output_type", "data", "metadata", "execution_count"], []);
                        AssertMimeBundle(output, at);
                        break;
                    case "error":
                        AssertKeys(output, at, ["output_type", "ename", "evalue", "traceback"], []);
                        Assert.IsType<string>((string?)output["ename"]);
                        Assert.IsType<string>((string?)output["evalue"]);
                        Assert.All(Assert.IsType<JsonArray>(output["traceback"]), t => Assert.IsType<string>((string?)t));
                        break;
                    default:
                        throw new Xunit.Sdk.XunitException($"{at}: unknown output_type {output["output_type"]}");
                }
            }
        }
    }

    private static void AssertMimeBundle(JsonObject output, string at)
    {
        Assert.IsType<JsonObject>(output["metadata"]);
        foreach (var (mime, value) in Assert.IsType<JsonObject>(output["data"]))
        {
            Assert.Matches("^[a-z]+/[a-zA-Z0-9.+-]+$", mime);
            if (!mime.EndsWith("json", StringComparison.Ordinal)) AssertMultiline(value, $"{at}.data[{mime}]");
        }
    }

    private static void AssertMultiline(JsonNode? node, string at)
    {
        switch (node)
        {
            case JsonValue v: Assert.True(v.TryGetValue(out string? _), $"{at}: not a string"); break;
            case JsonArray a: Assert.All(a, l => Assert.True(l is JsonValue lv && lv.TryGetValue(out string? _), $"{at}: not a list of strings")); break;
            default: throw new Xunit.Sdk.XunitException($"{at}: not a multi-line string");
        }
    }

    private static void AssertKeys(JsonObject json, string at, string[] required, string[] optional)
    {
        foreach (var key in required) Assert.True(json.ContainsKey(key), $"{at}: missing \"{key}\"");
        foreach (var (key, _) in json) Assert.True(required.Contains(key) || optional.Contains(key), $"{at}: \"{key}\" is not allowed by nbformat 4");
    }
}
