using System.Text.Json;
using BertSharp.IO;

namespace BertSharp.Data;

/// <summary>JSON Lines: one object per line, blank lines ignored.</summary>
internal static class JsonlLoader
{
    public static TextClassificationDataset Load(string path, string textField, string labelField)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(textField);
        ArgumentNullException.ThrowIfNull(labelField);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such file.", path);

        var texts = new List<string>();
        var labels = new LabelResolver(path, $"label field '{labelField}'");
        var lineNumber = 0;
        foreach (var line in Utf8TextFile.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            JsonDocument doc;
            try
            {
                // JsonText: a string with half a surrogate pair is malformed here, not a crash when it is read.
                doc = JsonText.ParseDocument(line);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{path}: line {lineNumber}: not valid JSON: {ex.Message}", ex);
            }
            using (doc)
            {
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                    throw new InvalidDataException($"{path}: line {lineNumber}: expected a JSON object, found {Kind(root.ValueKind)}.");
                var text = Get(root, textField, "text", path, lineNumber);
                if (text.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException(
                        $"{path}: line {lineNumber}: text field '{textField}' must be a string, found {Kind(text.ValueKind)}.");
                var label = Get(root, labelField, "label", path, lineNumber);
                switch (label.ValueKind)
                {
                    case JsonValueKind.Number when label.TryGetInt32(out var id):
                        labels.AddId(id, lineNumber);
                        break;
                    case JsonValueKind.String:
                        labels.Add(label.GetString()!, lineNumber);
                        break;
                    default:
                        throw new InvalidDataException(
                            $"{path}: line {lineNumber}: label field '{labelField}' must be an integer or a class name, found {(label.ValueKind == JsonValueKind.Number ? label.GetRawText() : Kind(label.ValueKind))}.");
                }
                texts.Add(text.GetString()!);
            }
        }
        return labels.Build(texts);
    }

    private static JsonElement Get(JsonElement obj, string name, string role, string path, int line)
    {
        if (obj.TryGetProperty(name, out var value))
            return value;
        var present = obj.EnumerateObject().Select(p => p.Name).ToList();
        throw new InvalidDataException(
            $"{path}: line {line}: no {role} field '{name}'; the object has: {(present.Count == 0 ? "no fields" : string.Join(", ", present))}.");
    }

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Null => "null",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Number => "a number",
        JsonValueKind.String => "a string",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => kind.ToString(),
    };
}
