using System.Globalization;
using System.Text.RegularExpressions;
using BertSharp.Safetensors;

namespace BertSharp.Modeling;

/// <summary>A weight whose shape a config sets, dimension by dimension: e.g. word embeddings are [vocab_size, hidden_size].</summary>
/// <param name="Key">The weight's name inside the encoder (<c>embeddings.word_embeddings.weight</c>); a file name matches it with any prefix (<c>bert.</c>).</param>
/// <param name="Dimensions">The config field and value that set each dimension.</param>
public sealed record ExpectedWeight(string Key, IReadOnlyList<(string Field, long Size)> Dimensions);

/// <summary>The repeated layers a config asks for: <paramref name="Field"/> = <paramref name="Count"/> layers named <c>{Prefix}{i}.</c>.</summary>
public sealed record ExpectedLayers(string Prefix, string Field, long Count);

/// <summary>
/// Checks a model's sizes before any of it is allocated. A config.json with <c>hidden_size</c> 10^9 or
/// <c>num_hidden_layers</c> 10^6 made libtorch's allocator abort the process (SIGABRT, a native stack trace), or
/// worse, fill the machine's memory layer by layer; here it is one error naming the field. Model-agnostic: a config
/// supplies its expected weights, layer count and parameter count.
/// </summary>
public static class ModelSizeCheck
{
    /// <summary>
    /// Compares the config's sizes with the shapes that <paramref name="weightFiles"/> actually hold (read from their
    /// headers, no tensor data) and throws one error listing every field that disagrees.
    /// </summary>
    /// <param name="configSource">The config file, named first in the message.</param>
    /// <param name="weights">The weights whose shapes the config's sizes set.</param>
    /// <param name="layers">The repeated layers the config asks for; null skips the layer count.</param>
    /// <param name="weightFiles">Safetensors files, each with the tensor names to consider (null: all of its tensors).</param>
    /// <exception cref="InvalidDataException">A field disagrees with the file's shape or layer count.</exception>
    public static void EnsureConfigMatchesWeights(string configSource, IReadOnlyList<ExpectedWeight> weights, ExpectedLayers? layers,
        IReadOnlyList<(string Path, IReadOnlyList<string>? Keys)> weightFiles)
    {
        var shapes = new List<(string Name, long[] Shape, string File)>();
        foreach (var (path, keys) in weightFiles)
        {
            using var file = SafetensorsFile.Open(path);
            var wanted = keys is null ? null : new HashSet<string>(keys, StringComparer.Ordinal);
            shapes.AddRange(file.Tensors.Where(t => wanted is null || wanted.Contains(t.Name)).Select(t => (t.Name, t.Shape, path)));
        }

        var problems = new List<string>();
        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var weight in weights)
        {
            var found = shapes.FirstOrDefault(s => s.Name == weight.Key || s.Name.EndsWith("." + weight.Key, StringComparison.Ordinal));
            if (found.Name is null) continue; // absent weights are the loading report's business
            for (var d = 0; d < weight.Dimensions.Count; d++)
            {
                var (field, size) = weight.Dimensions[d];
                if (found.Shape.Length == weight.Dimensions.Count && found.Shape[d] == size) continue;
                if (reported.Add(field))
                    problems.Add($"'{field}' = {size} but '{found.Name}' in {found.File} has shape [{string.Join(", ", found.Shape)}]");
                break;
            }
        }
        if (layers is not null)
        {
            var pattern = new Regex($@"(?:^|\.){Regex.Escape(layers.Prefix)}(\d+)\.", RegexOptions.CultureInvariant);
            var held = shapes.Select(s => pattern.Match(s.Name)).Where(m => m.Success)
                .Select(m => long.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i + 1 : 0).DefaultIfEmpty(0).Max();
            // Fewer layers than the file holds is a documented way to load a smaller encoder (the rest is reported as
            // unused); more would be layers of random weights.
            if (held > 0 && layers.Count > held)
                problems.Add($"'{layers.Field}' = {layers.Count} but {weightFiles[0].Path} holds {held} layers ('{layers.Prefix}0' to '{layers.Prefix}{held - 1}')");
        }
        if (problems.Count > 0)
            throw new InvalidDataException(
                $"{configSource} does not describe the weights: {string.Join("; ", problems)}. The config and the weights must be the same " +
                "model's (pass IgnoreMismatchedSizes = true to re-initialise what differs instead).");
    }

    /// <summary>
    /// Throws when <paramref name="parameterCount"/> parameters of <paramref name="bytesPerParameter"/> bytes each
    /// (4: float32 weights; about 16 to train them with AdamW) would not fit in the memory available now.
    /// </summary>
    /// <param name="parameterCount">The model's parameter count, computed from its config.</param>
    /// <param name="source">What the sizes come from (a config file), named first in the message.</param>
    /// <param name="sizes">The size fields, as the user wrote them (e.g. <c>hidden_size = 768, num_hidden_layers = 12</c>).</param>
    /// <param name="bytesPerParameter">4 for float32 weights; more to include gradients and optimiser state.</param>
    /// <exception cref="InvalidDataException">The model would not fit.</exception>
    public static void EnsureFitsInMemory(double parameterCount, string source, string sizes, double bytesPerParameter = 4)
    {
        var needed = parameterCount * bytesPerParameter;
        var available = AvailableMemoryBytes();
        if (needed <= available) return;
        throw new InvalidDataException(
            $"{source}: a model with {sizes} has {parameterCount.ToString("N0", CultureInfo.InvariantCulture)} parameters and needs {Gigabytes(needed)} of memory for them, " +
            $"more than the {Gigabytes(available)} available here; check those sizes.");
    }

    /// <summary>
    /// Memory a new allocation can get now: the machine's (or the container's) limit as the runtime sees it, and on
    /// Linux no more than MemAvailable + SwapFree, since libtorch's pages are touched as they are initialised.
    /// </summary>
    public static long AvailableMemoryBytes()
    {
        var limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (OperatingSystem.IsLinux() && ReadMemInfo() is { } free) limit = Math.Min(limit, free);
        return limit;
    }

    private static long? ReadMemInfo()
    {
        try
        {
            long? available = null, swap = null;
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length < 2 || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var kb)) continue;
                if (parts[0] == "MemAvailable:") available = kb * 1024;
                else if (parts[0] == "SwapFree:") swap = kb * 1024;
            }
            return available is { } a ? a + (swap ?? 0) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string Gigabytes(double bytes) =>
        bytes >= 1e9 ? $"{(bytes / 1e9).ToString("N1", CultureInfo.InvariantCulture)} GB" : $"{(bytes / 1e6).ToString("N1", CultureInfo.InvariantCulture)} MB";
}
