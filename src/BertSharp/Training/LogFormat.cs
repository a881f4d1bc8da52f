using System.Globalization;

namespace BertSharp.Training;

/// <summary>Log entries printed as the Hugging Face Trainer prints them: a Python dict literal.</summary>
public static class LogFormat
{
    public static string Format(IReadOnlyDictionary<string, double> entry) =>
        "{" + string.Join(", ", entry.Where(kv => kv.Key != "step").Select(kv => $"'{kv.Key}': {Number(kv.Key, kv.Value)}")) + "}";

    private static string Number(string key, double value)
    {
        // transformers rounds the logged loss to 4 digits and the epoch to 2.
        if (key == "loss") value = Math.Round(value, 4);
        if (key == "epoch") value = Math.Round(value, 2);
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        // Python's repr: 1e-05 rather than 1E-05, and 3.0 rather than 3.
        if (text.Contains('E')) return text.Replace("E", "e").Replace("e-", "e-0").Replace("e-00", "e-0");
        return double.IsFinite(value) && !text.Contains('.') ? text + ".0" : text;
    }
}
