using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BertSharp.Data;
using BertSharp.IO;
using BertSharp.Modeling;

namespace BertSharp.Training;

/// <summary>
/// What a run was started with besides its <see cref="TrainingArguments"/> — the model's architecture and the exact
/// training data — recorded in every checkpoint (<c>run_inputs.json</c>) so that a resume can tell a continuation of
/// the same run from a checkpoint of another one. The base model's weights are not recorded: a resume replaces them all.
/// </summary>
public sealed record RunInputs(
    string Model,
    string ModelConfigSha256,
    string TrainDataset,
    int TrainExamples,
    int MaxLength,
    string TrainDataSha256)
{
    public const string FileName = "run_inputs.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static RunInputs Of(SequenceClassificationModel model, TokenizedDataset train) => new(
        model.LoadingInfo?.Source ?? "(a model built in code)",
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(model.Config.ToJson()))),
        train.Source,
        train.Count,
        train.MaxLength,
        train.Fingerprint());

    public void Save(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");

    /// <summary>The recorded inputs, or null for a checkpoint written before they were recorded.</summary>
    public static RunInputs? Load(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<RunInputs>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"{path}: holds null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a run-inputs file ({e.Message}).", e);
        }
    }
}

/// <summary>
/// Compares a checkpoint's arguments and inputs with a resuming run's. What decides which examples make up each step
/// (data, truncation, seed, batch size, accumulation, epochs, length grouping) or what the weights are (the
/// architecture) cannot change mid-run: a resume that changed them would silently be another run. What only steers the
/// remaining steps (learning rate, schedule, logging, evaluation, saving, device) may change, and is reported.
/// </summary>
public static class ResumeCheck
{
    private static readonly string[] Fixed =
    [
        nameof(TrainingArguments.Seed), nameof(TrainingArguments.PerDeviceTrainBatchSize), nameof(TrainingArguments.GradientAccumulationSteps),
        nameof(TrainingArguments.NumTrainEpochs), nameof(TrainingArguments.MaxSteps), nameof(TrainingArguments.GroupByLength),
    ];

    // Where the run writes, and whether it may overwrite, are about this invocation, not about the run being continued.
    private static readonly string[] Ignored = [nameof(TrainingArguments.OutputDir), nameof(TrainingArguments.OverwriteOutputDir)];

    /// <summary>
    /// The differences that forbid the resume, and those that are allowed but worth saying. Without
    /// <paramref name="currentInputs"/> only the arguments are compared (a check that can run before any data is loaded).
    /// </summary>
    public static (IReadOnlyList<string> Refusals, IReadOnlyList<string> Notes) Compare(
        TrainingArguments saved, RunInputs? savedInputs, TrainingArguments current, RunInputs? currentInputs)
    {
        var refusals = new List<string>();
        var notes = new List<string>();
        foreach (var field in TrainingArgumentsDocs.Describe(current))
        {
            if (Ignored.Contains(field.Name)) continue;
            var before = typeof(TrainingArguments).GetProperty(field.Name)!.GetValue(saved);
            if (Equals(before, field.Value)) continue;
            var change = $"{field.HuggingFaceName} {Show(field.Value)} (the checkpoint has {Show(before)})";
            (Fixed.Contains(field.Name) ? refusals : notes).Add(change);
        }
        if (currentInputs is null) return (refusals, notes);
        if (savedInputs is null)
        {
            notes.Add("the checkpoint does not record its model and data, so they could not be compared");
            return (refusals, notes);
        }
        if (savedInputs.ModelConfigSha256 != currentInputs.ModelConfigSha256)
            refusals.Add($"the model's config differs from the checkpoint's (model {currentInputs.Model}; the checkpoint was trained from {savedInputs.Model})");
        else if (savedInputs.Model != currentInputs.Model)
            notes.Add($"model {currentInputs.Model} (the checkpoint was trained from {savedInputs.Model}; same architecture, and the checkpoint's weights are loaded)");
        if (savedInputs.MaxLength != currentInputs.MaxLength)
            refusals.Add($"max length {currentInputs.MaxLength} (the checkpoint has {savedInputs.MaxLength})");
        if (savedInputs.TrainDataSha256 != currentInputs.TrainDataSha256)
            refusals.Add($"the training data differ: {currentInputs.TrainExamples:N0} examples of {currentInputs.TrainDataset} (the checkpoint was trained on {savedInputs.TrainExamples:N0} examples of {savedInputs.TrainDataset})");
        return (refusals, notes);
    }

    /// <summary>Throws when <see cref="Compare"/> found differences that forbid the resume; returns the notes otherwise.</summary>
    public static IReadOnlyList<string> EnsureResumable(Checkpoint checkpoint, TrainingArguments current, RunInputs? currentInputs)
    {
        var (refusals, notes) = Compare(checkpoint.LoadArguments(), checkpoint.LoadRunInputs(), current, currentInputs);
        if (refusals.Count > 0)
            throw new ArgumentException(
                $"{checkpoint.Directory} cannot be resumed with these arguments: {string.Join("; ", refusals)}. These decide which examples " +
                "make up each step, so the resumed run would not continue the checkpoint's; resume with the checkpoint's values, or start a new run.");
        return notes;
    }

    private static string Show(object? value) => value switch
    {
        null => "none",
        double d => d.ToString("G", System.Globalization.CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => value.ToString()!,
    };
}
