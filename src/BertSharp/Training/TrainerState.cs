using System.Text.Json;
using System.Text.Json.Nodes;
using BertSharp.IO;

namespace BertSharp.Training;

/// <summary>
/// transformers' <c>TrainerState</c>: the log history and progress counters that trainer_state.json holds in every
/// checkpoint, so runs can be resumed, compared and charted.
/// </summary>
public sealed class TrainerState
{
    public const string FileName = "trainer_state.json";

    public int GlobalStep { get; set; }
    public double Epoch { get; set; }
    public int MaxSteps { get; set; }
    public double NumTrainEpochs { get; set; }
    public int LoggingSteps { get; set; }
    public int? EvalSteps { get; set; }
    public int SaveSteps { get; set; }
    public int TrainBatchSize { get; set; }
    public double? BestMetric { get; set; }
    public string? BestModelCheckpoint { get; set; }
    /// <summary>Evaluations in a row without improvement, for early stopping.</summary>
    public int EarlyStoppingPatienceCounter { get; set; }

    /// <summary>
    /// Steps whose update fp16 loss scaling skipped (gradients overflowed). The learning-rate schedule does not advance
    /// on them, as accelerate's scheduler wrapper does in transformers' Trainer.
    /// </summary>
    public int SkippedSteps { get; set; }

    /// <summary>Every log entry in order: training logs, evaluations, and the final summary.</summary>
    public List<Dictionary<string, double>> LogHistory { get; } = [];

    /// <summary>The state at the start of a run of <paramref name="maxSteps"/> optimizer steps with these arguments.</summary>
    public static TrainerState Start(TrainingArguments args, int maxSteps, int numEpochs) => new()
    {
        MaxSteps = maxSteps,
        NumTrainEpochs = numEpochs,
        LoggingSteps = args.LoggingSteps,
        EvalSteps = args.EvalStrategy == IntervalStrategy.Steps ? args.EvalSteps ?? args.LoggingSteps : null,
        SaveSteps = args.SaveSteps,
        TrainBatchSize = args.PerDeviceTrainBatchSize,
    };

    /// <summary>
    /// Takes over the progress of a checkpoint's state — steps, epoch, best metric, early-stopping count and the log
    /// history so far — keeping this run's settings.
    /// </summary>
    public void ContinueFrom(TrainerState saved)
    {
        GlobalStep = saved.GlobalStep;
        Epoch = saved.Epoch;
        BestMetric = saved.BestMetric;
        BestModelCheckpoint = saved.BestModelCheckpoint;
        EarlyStoppingPatienceCounter = saved.EarlyStoppingPatienceCounter;
        SkippedSteps = saved.SkippedSteps;
        LogHistory.Clear();
        LogHistory.AddRange(saved.LogHistory);
    }

    public JsonObject ToJsonObject() => new()
    {
        ["best_metric"] = BestMetric,
        ["best_model_checkpoint"] = BestModelCheckpoint,
        ["epoch"] = Epoch,
        ["eval_steps"] = EvalSteps,
        ["global_step"] = GlobalStep,
        ["log_history"] = LogHistoryJson(LogHistory),
        ["logging_steps"] = LoggingSteps,
        ["max_steps"] = MaxSteps,
        ["num_train_epochs"] = NumTrainEpochs,
        ["save_steps"] = SaveSteps,
        ["train_batch_size"] = TrainBatchSize,
        ["early_stopping_patience_counter"] = EarlyStoppingPatienceCounter,
        ["skipped_steps"] = SkippedSteps,
    };

    public static JsonArray LogHistoryJson(IEnumerable<Dictionary<string, double>> history) =>
        new(history.Select(entry => (JsonNode)new JsonObject(entry.Select(kv =>
            KeyValuePair.Create(kv.Key, (JsonNode?)(kv.Key == LogKeys.Step ? JsonValue.Create((long)kv.Value) : JsonValue.Create(kv.Value)))))).ToArray());

    /// <summary>One log entry read back from JSON: its numeric fields (the inverse of <see cref="LogHistoryJson"/>).</summary>
    public static Dictionary<string, double> LogEntryFromJson(JsonObject entry) =>
        entry.Where(kv => kv.Value is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
            .ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<double>());

    public void Save(string path) =>
        AtomicFile.WriteAllText(path, ToJsonObject().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

    public static TrainerState Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no trainer state; is this a checkpoint folder?", path);
        try
        {
            var obj = JsonText.ParseNode(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: not a JSON object.");
            var state = new TrainerState
            {
                GlobalStep = Required(obj, "global_step", path).GetValue<int>(),
                Epoch = Required(obj, "epoch", path).GetValue<double>(),
                MaxSteps = Required(obj, "max_steps", path).GetValue<int>(),
                NumTrainEpochs = obj["num_train_epochs"]?.GetValue<double>() ?? 0,
                LoggingSteps = obj["logging_steps"]?.GetValue<int>() ?? 0,
                EvalSteps = obj["eval_steps"]?.GetValue<int?>(),
                SaveSteps = obj["save_steps"]?.GetValue<int>() ?? 0,
                TrainBatchSize = obj["train_batch_size"]?.GetValue<int>() ?? 0,
                BestMetric = obj["best_metric"]?.GetValue<double?>(),
                BestModelCheckpoint = obj["best_model_checkpoint"]?.GetValue<string>(),
                EarlyStoppingPatienceCounter = obj["early_stopping_patience_counter"]?.GetValue<int>() ?? 0,
                SkippedSteps = obj["skipped_steps"]?.GetValue<int>() ?? 0,
            };
            if (obj["log_history"] is JsonArray history)
                foreach (var entry in history.OfType<JsonObject>())
                    state.LogHistory.Add(LogEntryFromJson(entry));
            return state;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: malformed trainer state ({e.Message}).", e);
        }
    }

    private static JsonNode Required(JsonObject obj, string field, string path) =>
        obj[field] ?? throw new InvalidDataException($"{path}: '{field}' is missing.");
}
