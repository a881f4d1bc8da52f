namespace BertSharp.Data;

/// <summary>
/// Turns the labels of a text file into ids. Integer labels stay as they are; named labels get ids in ordinal
/// order of the distinct names (as <c>datasets</c>' <c>class_encode_column</c> does), so the same set of names
/// always gets the same ids whatever order the rows come in.
/// </summary>
internal static class LabelResolver
{
    public static TextClassificationDataset Build(string path, List<string> texts, List<string> rawLabels, bool allNamed)
    {
        if (texts.Count == 0)
            throw new InvalidDataException($"{path}: the dataset is empty (no data rows).");
        var examples = new TextExample[texts.Count];
        if (!allNamed)
        {
            for (var i = 0; i < examples.Length; i++)
                examples[i] = new TextExample(texts[i], int.Parse(rawLabels[i], System.Globalization.CultureInfo.InvariantCulture));
            return TextClassificationDataset.FromTrusted(examples, null, path);
        }
        var names = rawLabels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++)
            ids[names[i]] = i;
        for (var i = 0; i < examples.Length; i++)
            examples[i] = new TextExample(texts[i], ids[rawLabels[i]]);
        return TextClassificationDataset.FromTrusted(examples, Array.AsReadOnly(names), path);
    }

    public static bool IsInteger(string label) =>
        int.TryParse(label, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _);
}
