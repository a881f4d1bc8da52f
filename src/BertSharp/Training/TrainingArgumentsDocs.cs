using System.Reflection;
using System.Text.Json;
using System.Xml.Linq;

namespace BertSharp.Training;

/// <summary>One field of <see cref="TrainingArguments"/>: its C# name, Hugging Face's name, default and one-line doc.</summary>
public sealed record TrainingArgumentInfo(string Name, string HuggingFaceName, Type Type, object? Default, object? Value, string Summary);

/// <summary>
/// The fields of <see cref="TrainingArguments"/> with the one-line documentation written on each property, read from
/// the library's XML documentation file; the CLI's --help and the notebooks' glossary tables are made from it.
/// </summary>
public static class TrainingArgumentsDocs
{
    private static readonly Lazy<Dictionary<string, string>> Summaries = new(() => ReadSummaries(typeof(TrainingArguments).Assembly));

    public static IReadOnlyList<PropertyInfo> Properties { get; } = typeof(TrainingArguments)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.SetMethod is not null && p.GetCustomAttribute<System.Text.Json.Serialization.JsonIgnoreAttribute>() is null)
        .ToList();

    public static string Summary(PropertyInfo property) =>
        Summaries.Value.GetValueOrDefault($"P:{property.DeclaringType!.FullName}.{property.Name}", "");

    /// <summary>Every field with its default and, when given, the value in <paramref name="args"/>.</summary>
    public static IReadOnlyList<TrainingArgumentInfo> Describe(TrainingArguments? args = null)
    {
        var defaults = new TrainingArguments();
        return Properties.Select(p => new TrainingArgumentInfo(
            p.Name, JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name), p.PropertyType, p.GetValue(defaults),
            args is null ? null : p.GetValue(args), Summary(p))).ToList();
    }

    private static Dictionary<string, string> ReadSummaries(Assembly assembly)
    {
        var path = Path.ChangeExtension(assembly.Location, ".xml");
        if (string.IsNullOrEmpty(assembly.Location) || !File.Exists(path)) return new();
        return XDocument.Load(path).Descendants("member")
            .Where(m => m.Attribute("name") is not null && m.Element("summary") is not null)
            .ToDictionary(m => m.Attribute("name")!.Value,
                m => string.Join(" ", m.Element("summary")!.Value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)));
    }
}
