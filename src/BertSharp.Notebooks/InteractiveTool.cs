using System.Text.Json;
using System.Text.Json.Nodes;

namespace BertSharp.Notebooks;

/// <summary>
/// How to start the .NET Interactive kernel (the <c>dotnet-interactive</c> tool): through the nearest local tool
/// manifest that pins it (<c>.config/dotnet-tools.json</c>, as this repository does; <c>dotnet tool run</c> started
/// in <paramref name="LaunchDirectory"/>, the manifest's folder), looked for above the notebook's folder and then
/// above the current directory; else a global install on PATH.
/// </summary>
public sealed record InteractiveTool(string FileName, IReadOnlyList<string> Arguments, string LaunchDirectory, string Description)
{
    public const string PackageId = "microsoft.dotnet-interactive";
    public const string Command = "dotnet-interactive";

    /// <summary>The tool for notebooks in <paramref name="directory"/>; throws <see cref="NotebookException"/> saying how to get one.</summary>
    public static InteractiveTool Locate(string directory)
    {
        foreach (var start in new[] { Path.GetFullPath(directory), Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                foreach (var manifest in new[] { Path.Combine(dir.FullName, ".config", "dotnet-tools.json"), Path.Combine(dir.FullName, "dotnet-tools.json") })
                {
                    if (File.Exists(manifest) && PinnedVersion(manifest) is { } version)
                        return new InteractiveTool("dotnet", ["tool", "run", Command, "--"], dir.FullName, $"{Command} {version} (from {manifest})");
                }
            }
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, OperatingSystem.IsWindows() ? Command + ".exe" : Command);
            if (File.Exists(candidate)) return new InteractiveTool(candidate, [], directory, $"{Command} (global, {candidate})");
        }
        throw new NotebookException($"the .NET Interactive kernel ({Command}) was not found for {directory}: run `dotnet tool restore` in the repository "
            + $"(it is pinned in .config/dotnet-tools.json) or install it with `dotnet tool install -g {PackageId}`");
    }

    /// <summary>The version of dotnet-interactive a tool manifest pins, or null when it pins none.</summary>
    public static string? PinnedVersion(string manifestPath)
    {
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(manifestPath)) as JsonObject;
            var tool = (root?["tools"] as JsonObject)?.FirstOrDefault(t => string.Equals(t.Key, PackageId, StringComparison.OrdinalIgnoreCase)).Value;
            return tool?["version"]?.GetValue<string>();
        }
        catch (Exception e) when (e is JsonException or IOException or InvalidOperationException)
        {
            return null;
        }
    }
}
