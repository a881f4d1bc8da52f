using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace BertSharp.Notebooks;

/// <summary>A value rendered for a notebook output: its MIME type and text.</summary>
public sealed record FormattedValue(string MimeType, string Text);

/// <summary>
/// How <c>display(x)</c> and a cell's final expression become notebook outputs, like .NET Interactive's formatters:
/// a formatter registered for the value's type (or a base type or interface) wins; then a value with a public
/// <c>string ToHtml()</c> method (or an <see cref="HtmlString"/>) gives <c>text/html</c>; anything else gives
/// <c>text/plain</c> (<see cref="ToPlainText"/>). When <c>BertSharp.Charts.ChartRenderer.ToHtmlFragment(GenericChart, int, int)</c>
/// is present, Plotly.NET charts are registered as HTML automatically.
/// </summary>
public static class Formatter
{
    public const string PlainTextMimeType = "text/plain";
    public const string HtmlMimeType = "text/html";

    private sealed record Registration(Type Type, string MimeType, Func<object, string> Format);

    private static readonly object Gate = new();
    private static List<Registration> _registrations = Defaults();

    /// <summary>Shows values of type <typeparamref name="T"/> (and derived types) as HTML.</summary>
    public static void Register<T>(Func<T, string> toHtml) => Register(toHtml, HtmlMimeType);

    public static void Register<T>(Func<T, string> format, string mimeType)
    {
        ArgumentNullException.ThrowIfNull(format);
        Register(typeof(T), o => format((T)o), mimeType);
    }

    /// <summary>Registers a formatter; a later registration for the same type and MIME type replaces the earlier one.</summary>
    public static void Register(Type type, Func<object, string> format, string mimeType)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(format);
        ArgumentException.ThrowIfNullOrWhiteSpace(mimeType);
        lock (Gate)
        {
            _registrations = [.. _registrations.Where(r => r.Type != type || r.MimeType != mimeType), new Registration(type, mimeType, format)];
        }
    }

    /// <summary>Removes every registration except the automatic ones.</summary>
    public static void ResetToDefaults()
    {
        lock (Gate) _registrations = Defaults();
    }

    /// <summary>Renders a value as the notebook would show it; <paramref name="mimeType"/> asks for one MIME type.</summary>
    public static FormattedValue Format(object? value, string? mimeType = null)
    {
        if (value is null) return new(mimeType ?? PlainTextMimeType, "<null>");
        if (value is HtmlString html && mimeType is null or HtmlMimeType) return new(HtmlMimeType, html.Html);
        if (Find(value.GetType(), mimeType) is { } registration) return new(registration.MimeType, registration.Format(value));
        if (mimeType is null or HtmlMimeType && ToHtmlMethod(value.GetType()) is { } toHtml)
            return new(HtmlMimeType, (string?)toHtml.Invoke(value, null) ?? "");
        if (mimeType == HtmlMimeType && value is string s) return new(HtmlMimeType, s);
        if (mimeType is not null and not PlainTextMimeType && value is string raw) return new(mimeType, raw);
        return new(PlainTextMimeType, ToPlainText(value));
    }

    /// <summary>
    /// Readable text for any value: strings as they are; values whose type overrides <c>ToString</c> (records,
    /// tuples, tensors, numbers in the invariant culture) by it; dictionaries as <c>{ key: value }</c>; other
    /// sequences as <c>[ a, b ]</c> (at most 100 items); other objects as <c>Type { Property = value }</c>.
    /// </summary>
    public static string ToPlainText(object? value) => value switch
    {
        null => "<null>",
        string s => s,
        _ => PlainText.Render(value, depth: 0, nested: false),
    };

    /// <summary>The registrations in force now, to put back with <see cref="Restore"/> (each notebook starts from the same set).</summary>
    internal static object Snapshot()
    {
        lock (Gate) return _registrations;
    }

    internal static void Restore(object snapshot)
    {
        lock (Gate) _registrations = (List<Registration>)snapshot;
    }

    private static Registration? Find(Type type, string? mimeType)
    {
        List<Registration> registrations;
        lock (Gate) registrations = _registrations;
        bool Fits(Registration r) => mimeType is null || r.MimeType == mimeType;
        for (var t = type; t is not null && t != typeof(object); t = t.BaseType)
        {
            var exact = registrations.LastOrDefault(r => r.Type == t && Fits(r));
            if (exact is not null) return exact;
        }
        return registrations.LastOrDefault(r => r.Type.IsInterface && r.Type.IsAssignableFrom(type) && Fits(r))
            ?? registrations.LastOrDefault(r => r.Type == typeof(object) && Fits(r));
    }

    private static MethodInfo? ToHtmlMethod(Type type)
    {
        var method = type.GetMethod("ToHtml", BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes);
        return method?.ReturnType == typeof(string) ? method : null;
    }

    private static List<Registration> Defaults()
    {
        var registrations = new List<Registration>();
        try
        {
            var renderer = typeof(Formatter).Assembly.GetType("BertSharp.Charts.ChartRenderer")
                ?? AppDomain.CurrentDomain.GetAssemblies().Where(a => !a.IsDynamic)
                    .Select(a => a.GetType("BertSharp.Charts.ChartRenderer", throwOnError: false)).FirstOrDefault(t => t is not null);
            if (renderer is not null && ChartFormatter(renderer) is { } chart) registrations.Add(chart);
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or TypeLoadException or BadImageFormatException)
        {
            // The charts code is there but Plotly.NET cannot be loaded: charts are shown as text.
        }
        return registrations;
    }

    /// <summary>Registers a renderer shaped like <c>BertSharp.Charts.ChartRenderer</c> (for tests); false when it has no suitable method.</summary>
    internal static bool RegisterChartRenderer(Type renderer)
    {
        if (ChartFormatter(renderer) is not { } chart) return false;
        Register(chart.Type, chart.Format, chart.MimeType);
        return true;
    }

    /// <summary>
    /// Plotly.NET charts as HTML, when the library has <c>BertSharp.Charts.ChartRenderer.ToHtmlFragment(GenericChart, int width, int height)</c>
    /// (found by reflection, so the notebook runner does not depend on the charts code being built in). The
    /// method's default width and height are used when it declares them.
    /// </summary>
    private static Registration? ChartFormatter(Type renderer)
    {
        var method = renderer.GetMethods(BindingFlags.Public | BindingFlags.Static).FirstOrDefault(m =>
            m.Name == "ToHtmlFragment" && m.ReturnType == typeof(string) && m.GetParameters() is { Length: 3 } p
            && p[0].ParameterType.Name == "GenericChart" && p[1].ParameterType == typeof(int) && p[2].ParameterType == typeof(int));
        if (method is null) return null;
        var parameters = method.GetParameters();
        var width = parameters[1].HasDefaultValue && parameters[1].DefaultValue is int w ? w : 800;
        var height = parameters[2].HasDefaultValue && parameters[2].DefaultValue is int h ? h : 500;
        return new Registration(parameters[0].ParameterType, HtmlMimeType, chart =>
        {
            try { return (string)method.Invoke(null, [chart, width, height])!; }
            catch (TargetInvocationException e) when (e.InnerException is not null) { throw e.InnerException; }
        });
    }

    private static class PlainText
    {
        private const int MaxItems = 100;
        private const int MaxDepth = 3;
        private const int MaxLineWidth = 100;

        public static string Render(object? value, int depth, bool nested)
        {
            switch (value)
            {
                case null: return nested ? "null" : "<null>";
                case string s: return nested ? SymbolDisplay.FormatLiteral(s, quote: true) : s;
                case char c: return nested ? SymbolDisplay.FormatLiteral(c, quote: true) : c.ToString();
                case bool b: return b ? "true" : "false";
                case Type t: return FriendlyName(t);
                case IFormattable f when value.GetType().IsPrimitive || value is decimal or Enum or DateTime or DateTimeOffset or TimeSpan or Guid:
                    return f.ToString(null, CultureInfo.InvariantCulture);
            }
            var type = value.GetType();
            if (OverridesToString(type)) return SafeToString(value);
            if (depth >= MaxDepth) return FriendlyName(type);
            if (DictionaryEntries(value) is { } entries)
                return Join("{", "}", entries.Select(e => $"{Render(e.Key, depth + 1, true)}: {Render(e.Value, depth + 1, true)}"), Count(value));
            if (value is IEnumerable sequence) return Join("[", "]", sequence.Cast<object?>().Select(x => Render(x, depth + 1, true)), Count(value));
            return Members(value, type, depth);
        }

        private static string Join(string open, string close, IEnumerable<string> items, int? count)
        {
            var shown = new List<string>();
            var more = false;
            foreach (var item in items)
            {
                if (shown.Count == MaxItems) { more = true; break; }
                shown.Add(item);
            }
            if (more) shown.Add(count is { } n ? $"... ({n - MaxItems} more)" : "...");
            if (shown.Count == 0) return open + close;
            var oneLine = $"{open} {string.Join(", ", shown)} {close}";
            if (oneLine.Length <= MaxLineWidth && !oneLine.Contains('\n')) return oneLine;
            var text = new StringBuilder(open).Append('\n');
            for (var i = 0; i < shown.Count; i++)
                text.Append("  ").Append(shown[i].Replace("\n", "\n  ")).Append(i < shown.Count - 1 ? ",\n" : "\n");
            return text.Append(close).ToString();
        }

        private static string Members(object value, Type type, int depth)
        {
            var members = new List<string>();
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (!property.CanRead || property.GetIndexParameters().Length > 0 || property.GetMethod?.IsPublic != true) continue;
                members.Add($"{property.Name} = {Safe(() => Render(property.GetValue(value), depth + 1, true))}");
            }
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Instance))
                members.Add($"{field.Name} = {Safe(() => Render(field.GetValue(value), depth + 1, true))}");
            var name = FriendlyName(type);
            if (members.Count == 0) return name;
            return name + " " + Join("{", "}", members, members.Count);
        }

        private static string Safe(Func<string> render)
        {
            try { return render(); }
            catch (Exception e) { return $"<{(e is TargetInvocationException { InnerException: { } inner } ? inner : e).GetType().Name}>"; }
        }

        private static string SafeToString(object value) => Safe(() => value.ToString() ?? "");

        private static bool OverridesToString(Type type)
        {
            var declaring = type.GetMethod(nameof(ToString), Type.EmptyTypes)?.DeclaringType;
            return declaring is not null && declaring != typeof(object) && declaring != typeof(ValueType);
        }

        private static int? Count(object value) => value is ICollection c ? c.Count : null;

        private static IEnumerable<(object? Key, object? Value)>? DictionaryEntries(object value)
        {
            if (value is IDictionary dictionary) return Entries(dictionary);
            var pairs = value.GetType().GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>)
                && i.GetGenericArguments()[0] is { IsGenericType: true } item && item.GetGenericTypeDefinition() == typeof(KeyValuePair<,>));
            if (pairs is null) return null;
            var pairType = pairs.GetGenericArguments()[0];
            var key = pairType.GetProperty("Key")!;
            var val = pairType.GetProperty("Value")!;
            return ((IEnumerable)value).Cast<object>().Select(p => (key.GetValue(p), val.GetValue(p)));
        }

        private static IEnumerable<(object? Key, object? Value)> Entries(IDictionary dictionary)
        {
            var e = dictionary.GetEnumerator();
            while (e.MoveNext()) yield return (e.Key, e.Value);
        }

        internal static string FriendlyName(Type type)
        {
            if (type.IsArray) return FriendlyName(type.GetElementType()!) + "[" + new string(',', type.GetArrayRank() - 1) + "]";
            if (!type.IsGenericType) return type.Name;
            var name = type.Name;
            var tick = name.IndexOf('`');
            if (tick >= 0) name = name[..tick];
            return $"{name}<{string.Join(", ", type.GetGenericArguments().Select(FriendlyName))}>";
        }
    }
}

/// <summary>Text that <c>display</c> shows as HTML (what Polyglot's <c>HTML("...")</c> gives).</summary>
public sealed class HtmlString(string html)
{
    public string Html { get; } = html;

    public override string ToString() => Html;
}
