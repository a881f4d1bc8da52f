using System.Text.Json;

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
        var labels = new List<string>();
        bool? named = null;
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(line);
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
                string raw;
                bool isName;
                switch (label.ValueKind)
                {
                    case JsonValueKind.Number when label.TryGetInt32(out var id):
                        raw = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
                        isName = false;
                        break;
                    case JsonValueKind.String:
                        raw = label.GetString()!;
                        isName = true;
                        break;
                    default:
                        throw new InvalidDataException(
                            $"{path}: line {lineNumber}: label field '{labelField}' must be an integer or a class name, found {(label.ValueKind == JsonValueKind.Number ? label.GetRawText() : Kind(label.ValueKind))}.");
                }
                // Mixed ids and names cannot be reconciled without guessing which id a name means.
                if (named is bool earlier && earlier != isName)
                    throw new InvalidDataException(
                        $"{path}: line {lineNumber}: label field '{labelField}' is {(isName ? "a name" : "an integer")} here but {(earlier ? "names" : "integers")} on earlier lines; use one or the other.");
                named = isName;
                texts.Add(text.GetString()!);
                labels.Add(raw);
            }
        }
        return LabelResolver.Build(path, texts, labels, allNamed: named == true);
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
