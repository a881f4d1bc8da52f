using System.CommandLine;
using System.Reflection;
using System.Text;
using BertSharp.Training;

namespace BertSharp.Cli;

/// <summary>
/// One kebab-case option per <see cref="TrainingArguments"/> property (--learning-rate, --per-device-train-batch-size,
/// …), generated from the record itself so the CLI can never drift from the library; each option's help is the
/// property's one-line documentation.
/// </summary>
internal sealed class TrainingArgumentOptions
{
    private readonly List<(PropertyInfo Property, Option Option)> _options = [];
    private readonly TrainingArguments _defaults;

    public TrainingArgumentOptions(TrainingArguments defaults)
    {
        _defaults = defaults;
        foreach (var property in TrainingArgumentsDocs.Properties)
        {
            var option = (Option)Activator.CreateInstance(typeof(Option<>).MakeGenericType(property.PropertyType), "--" + KebabCase(property.Name), Array.Empty<string>())!;
            var summary = TrainingArgumentsDocs.Summary(property);
            var defaultValue = property.GetValue(defaults);
            option.Description = $"{summary} [default: {FormatDefault(defaultValue)}]";
            _options.Add((property, option));
        }
    }

    public IEnumerable<Option> Options => _options.Select(o => o.Option);

    /// <summary>The defaults with every option the user gave applied.</summary>
    public TrainingArguments Bind(ParseResult parse)
    {
        var args = _defaults with { };
        foreach (var (property, option) in _options)
        {
            var result = parse.GetResult(option);
            if (result is null || result.Implicit) continue;
            var value = typeof(ParseResult).GetMethods()
                .Single(m => m.Name == nameof(ParseResult.GetValue) && m.IsGenericMethod && m.GetParameters()[0].ParameterType.IsGenericType
                             && m.GetParameters()[0].ParameterType.GetGenericTypeDefinition() == typeof(Option<>))
                .MakeGenericMethod(property.PropertyType).Invoke(parse, [option]);
            property.SetValue(args, value);
        }
        return args;
    }

    public static string KebabCase(string name)
    {
        var text = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            // Digits stay with their word: AdamBeta1 → adam-beta1, Bf16 → bf16.
            if (char.IsUpper(name[i]) && i > 0) text.Append('-');
            text.Append(char.ToLowerInvariant(name[i]));
        }
        return text.ToString();
    }

    private static string FormatDefault(object? value) => value switch
    {
        null => "none",
        double d => d.ToString("G", System.Globalization.CultureInfo.InvariantCulture),
        Enum e => e.ToString().ToLowerInvariant(),
        bool b => b ? "true" : "false",
        _ => value.ToString()!,
    };
}
