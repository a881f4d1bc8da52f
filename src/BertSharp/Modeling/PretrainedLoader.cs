using System.Text.Json;
using BertSharp.Hub;
using BertSharp.IO;
using BertSharp.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace BertSharp.Modeling;

/// <summary>
/// The from_pretrained / save_pretrained machinery shared by every model family (BERT, DistilBERT): resolving files, mapping the
/// checkpoint's key names onto the model's, copying tensors, and writing a folder Python can read.
/// </summary>
public static class PretrainedLoader
{
    public const string WeightsFile = "model.safetensors";
    public const string ShardIndexFile = "model.safetensors.index.json";
    private const string PickleWeightsFile = "pytorch_model.bin";

    /// <param name="readConfig">Reads config.json (given its local path) into the family's config.</param>
    /// <param name="create">Builds the model, freshly initialised, from the config.</param>
    internal static TModel Load<TModel>(string modelIdOrPath, PretrainedOptions? options, Func<string, PretrainedConfig> readConfig,
        Func<PretrainedConfig, TModel> create)
        where TModel : nn.Module, IPretrainedModel
    {
        options ??= new PretrainedOptions();
        var hub = options.Hub;
        using var ownedHub = hub is null && !Directory.Exists(modelIdOrPath) ? new HubClient() : null;
        hub ??= ownedHub;
        string Resolve(string file) => Pretrained.ResolveFile(modelIdOrPath, file, hub, optional: false, options.DownloadProgress)!;
        string? TryResolve(string file) => Pretrained.ResolveFile(modelIdOrPath, file, hub, optional: true, options.DownloadProgress);

        var configPath = Resolve(PretrainedConfig.FileName);
        var config = readConfig(configPath);
        if (options.Id2Label is { } labels) config.Id2Label = labels;
        else if (options.NumLabels is { } n) config.NumLabels = n;
        if (options.ConfigOverrides is { } overrides)
        {
            overrides(config);
            config.Validate("config overrides");
        }

        var shards = FindWeightFiles(modelIdOrPath, Resolve, TryResolve);
        // Sizes are checked against the file and the machine before the model exists: allocating an absurd one aborts
        // the process inside libtorch rather than throwing.
        if (!options.IgnoreMismatchedSizes)
            ModelSizeCheck.EnsureConfigMatchesWeights(configPath, config.ExpectedWeights(), config.ExpectedLayers(), shards);
        ModelSizeCheck.EnsureFitsInMemory(config.ParameterCount(withClassifier: true), configPath, config.SizeSummary());
        var model = create(config);
        try
        {
            // The class actually built: AutoModelForSequenceClassification reports DistilBertForSequenceClassification, not its base.
            var info = LoadWeights(model, shards, modelIdOrPath, model.GetType().Name, model.BaseModelPrefix, options.IgnoreMismatchedSizes);
            model.LoadingInfo = info;
            if (!info.IsComplete || info.UnexpectedKeys.Count > 0) options.Log?.Invoke(info.ToString());
            if (options.Device is { } device) model.to(device);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads a local folder's weights into an existing model (e.g. a checkpoint on resume, or the best checkpoint at
    /// the end of training); every weight must be present with the right shape.
    /// </summary>
    public static void LoadInto<TModel>(TModel model, string directory) where TModel : nn.Module, IPretrainedModel
    {
        string? Local(string file) => File.Exists(Path.Combine(directory, file)) ? Path.Combine(directory, file) : null;
        var shards = FindWeightFiles(directory, file => Local(file) ?? throw new FileNotFoundException($"{directory}: {file} is missing."), Local);
        var info = LoadWeights(model, shards, directory, model.GetType().Name, model.BaseModelPrefix, ignoreMismatchedSizes: false);
        if (!info.IsComplete)
            throw new InvalidDataException($"{directory}: the checkpoint lacks weights the model has: [{string.Join(", ", info.MissingKeys)}].");
    }

    private static IReadOnlyList<(string Path, IReadOnlyList<string>? Keys)> FindWeightFiles(
        string modelIdOrPath, Func<string, string> resolve, Func<string, string?> tryResolve)
    {
        if (tryResolve(WeightsFile) is { } single) return [(single, null)];
        if (tryResolve(ShardIndexFile) is { } index)
        {
            Dictionary<string, List<string>> byShard;
            try
            {
                using var doc = JsonText.ParseDocument(File.ReadAllText(index));
                if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                    throw new InvalidDataException($"{index}: has no 'weight_map' object.");
                byShard = map.EnumerateObject()
                    .GroupBy(p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()!
                        : throw new InvalidDataException($"{index}: weight_map['{p.Name}'] must be a file name."))
                    .ToDictionary(g => g.Key, g => g.Select(p => p.Name).ToList());
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{index}: not valid JSON ({e.Message}).", e);
            }
            return byShard.Select(kv => (resolve(kv.Key), (IReadOnlyList<string>?)kv.Value)).ToList();
        }
        if (tryResolve(PickleWeightsFile) is { } pickle)
            throw new NotSupportedException(
                $"{pickle}: BertSharp reads safetensors, not PyTorch pickles. Convert it in Python with " +
                "`AutoModel.from_pretrained(path).save_pretrained(path, safe_serialization=True)`.");
        throw new FileNotFoundException($"{modelIdOrPath}: no {WeightsFile} or {ShardIndexFile} found.");
    }

    /// <summary>
    /// Maps a checkpoint key to the model's name for it: legacy TensorFlow-era LayerNorm names, and the base-model
    /// prefix (<c>bert.</c>, <c>distilbert.</c>) that separates a task model's encoder from its head: added when a task
    /// model loads a bare encoder's checkpoint, stripped when a bare encoder loads a task model's.
    /// </summary>
    /// <param name="baseModelPrefix">transformers' base_model_prefix of the model's family, without the dot.</param>
    public static string? MapKey(string checkpointKey, ISet<string> modelKeys, string baseModelPrefix, out bool renamed)
    {
        var key = checkpointKey;
        if (key.EndsWith(".gamma", StringComparison.Ordinal)) key = key[..^".gamma".Length] + ".weight";
        else if (key.EndsWith(".beta", StringComparison.Ordinal)) key = key[..^".beta".Length] + ".bias";
        renamed = key != checkpointKey;
        if (modelKeys.Contains(key)) return key;
        var prefix = baseModelPrefix + ".";
        if (modelKeys.Contains(prefix + key)) return prefix + key;
        if (key.StartsWith(prefix, StringComparison.Ordinal) && modelKeys.Contains(key[prefix.Length..])) return key[prefix.Length..];
        return null;
    }

    private static LoadingInfo LoadWeights(nn.Module model, IReadOnlyList<(string Path, IReadOnlyList<string>? Keys)> shards,
        string source, string modelClass, string baseModelPrefix, bool ignoreMismatchedSizes)
    {
        var parameters = model.state_dict();
        var modelKeys = new HashSet<string>(parameters.Keys);
        var loaded = new HashSet<string>();
        var unexpected = new List<string>();
        var mismatched = new List<string>();
        var renamed = new List<string>();

        using var noGrad = no_grad();
        foreach (var (path, expectedKeys) in shards)
        {
            using var file = SafetensorsFile.Open(path);
            foreach (var tensorInfo in file.Tensors)
            {
                if (expectedKeys != null && !expectedKeys.Contains(tensorInfo.Name)) continue;
                var target = MapKey(tensorInfo.Name, modelKeys, baseModelPrefix, out var wasRenamed);
                if (target is null)
                {
                    // A buffer transformers recomputes, not a weight: never worth a warning.
                    if (!tensorInfo.Name.EndsWith("position_ids", StringComparison.Ordinal)) unexpected.Add(tensorInfo.Name);
                    continue;
                }
                if (wasRenamed) renamed.Add($"{tensorInfo.Name} -> {target}");
                var destination = parameters[target];
                // Integers and booleans are not weights that lost precision: casting them would load numbers that
                // were never trained (a converter bug, or the wrong file), so they are refused rather than converted.
                if (destination.is_floating_point() && !tensorInfo.Dtype.IsFloatingPoint())
                    throw new InvalidDataException(
                        $"{path}: tensor '{tensorInfo.Name}' is stored as {tensorInfo.Dtype}, which cannot be a float weight ({target} is {destination.dtype}); the file is not a checkpoint of this model.");
                if (!destination.shape.SequenceEqual(tensorInfo.Shape))
                {
                    mismatched.Add($"{target}: checkpoint shape [{string.Join(", ", tensorInfo.Shape)}] vs model shape [{string.Join(", ", destination.shape)}]");
                    continue;
                }
                using var source32 = file.ReadTensor(tensorInfo.Name);
                using var converted = source32.to(destination.dtype);
                if (converted.is_floating_point() && !isfinite(converted).all().item<bool>())
                    throw new InvalidDataException($"{path}: tensor '{tensorInfo.Name}' contains NaN or infinite values; the checkpoint is corrupt.");
                destination.copy_(converted);
                if (!loaded.Add(target))
                    throw new InvalidDataException($"{path}: two checkpoint tensors map to '{target}' (e.g. both a legacy and a current name).");
            }
        }
        if (mismatched.Count > 0 && !ignoreMismatchedSizes)
            throw new InvalidDataException(
                $"{source}: the checkpoint's shapes differ from the model's: {string.Join("; ", mismatched)}. " +
                "Pass IgnoreMismatchedSizes = true to re-initialise them (e.g. for a different number of labels).");
        var missing = modelKeys.Where(k => !loaded.Contains(k)).Order(StringComparer.Ordinal).ToList();
        return new LoadingInfo(source, modelClass, missing, unexpected, mismatched, renamed);
    }

    internal static void Save<TModel>(TModel model, string directory, string architecture) where TModel : nn.Module, IPretrainedModel
    {
        Directory.CreateDirectory(directory);
        // Earlier saves that were killed left their hidden weights behind (a model's size each); the writer of each
        // is checked, so a concurrent save into the same folder keeps its own.
        TempFiles.RemoveStale(directory);
        var config = model.Config.Clone();
        config.Architectures = [architecture];

        var pending = Path.Combine(directory, TempFiles.Name(WeightsFile, "pending"));
        try
        {
            var tensors = model.state_dict().Select(kv => KeyValuePair.Create(kv.Key, kv.Value.detach())).ToList();
            SafetensorsWriter.Save(pending, tensors, new Dictionary<string, string> { ["format"] = "pt" });
            // The weights are complete on disk before either visible file changes; the config is swapped first and
            // the weights last, so a crash leaves either the old model or the new config with complete weights.
            config.Save(Path.Combine(directory, PretrainedConfig.FileName));
            File.Move(pending, Path.Combine(directory, WeightsFile), overwrite: true);
        }
        finally
        {
            if (File.Exists(pending)) File.Delete(pending);
        }
    }
}
