using System.Globalization;

namespace BertSharp.Data;

/// <summary>
/// Reads the label column of a text file, row by row, and turns it into ids. Integer labels stay as they are; named
/// labels get ids in ordinal order of the distinct names (as <c>datasets</c>' <c>class_encode_column</c> does), so the
/// same set of names always gets the same ids whatever order the rows come in — and a model's own <c>label2id</c> maps
/// them later (<see cref="TextClassificationDataset.WithLabelIds"/>).
/// </summary>
/// <remarks>
/// A label that is not a class is an error naming its line, because as a name it would silently become one more
/// class: empty, a missing-value marker (<c>NaN</c>, <c>null</c>, … as pandas reads CSV), a number that is not a whole
/// class id (<c>1.5</c>, <c>1e3</c>), or a name among integer ids (or the reverse).
/// </remarks>
internal sealed class LabelResolver(string path, string column)
{
    // pandas.read_csv's default na_values: what Python users' tools would have read as "no label".
    private static readonly HashSet<string> MissingMarkers = new(StringComparer.Ordinal)
    {
        "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL",
        "NaN", "None", "n/a", "nan", "null",
    };

    private readonly List<string> _raw = [];
    private bool? _named;
    private int _firstLine;
    private string? _first;

    /// <summary>A label written as text (a CSV field, or a JSON string): an integer id or a class name.</summary>
    public void Add(string raw, int line)
    {
        if (string.IsNullOrWhiteSpace(raw))
            throw Error(line, raw.Length == 0 ? "is empty; every row needs a label" : $"is '{raw}', only whitespace; every row needs a label");
        if (MissingMarkers.Contains(raw.Trim()))
            throw Error(line, $"is '{raw}', which marks a missing value, not a class; every row needs a label");
        if (int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id))
        {
            AddId(id, line, raw);
            return;
        }
        if (IsNumber(raw))
            throw Error(line, $"is '{raw}', a number but not a class id; labels are class ids (0, 1, …) or class names");
        Record(isName: true, line, raw);
        _raw.Add(raw);
    }

    /// <summary>A label that is already an integer id (a JSON number).</summary>
    public void AddId(int id, int line, string? written = null)
    {
        written ??= id.ToString(CultureInfo.InvariantCulture);
        Record(isName: false, line, written);
        _raw.Add(id.ToString(CultureInfo.InvariantCulture));
    }

    public TextClassificationDataset Build(List<string> texts)
    {
        if (texts.Count == 0)
            throw new InvalidDataException($"{path}: the dataset is empty (no data rows).");
        var examples = new TextExample[texts.Count];
        if (_named != true)
        {
            for (var i = 0; i < examples.Length; i++)
                examples[i] = new TextExample(texts[i], int.Parse(_raw[i], CultureInfo.InvariantCulture));
            return TextClassificationDataset.FromTrusted(examples, null, path, labelsFromNames: false);
        }
        var names = _raw.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++)
            ids[names[i]] = i;
        for (var i = 0; i < examples.Length; i++)
            examples[i] = new TextExample(texts[i], ids[_raw[i]]);
        return TextClassificationDataset.FromTrusted(examples, Array.AsReadOnly(names), path, labelsFromNames: true);
    }

    // Mixed ids and names cannot be reconciled without guessing which id a name means.
    private void Record(bool isName, int line, string raw)
    {
        if (_named is bool earlier && earlier != isName)
            throw Error(line, $"is '{raw}', {(isName ? "a class name" : "a class id")} here but {(earlier ? "names" : "integer ids")} on earlier lines " +
                              $"(line {_firstLine}: '{_first}'); use one or the other");
        if (_named is null) (_firstLine, _first) = (line, raw);
        _named = isName;
    }

    private InvalidDataException Error(int line, string problem) => new($"{path}: line {line}: {column} {problem}.");

    private static bool IsNumber(string raw)
    {
        var trimmed = raw.Trim();
        return double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
               || trimmed.TrimStart('+', '-').ToLowerInvariant() is "inf" or "infinity";
    }
}
