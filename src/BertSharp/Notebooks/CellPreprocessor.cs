using System.Text.RegularExpressions;

namespace BertSharp.Notebooks;

internal enum DirectiveKind
{
    /// <summary><c>#r "path/to/File.dll"</c> (or an assembly name).</summary>
    AssemblyReference,

    /// <summary><c>#r "nuget: Name, Version"</c>.</summary>
    PackageReference,

    /// <summary><c>#i "nuget: source"</c>.</summary>
    PackageSource,
}

/// <summary>A directive line of a cell (<paramref name="Line"/> is 1-based within the cell).</summary>
internal sealed record CellDirective(DirectiveKind Kind, int Line, string Argument, string? Version = null);

/// <summary>A cell's C# with its directive lines blanked out (so diagnostics keep the cell's line numbers), and the directives.</summary>
internal sealed record PreparedCode(string Code, IReadOnlyList<CellDirective> Directives)
{
    public bool HasCode => !string.IsNullOrWhiteSpace(Code);
}

/// <summary>A directive or magic command the runner cannot honour; the runner adds which notebook and cell.</summary>
internal sealed class CellDirectiveException(string message) : Exception(message);

/// <summary>
/// Takes out of a cell what .NET Interactive handles before the C# compiler sees it: <c>#r</c>, <c>#i</c> and
/// <c>#!</c> magic commands, at the start of any line (as .NET Interactive allows).
/// </summary>
internal static partial class CellPreprocessor
{
    /// <summary>Kernel names (and aliases) of .NET Interactive: a <c>#!name</c> line switches the rest of the cell to that kernel.</summary>
    private static readonly HashSet<string> CSharpKernelNames = new(StringComparer.OrdinalIgnoreCase) { "csharp", "c#" };

    internal static readonly HashSet<string> OtherKernelNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "fsharp", "f#", "pwsh", "powershell", "javascript", "js", "html", "markdown", "md", "sql", "kql", "mermaid",
        "value", "http", "python", "r", "vscode", "webview", "spiral",
    };

    [GeneratedRegex(@"^\s*#!(?<name>\S+)")]
    private static partial Regex Magic();

    [GeneratedRegex(@"^\s*#(?<kind>[ri])(?:\s+(?<argument>.*?))?\s*$")]
    private static partial Regex Directive();

    [GeneratedRegex(@"^""(?<value>[^""]*)""$")]
    private static partial Regex Quoted();

    public static PreparedCode Prepare(string source)
    {
        var lines = source.Split('\n');
        var directives = new List<CellDirective>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            var number = i + 1;
            if (Magic().Match(line) is { Success: true } magic)
            {
                var name = magic.Groups["name"].Value;
                if (CSharpKernelNames.Contains(name))
                {
                    lines[i] = "";
                    continue;
                }
                if (OtherKernelNames.Contains(name))
                    throw new CellDirectiveException($"line {number} switches to the {name} kernel with #!{name}; the notebook runner runs C# only");
                throw new CellDirectiveException($"line {number}: the magic command #!{name} is not supported by the notebook runner");
            }
            if (Directive().Match(line) is not { Success: true } directive) continue;
            var kind = directive.Groups["kind"].Value;
            var argument = directive.Groups["argument"].Value;
            if (Quoted().Match(argument) is not { Success: true } quoted)
                throw new CellDirectiveException($"line {number}: #{kind} needs a quoted argument, e.g. #{kind} \"{(kind == "r" ? "nuget: Name, Version" : "nuget: https://source/index.json")}\"");
            var value = quoted.Groups["value"].Value.Trim();
            if (kind == "i")
            {
                directives.Add(new CellDirective(DirectiveKind.PackageSource, number, value));
            }
            else if (value.StartsWith("nuget:", StringComparison.OrdinalIgnoreCase))
            {
                var spec = value["nuget:".Length..].Trim();
                var comma = spec.IndexOf(',');
                var name = (comma < 0 ? spec : spec[..comma]).Trim();
                var version = comma < 0 ? null : spec[(comma + 1)..].Trim();
                if (name.Length == 0) throw new CellDirectiveException($"line {number}: #r \"nuget:\" names no package");
                directives.Add(new CellDirective(DirectiveKind.PackageReference, number, name, string.IsNullOrEmpty(version) ? null : version));
            }
            else
            {
                if (value.Length == 0) throw new CellDirectiveException($"line {number}: #r names no assembly");
                directives.Add(new CellDirective(DirectiveKind.AssemblyReference, number, value));
            }
            lines[i] = "";
        }
        return new PreparedCode(string.Join('\n', lines), directives);
    }

    /// <summary>A kernel name as .NET Interactive writes it in metadata, normalised ("C#" → "csharp").</summary>
    public static string NormalizeKernelName(string name) => name.Trim().ToLowerInvariant() switch
    {
        "c#" or "csharp" or ".net-csharp" => "csharp",
        "f#" or "fsharp" or ".net-fsharp" => "fsharp",
        "powershell" or "pwsh" or ".net-pwsh" or ".net-powershell" => "pwsh",
        var other => other,
    };
}
