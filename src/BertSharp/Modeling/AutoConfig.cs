using System.Text.Json.Nodes;
using BertSharp.Hub;

namespace BertSharp.Modeling;

/// <summary>
/// transformers' <c>AutoConfig</c>: reads config.json and returns the config class of its <c>model_type</c>
/// (<see cref="BertConfig"/> for "bert", <see cref="DistilBertConfig"/> for "distilbert"). An old config without
/// model_type is recognised by its <c>architectures</c> (e.g. "DistilBertForMaskedLM"), then, as transformers does, by a
/// model type in the model's name or path ("distilbert-base-uncased").
/// </summary>
public static class AutoConfig
{
    private sealed record Family(string ModelType, string ClassPrefix, Func<JsonObject, string, PretrainedConfig> FromJsonObject, Func<PretrainedConfig> Create);

    private static readonly Family[] Families =
    [
        new("bert", "Bert", PretrainedConfig.FromJsonObject<BertConfig>, () => new BertConfig()),
        new("distilbert", "DistilBert", PretrainedConfig.FromJsonObject<DistilBertConfig>, () => new DistilBertConfig()),
    ];

    /// <summary>The model_type values BertSharp builds models for.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = Families.Select(f => f.ModelType).ToArray();

    /// <summary>The config of a local model folder or a Hub repo id (only config.json is fetched).</summary>
    public static PretrainedConfig FromPretrained(string modelIdOrPath, HubClient? hub = null, IProgress<DownloadProgress>? progress = null) =>
        FromFile(Pretrained.ResolveFile(modelIdOrPath, PretrainedConfig.FileName, hub, optional: false, progress)!, modelIdOrPath);

    /// <param name="modelIdOrPath">The name the file was loaded under, for the name fallback when the file has no model_type.</param>
    public static PretrainedConfig FromFile(string path, string? modelIdOrPath = null) =>
        FromJson(PretrainedConfig.ReadFile(path), path, modelIdOrPath);

    public static PretrainedConfig FromJson(string json, string source = PretrainedConfig.FileName, string? modelIdOrPath = null)
    {
        var obj = PretrainedConfig.ParseObject(json, source);
        return FamilyOf(obj, source, modelIdOrPath).FromJsonObject(obj, source);
    }

    /// <summary>A default config of <paramref name="modelType"/> (transformers' <c>AutoConfig.for_model</c>), e.g. to build a small random model.</summary>
    public static PretrainedConfig ForModelType(string modelType) =>
        (Families.FirstOrDefault(f => f.ModelType == modelType) ?? throw Unsupported($"model_type '{modelType}'")).Create();

    private static Family FamilyOf(JsonObject obj, string source, string? modelIdOrPath)
    {
        if (obj["model_type"] is { } node)
        {
            var modelType = node is JsonValue v && v.TryGetValue<string>(out var s) ? s
                : throw new InvalidDataException($"{source}: 'model_type' must be a string, got {node.ToJsonString()}.");
            return Families.FirstOrDefault(f => f.ModelType == modelType) ?? throw Unsupported($"{source}: model_type '{modelType}'");
        }
        // Configs from before model_type existed still name their classes.
        if (obj["architectures"] is JsonArray architectures)
            foreach (var name in architectures.OfType<JsonValue>().Select(a => a.TryGetValue<string>(out var s) ? s : null).OfType<string>())
                if (Families.FirstOrDefault(f => IsClassOf(f, name)) is { } byClass) return byClass;
        // transformers' own fallback: a model type inside the name, longest first (so "distilbert" wins over "bert").
        if (modelIdOrPath is not null && Families.OrderByDescending(f => f.ModelType.Length).FirstOrDefault(f => modelIdOrPath.Contains(f.ModelType, StringComparison.Ordinal)) is { } byName)
            return byName;
        throw new InvalidDataException(
            $"{source}: has no 'model_type', and neither its 'architectures' nor the name '{modelIdOrPath}' says which model it is; " +
            $"add \"model_type\": one of {string.Join(", ", SupportedModelTypes)}.");
    }

    // "DistilBertForMaskedLM", "BertModel", "BertLMHeadModel": the family prefix, then Model or a task head.
    private static bool IsClassOf(Family family, string className)
    {
        if (!className.StartsWith(family.ClassPrefix, StringComparison.Ordinal)) return false;
        var rest = className[family.ClassPrefix.Length..];
        return rest is "Model" or "LMHeadModel" || rest.StartsWith("For", StringComparison.Ordinal);
    }

    private static NotSupportedException Unsupported(string what) =>
        new($"{what} is not supported; BertSharp supports model_type {string.Join(", ", SupportedModelTypes)} " +
            "(BertForSequenceClassification, DistilBertForSequenceClassification).");
}
