using System.Collections.Immutable;
using System.Reflection;
using System.Text.Json;
using Microsoft.CodeAnalysis;

namespace BertSharp.Notebooks;

/// <summary>A NuGet package the runner process was built with, and the assemblies a notebook gets by asking for it.</summary>
internal sealed record RunnerPackage(string Name, string Version, IReadOnlyList<string> AssemblyPaths);

/// <summary>
/// What notebook code compiles against in this process: the whole .NET shared framework, the BertSharp library
/// and every assembly it depends on (TorchSharp, Microsoft.ML.Tokenizers, ...), exactly as loaded here; and the
/// NuGet packages this process was built with (from its .deps.json), which satisfy <c>#r "nuget: ..."</c>.
/// Metadata references are cached, so every notebook after the first compiles against the same instances (faster).
/// </summary>
internal sealed class RunnerAssemblies
{
    private static readonly Lazy<RunnerAssemblies> Instance = new(() => new RunnerAssemblies());
    private readonly Dictionary<string, MetadataReference> _referencesByPath = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _tpaBySimpleName = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, RunnerPackage> _packages = new(StringComparer.OrdinalIgnoreCase);

    public static RunnerAssemblies Current => Instance.Value;

    public ImmutableArray<MetadataReference> DefaultReferences { get; }

    private RunnerAssemblies()
    {
        if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string tpa)
        {
            foreach (var path in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                _tpaBySimpleName.TryAdd(Path.GetFileNameWithoutExtension(path), path);
        }
        var references = new List<MetadataReference>();
        var frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location);
        foreach (var path in _tpaBySimpleName.Values.Where(p => Path.GetDirectoryName(p) == frameworkDirectory).Order(StringComparer.Ordinal))
            references.Add(Reference(path));
        foreach (var assembly in LibraryClosure())
        {
            if (Path.GetDirectoryName(assembly.Location) != frameworkDirectory) references.Add(Reference(assembly.Location));
        }
        DefaultReferences = [.. references.Distinct()];
        ReadPackages();
    }

    public MetadataReference Reference(string path)
    {
        lock (_referencesByPath)
        {
            if (!_referencesByPath.TryGetValue(path, out var reference))
                _referencesByPath[path] = reference = MetadataReference.CreateFromFile(path);
            return reference;
        }
    }

    /// <summary>The BertSharp assembly loaded in this process.</summary>
    public static Assembly Library => typeof(RunnerAssemblies).Assembly;

    /// <summary>An assembly of this process with that simple name (loaded already, or loadable from the app's dependencies).</summary>
    public string? FindAssemblyPath(string simpleName)
    {
        if (string.Equals(simpleName, Library.GetName().Name, StringComparison.OrdinalIgnoreCase)) return Library.Location;
        var loaded = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a =>
            !a.IsDynamic && a.Location.Length > 0 && string.Equals(a.GetName().Name, simpleName, StringComparison.OrdinalIgnoreCase));
        if (loaded is not null) return loaded.Location;
        return _tpaBySimpleName.GetValueOrDefault(simpleName);
    }

    public RunnerPackage? FindPackage(string name)
    {
        if (_packages.TryGetValue(name, out var package)) return package;
        // No .deps.json entry (e.g. a host without one): a loaded assembly of the same name will do.
        return FindAssemblyPath(name) is { } path
            ? new RunnerPackage(name, AssemblyName.GetAssemblyName(path).Version?.ToString() ?? "", [path])
            : null;
    }

    private static List<Assembly> LibraryClosure()
    {
        var seen = new Dictionary<string, Assembly>(StringComparer.OrdinalIgnoreCase);
        var pending = new Stack<Assembly>([Library]);
        while (pending.Count > 0)
        {
            var assembly = pending.Pop();
            if (assembly.IsDynamic || assembly.Location.Length == 0 || !seen.TryAdd(assembly.GetName().Name!, assembly)) continue;
            foreach (var name in assembly.GetReferencedAssemblies())
            {
                if (seen.ContainsKey(name.Name!)) continue;
                try { pending.Push(Assembly.Load(name)); }
                catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException) { }
            }
        }
        return [.. seen.Values];
    }

    /// <summary>The packages in this process's .deps.json files, each with the assemblies of it and its dependencies.</summary>
    private void ReadPackages()
    {
        if (AppContext.GetData("APP_CONTEXT_DEPS_FILES") is not string files) return;
        foreach (var file in files.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(file));
                ReadPackages(doc.RootElement);
            }
            catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or InvalidOperationException or KeyNotFoundException) { }
        }
    }

    private void ReadPackages(JsonElement deps)
    {
        if (!deps.TryGetProperty("targets", out var targets) || !deps.TryGetProperty("libraries", out var libraries)) return;
        var targetName = deps.TryGetProperty("runtimeTarget", out var rt) && rt.TryGetProperty("name", out var n) ? n.GetString() : null;
        if (targetName is null || !targets.TryGetProperty(targetName, out var target)) return;
        var entries = new Dictionary<string, (string Version, List<string> Dependencies, List<string> Files)>(StringComparer.OrdinalIgnoreCase);
        foreach (var library in target.EnumerateObject())
        {
            var slash = library.Name.IndexOf('/');
            if (slash < 0) continue;
            var dependencies = library.Value.TryGetProperty("dependencies", out var d) ? d.EnumerateObject().Select(p => p.Name).ToList() : [];
            var assemblies = library.Value.TryGetProperty("runtime", out var r)
                ? r.EnumerateObject().Select(p => Path.GetFileNameWithoutExtension(p.Name)).ToList() : [];
            entries[library.Name[..slash]] = (library.Name[(slash + 1)..], dependencies, assemblies);
        }
        foreach (var library in libraries.EnumerateObject())
        {
            var slash = library.Name.IndexOf('/');
            if (slash < 0) continue;
            var name = library.Name[..slash];
            if (_packages.ContainsKey(name) || !entries.TryGetValue(name, out var entry)) continue;
            var paths = new List<string>();
            var visited = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var pending = new Stack<string>([name]);
            while (pending.Count > 0)
            {
                var current = pending.Pop();
                if (!visited.Add(current) || !entries.TryGetValue(current, out var e)) continue;
                foreach (var simpleName in e.Files)
                {
                    if (_tpaBySimpleName.TryGetValue(simpleName, out var path) && !paths.Contains(path)) paths.Add(path);
                }
                foreach (var dependency in e.Dependencies) pending.Push(dependency);
            }
            _packages[name] = new RunnerPackage(name, entry.Version, paths);
        }
    }
}
