using System.Text;
using BertSharp.IO;

namespace BertSharp.Data;

/// <summary>RFC 4180 CSV (or TSV): a header row, fields optionally quoted, quotes doubled inside quoted fields.</summary>
internal static class DelimitedLoader
{
    public static TextClassificationDataset Load(string path, char delimiter, string textColumn, string labelColumn)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(textColumn);
        ArgumentNullException.ThrowIfNull(labelColumn);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such file.", path);
        var content = Utf8TextFile.ReadAllText(path);

        using var records = Parse(content, delimiter, path).GetEnumerator();
        if (!records.MoveNext())
            throw new InvalidDataException($"{path}: the dataset is empty (no header row).");
        var header = records.Current.Fields;
        var textIndex = ColumnIndex(header, textColumn, "text", path);
        var labelIndex = ColumnIndex(header, labelColumn, "label", path);

        var texts = new List<string>();
        var labels = new LabelResolver(path, $"label column '{labelColumn}'");
        while (records.MoveNext())
        {
            var (fields, line) = records.Current;
            if (fields.Count != header.Count)
                throw new InvalidDataException(
                    $"{path}: line {line}: {fields.Count} fields where the header has {header.Count}; a field with the delimiter, a quote or a line break in it must be quoted.");
            labels.Add(fields[labelIndex], line);
            texts.Add(fields[textIndex]);
        }
        return labels.Build(texts);
    }

    private static int ColumnIndex(List<string> header, string column, string role, string path)
    {
        var index = header.IndexOf(column);
        if (index < 0)
            throw new InvalidDataException(
                $"{path}: no {role} column '{column}'; the header has: {string.Join(", ", header)}.");
        return index;
    }

    /// <summary>Records with the 1-based line each starts on; blank lines are skipped as pandas does.</summary>
    private static IEnumerable<(List<string> Fields, int Line)> Parse(string content, char delimiter, string path)
    {
        var line = 1;
        var pos = 0;
        var field = new StringBuilder();
        while (pos < content.Length)
        {
            var recordLine = line;
            var fields = new List<string>();
            var blank = true;
            var endOfRecord = false;
            while (!endOfRecord)
            {
                field.Clear();
                if (pos < content.Length && content[pos] == '"')
                {
                    blank = false;
                    var quoteLine = line;
                    pos++;
                    while (true)
                    {
                        if (pos >= content.Length)
                            throw new InvalidDataException(
                                $"{path}: line {quoteLine}: the quoted field {fields.Count + 1} that starts here is never closed.");
                        var c = content[pos++];
                        if (c == '"')
                        {
                            if (pos < content.Length && content[pos] == '"')
                            {
                                field.Append('"');
                                pos++;
                                continue;
                            }
                            break;
                        }
                        if (c == '\n')
                            line++;
                        field.Append(c);
                    }
                    if (pos < content.Length && content[pos] != delimiter && content[pos] != '\r' && content[pos] != '\n')
                        throw new InvalidDataException(
                            $"{path}: line {line}: '{content[pos]}' after the closing quote of field {fields.Count + 1}; a quote inside a quoted field must be doubled (\"\").");
                }
                else
                {
                    while (pos < content.Length && content[pos] != delimiter && content[pos] != '\r' && content[pos] != '\n')
                    {
                        if (content[pos] == '"')
                            throw new InvalidDataException(
                                $"{path}: line {line}: a quote inside unquoted field {fields.Count + 1}; quote the whole field and double the quote (\"\").");
                        field.Append(content[pos++]);
                    }
                    if (field.Length > 0)
                        blank = false;
                }
                fields.Add(field.ToString());

                if (pos >= content.Length)
                    endOfRecord = true;
                else if (content[pos] == delimiter)
                {
                    blank = false;
                    pos++;
                }
                else
                {
                    // \r\n, \n or a lone \r ends the record.
                    if (content[pos] == '\r' && pos + 1 < content.Length && content[pos + 1] == '\n')
                        pos++;
                    pos++;
                    line++;
                    endOfRecord = true;
                }
            }
            if (!blank)
                yield return (fields, recordLine);
        }
    }
}
