using System.Text.Json;

namespace BertSharp.Cli;

/// <summary>The texts a command works on: one from --text, or one JSON string per line of a .jsonl file.</summary>
public static class TextInputs
{
    public static IReadOnlyList<string> Read(string? text, FileInfo? file)
    {
        if ((text is null) == (file is null))
            throw new CliUsageException("give exactly one of --text or --file");
        if (text is not null) return [text];

        if (!file!.Exists) throw new FileNotFoundException($"input file '{file.FullName}' does not exist", file.FullName);
        var texts = new List<string>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(file.FullName))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{file.FullName}:{lineNumber}: expected a JSON string, got {doc.RootElement.ValueKind}");
                texts.Add(doc.RootElement.GetString()!);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{file.FullName}:{lineNumber}: not a JSON string ({e.Message})", e);
            }
        }
        if (texts.Count == 0) throw new InvalidDataException($"{file.FullName}: no texts (expected one JSON string per line)");
        return texts;
    }
}
