using System.Text.Json;
using BertSharp.IO;

namespace BertSharp.Cli;

/// <summary>The texts a command works on: one from --text, or one JSON string per line of a .jsonl file.</summary>
public static class TextInputs
{
    /// <remarks>
    /// Blank lines are skipped; anything else that is not a usable text is an error naming its line, because a
    /// prediction for it would be a number about nothing: invalid UTF-8 (it used to become U+FFFD), half a surrogate
    /// pair, or — unless <paramref name="allowEmpty"/> (tokenize: what [CLS] [SEP] alone looks like is a fair question) —
    /// a string that is empty or only whitespace (the server refuses those too).
    /// </remarks>
    public static IReadOnlyList<string> Read(string? text, FileInfo? file, bool allowEmpty = false)
    {
        if ((text is null) == (file is null))
            throw new CliUsageException("give exactly one of --text or --file");
        if (text is not null)
            return !allowEmpty && string.IsNullOrWhiteSpace(text) ? throw new CliUsageException("--text is empty or only whitespace; give a text to process") : [text];

        if (!file!.Exists) throw new FileNotFoundException($"input file '{file.FullName}' does not exist", file.FullName);
        var texts = new List<string>();
        var lineNumber = 0;
        foreach (var line in Utf8TextFile.ReadLines(file.FullName))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string value;
            try
            {
                using var doc = JsonText.ParseDocument(line);
                if (doc.RootElement.ValueKind != JsonValueKind.String)
                    throw new InvalidDataException($"{file.FullName}: line {lineNumber}: expected a JSON string, got {doc.RootElement.ValueKind}");
                value = doc.RootElement.GetString()!;
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{file.FullName}: line {lineNumber}: not a JSON string ({e.Message})", e);
            }
            if (!allowEmpty && string.IsNullOrWhiteSpace(value))
                throw new InvalidDataException($"{file.FullName}: line {lineNumber}: the text is empty or only whitespace");
            texts.Add(value);
        }
        if (texts.Count == 0) throw new InvalidDataException($"{file.FullName}: no texts (expected one JSON string per line)");
        return texts;
    }
}
