using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace BertSharp.Notebooks;

/// <summary>
/// A variable declared at the top level of the parameters cell. <paramref name="Type"/> is what the declaration
/// says (<c>double lr = ...</c>, or <c>var n = 3</c> with a literal); null when only running the cell tells
/// (<c>var device = TrainingDevice.Cpu;</c>). <paramref name="TypeText"/> names an enum type in C#.
/// </summary>
internal sealed record DeclaredParameter(string Name, Type? Type, string? TypeText, bool IsConst);

/// <summary>
/// A type the kernel reported for a parameter whose declaration does not say it (<c>var d = DeviceChoice.Cpu;</c>):
/// a .NET type this process knows (<paramref name="Clr"/>), or an enum of the notebook's libraries, by name and members.
/// </summary>
internal sealed record KernelType(Type? Clr, string FullName, bool Nullable, bool IsEnum, bool IsFlags, IReadOnlyList<string> EnumMembers)
{
    /// <summary>Reads one line of <see cref="NotebookParameters.TypeProbe"/>'s answer.</summary>
    public static KernelType Parse(string line)
    {
        var nullable = line.StartsWith('?');
        var parts = (nullable ? line[1..] : line).Split('|');
        var fullName = parts[0];
        var isEnum = parts.Length >= 3;
        var clr = isEnum ? null : Type.GetType(fullName, throwOnError: false);
        return new KernelType(clr is not null && nullable && clr.IsValueType ? typeof(Nullable<>).MakeGenericType(clr) : clr, fullName, nullable, isEnum,
            isEnum && parts[1] == "flags", isEnum ? parts[2].Split(',', StringSplitOptions.RemoveEmptyEntries) : []);
    }
}

/// <summary>A <c>--set</c> value that does not fit its parameter's type.</summary>
internal sealed class ParameterValueException(string message) : Exception(message);

/// <summary>Papermill-style parameters for C# notebooks: reading the parameters cell and writing the injected one.</summary>
internal static class NotebookParameters
{
    public const string ParametersTag = "parameters";
    public const string InjectedTag = "injected-parameters";

    private static readonly Dictionary<string, Type> NamedTypes = new(StringComparer.Ordinal)
    {
        ["string"] = typeof(string), ["String"] = typeof(string),
        ["bool"] = typeof(bool), ["Boolean"] = typeof(bool),
        ["char"] = typeof(char), ["Char"] = typeof(char),
        ["int"] = typeof(int), ["Int32"] = typeof(int),
        ["long"] = typeof(long), ["Int64"] = typeof(long),
        ["short"] = typeof(short), ["Int16"] = typeof(short),
        ["byte"] = typeof(byte), ["Byte"] = typeof(byte),
        ["sbyte"] = typeof(sbyte), ["SByte"] = typeof(sbyte),
        ["uint"] = typeof(uint), ["UInt32"] = typeof(uint),
        ["ulong"] = typeof(ulong), ["UInt64"] = typeof(ulong),
        ["ushort"] = typeof(ushort), ["UInt16"] = typeof(ushort),
        ["float"] = typeof(float), ["Single"] = typeof(float),
        ["double"] = typeof(double), ["Double"] = typeof(double),
        ["decimal"] = typeof(decimal), ["Decimal"] = typeof(decimal),
    };

    /// <summary>The variables the parameters cell declares at its top level, in order.</summary>
    public static List<DeclaredParameter> Parse(string code)
    {
        var root = CSharpSyntaxTree.ParseText(code, CSharpParseOptions.Default.WithKind(SourceCodeKind.Script)).GetCompilationUnitRoot();
        var parameters = new List<DeclaredParameter>();
        foreach (var member in root.Members)
        {
            var (declaration, isConst) = member switch
            {
                FieldDeclarationSyntax f => (f.Declaration, f.Modifiers.Any(SyntaxKind.ConstKeyword)),
                GlobalStatementSyntax { Statement: LocalDeclarationStatementSyntax l } => (l.Declaration, l.IsConst),
                _ => (null, false),
            };
            if (declaration is null) continue;
            foreach (var variable in declaration.Variables)
            {
                Type? type;
                string? typeText;
                if (declaration.Type.IsVar)
                {
                    type = variable.Initializer is { } init ? LiteralType(init.Value) : null;
                    typeText = variable.Initializer?.Value is MemberAccessExpressionSyntax access ? access.Expression.ToString() : null;
                }
                else
                {
                    type = SyntaxType(declaration.Type);
                    typeText = declaration.Type is NullableTypeSyntax nullable ? nullable.ElementType.ToString() : declaration.Type.ToString();
                }
                parameters.Add(new DeclaredParameter(variable.Identifier.ValueText, type, typeText, isConst));
            }
        }
        return parameters;
    }

    /// <summary>
    /// C# for the kernel that answers, one line per variable, the static type of each of <paramref name="names"/>
    /// (declared by the parameters cell that has just run): its full name, "?" first when nullable, and for enums
    /// "|flags" or "|" and the member names.
    /// </summary>
    public static string TypeProbe(IEnumerable<string> names) => $$"""
        System.Type __bertsharpTypeOf<T>(T value) => typeof(T);
        string __bertsharpDescribe(System.Type type)
        {
            var underlying = System.Nullable.GetUnderlyingType(type);
            var t = underlying ?? type;
            return (underlying is null ? "" : "?") + t.FullName + (t.IsEnum ? "|" + (t.IsDefined(typeof(System.FlagsAttribute), false) ? "flags" : "") + "|" + string.Join(",", System.Enum.GetNames(t)) : "");
        }
        string.Join("\n", new[] { {{string.Join(", ", names.Select(n => $"__bertsharpDescribe(__bertsharpTypeOf({n}))"))}} })
        """;

    /// <summary>The value as C# for a parameter whose type the kernel reported (<see cref="TypeProbe"/>).</summary>
    public static string Literal(string name, string value, KernelType type, string? typeText)
    {
        if (type.Clr is { } clr) return Literal(name, value, clr, typeText);
        if (!type.IsEnum)
        {
            throw new ParameterValueException(
                $"parameter {name} is a {type.FullName}; --set values can only be given to strings, chars, bools, numbers and enums");
        }
        if (type.Nullable && value == "null") return "null";
        if (typeText is null)
        {
            if (type.FullName.Contains("Submission#"))
                throw new ParameterValueException($"parameter {name}: declare it with its enum type (e.g. MyEnum {name} = MyEnum.{type.EnumMembers.FirstOrDefault()};) so --set can name the type");
            typeText = "global::" + type.FullName.Replace('+', '.');
        }
        return EnumLiteral(name, value, type.FullName[(type.FullName.LastIndexOfAny(['.', '+']) + 1)..], typeText, type.EnumMembers, type.IsFlags);
    }

    /// <summary>The cell papermill would inject: a comment, then one assignment per parameter.</summary>
    public static string InjectedSource(IEnumerable<string> lines)
    {
        var text = new StringBuilder("// Parameters (injected by bertsharp notebook run)");
        foreach (var line in lines) text.Append('\n').Append(line);
        return text.ToString();
    }

    /// <summary>
    /// The value as a C# expression of <paramref name="type"/>: strings quoted and escaped, numbers in the
    /// invariant culture, <c>true</c>/<c>false</c>, enum members as <c>Type.Member</c>.
    /// </summary>
    public static string Literal(string name, string value, Type type, string? typeText)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        if (underlying is not null && value == "null") return "null";
        var t = underlying ?? type;
        var invariant = CultureInfo.InvariantCulture;
        string Bad(string expected) => throw new ParameterValueException($"parameter {name} is {Describe(type)}; \"{value}\" is not {expected}");

        if (t == typeof(string)) return SymbolDisplay.FormatLiteral(value, quote: true);
        if (t == typeof(char)) return value.Length == 1 ? SymbolDisplay.FormatLiteral(value[0], quote: true) : Bad("one character");
        if (t == typeof(bool))
        {
            return bool.TryParse(value.Trim(), out var b) ? (b ? "true" : "false") : Bad("true or false");
        }
        if (t == typeof(int)) return int.TryParse(value, NumberStyles.Integer, invariant, out var i) ? i.ToString(invariant) : Bad("an int");
        if (t == typeof(long)) return long.TryParse(value, NumberStyles.Integer, invariant, out var l) ? l.ToString(invariant) + "L" : Bad("a long");
        if (t == typeof(short)) return short.TryParse(value, NumberStyles.Integer, invariant, out var s) ? s.ToString(invariant) : Bad("a short");
        if (t == typeof(byte)) return byte.TryParse(value, NumberStyles.Integer, invariant, out var by) ? by.ToString(invariant) : Bad("a byte");
        if (t == typeof(sbyte)) return sbyte.TryParse(value, NumberStyles.Integer, invariant, out var sb) ? sb.ToString(invariant) : Bad("an sbyte");
        if (t == typeof(ushort)) return ushort.TryParse(value, NumberStyles.Integer, invariant, out var us) ? us.ToString(invariant) : Bad("a ushort");
        if (t == typeof(uint)) return uint.TryParse(value, NumberStyles.Integer, invariant, out var ui) ? ui.ToString(invariant) + "U" : Bad("a uint");
        if (t == typeof(ulong)) return ulong.TryParse(value, NumberStyles.Integer, invariant, out var ul) ? ul.ToString(invariant) + "UL" : Bad("a ulong");
        if (t == typeof(double))
        {
            if (!double.TryParse(value, NumberStyles.Float, invariant, out var d)) return Bad("a number");
            return double.IsNaN(d) ? "double.NaN" : double.IsPositiveInfinity(d) ? "double.PositiveInfinity"
                : double.IsNegativeInfinity(d) ? "double.NegativeInfinity" : d.ToString("R", invariant);
        }
        if (t == typeof(float))
        {
            if (!float.TryParse(value, NumberStyles.Float, invariant, out var f)) return Bad("a number");
            return float.IsNaN(f) ? "float.NaN" : float.IsPositiveInfinity(f) ? "float.PositiveInfinity"
                : float.IsNegativeInfinity(f) ? "float.NegativeInfinity" : f.ToString("R", invariant) + "f";
        }
        if (t == typeof(decimal))
            return decimal.TryParse(value, NumberStyles.Number | NumberStyles.AllowExponent, invariant, out var m) ? m.ToString(invariant) + "m" : Bad("a decimal number");
        if (t.IsEnum) return EnumLiteral(name, value, t, typeText);
        throw new ParameterValueException(
            $"parameter {name} is {Describe(type)}; --set values can only be given to strings, chars, bools, numbers and enums");
    }

    private static string EnumLiteral(string name, string value, Type type, string? typeText)
    {
        if (typeText is null)
        {
            if (type.FullName is not { } full || full.Contains("Submission#"))
                throw new ParameterValueException($"parameter {name}: declare it with its enum type (e.g. {type.Name} {name} = {type.Name}.{Enum.GetNames(type).FirstOrDefault()};) so --set can name the type");
            typeText = "global::" + full.Replace('+', '.');
        }
        return EnumLiteral(name, value, type.Name, typeText, Enum.GetNames(type), type.IsDefined(typeof(FlagsAttribute), false));
    }

    private static string EnumLiteral(string name, string value, string typeName, string typeText, IReadOnlyList<string> names, bool isFlags)
    {
        var members = new List<string>();
        foreach (var part in value.Split([',', '|'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var member = part[(part.LastIndexOf('.') + 1)..];
            var match = names.FirstOrDefault(n => n == member) ?? names.FirstOrDefault(n => string.Equals(n, member, StringComparison.OrdinalIgnoreCase))
                ?? throw new ParameterValueException($"parameter {name} is the enum {typeName}; \"{part}\" is not one of {string.Join(", ", names)}");
            members.Add($"{typeText}.{match}");
        }
        if (members.Count == 0) throw new ParameterValueException($"parameter {name} is the enum {typeName}; give one of {string.Join(", ", names)}");
        if (members.Count > 1 && !isFlags)
            throw new ParameterValueException($"parameter {name}: the enum {typeName} is not a [Flags] enum, so it takes one member");
        return string.Join(" | ", members);
    }

    private static string Describe(Type type)
    {
        var name = Nullable.GetUnderlyingType(type) is { } u ? Keyword(u) + "?" : Keyword(type);
        return ("aeiouAEIOU".Contains(name[0]) ? "an " : "a ") + name;
    }

    private static string Keyword(Type type) => NamedTypes.FirstOrDefault(kv => kv.Value == type && char.IsLower(kv.Key[0])).Key ?? type.Name;

    private static Type? SyntaxType(TypeSyntax syntax)
    {
        if (syntax is NullableTypeSyntax nullable)
        {
            var element = SyntaxType(nullable.ElementType);
            return element is null ? null : element.IsValueType ? typeof(Nullable<>).MakeGenericType(element) : element;
        }
        var text = syntax.ToString();
        if (text.StartsWith("global::", StringComparison.Ordinal)) text = text["global::".Length..];
        if (text.StartsWith("System.", StringComparison.Ordinal)) text = text["System.".Length..];
        return NamedTypes.GetValueOrDefault(text);
    }

    private static Type? LiteralType(ExpressionSyntax value) => value switch
    {
        LiteralExpressionSyntax literal => literal.Kind() switch
        {
            SyntaxKind.NumericLiteralExpression => literal.Token.Value?.GetType(),
            SyntaxKind.StringLiteralExpression => typeof(string),
            SyntaxKind.TrueLiteralExpression or SyntaxKind.FalseLiteralExpression => typeof(bool),
            SyntaxKind.CharacterLiteralExpression => typeof(char),
            _ => null,
        },
        InterpolatedStringExpressionSyntax => typeof(string),
        PrefixUnaryExpressionSyntax { Operand: LiteralExpressionSyntax operand } unary
            when unary.IsKind(SyntaxKind.UnaryMinusExpression) || unary.IsKind(SyntaxKind.UnaryPlusExpression) => LiteralType(operand),
        CastExpressionSyntax cast => SyntaxType(cast.Type),
        ParenthesizedExpressionSyntax p => LiteralType(p.Expression),
        _ => null,
    };
}
