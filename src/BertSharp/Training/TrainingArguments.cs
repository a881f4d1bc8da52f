using System.Text.Json;
using System.Text.Json.Serialization;

namespace BertSharp.Training;

public enum IntervalStrategy { No, Steps, Epoch }

public enum SchedulerType { Linear, Constant, Cosine }

/// <summary>"auto" picks CUDA when TorchSharp can see a GPU, else the CPU.</summary>
public enum DeviceChoice { Auto, Cpu, Cuda }

/// <summary>
/// Hugging Face's <c>TrainingArguments</c> with the same names (PascalCase) and defaults. Each property's summary
/// is one line that the notebooks' glossary builds on.
/// </summary>
public sealed record TrainingArguments
{
    /// <summary>Folder for checkpoints (checkpoint-{step}/), the final model, metrics.json and log_history.json.</summary>
    public string OutputDir { get; init; } = "results";

    /// <summary>Start a new run in OutputDir even though it holds checkpoints of an earlier run, deleting them first.</summary>
    public bool OverwriteOutputDir { get; init; }

    /// <summary>When to evaluate on the eval dataset: never (No), every EvalSteps optimizer steps, or after every epoch.</summary>
    public IntervalStrategy EvalStrategy { get; init; } = IntervalStrategy.No;

    /// <summary>Optimizer steps between evaluations when EvalStrategy is Steps (default: LoggingSteps).</summary>
    public int? EvalSteps { get; init; }

    /// <summary>When to write a checkpoint: never, every SaveSteps optimizer steps, or after every epoch.</summary>
    public IntervalStrategy SaveStrategy { get; init; } = IntervalStrategy.Steps;

    /// <summary>Optimizer steps between checkpoints when SaveStrategy is Steps.</summary>
    public int SaveSteps { get; init; } = 500;

    /// <summary>Keep at most this many checkpoints, deleting the oldest (the best one is always kept); null keeps all.</summary>
    public int? SaveTotalLimit { get; init; }

    /// <summary>Peak learning rate of AdamW, reached after warm-up.</summary>
    public double LearningRate { get; init; } = 5e-5;

    /// <summary>Examples per forward pass in training.</summary>
    public int PerDeviceTrainBatchSize { get; init; } = 8;

    /// <summary>Examples per forward pass in evaluation (no gradients, so it can be larger).</summary>
    public int PerDeviceEvalBatchSize { get; init; } = 8;

    /// <summary>Batches whose gradients are summed before one optimizer step (effective batch = batch size × this).</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>Passes over the training data (fractions allowed, e.g. 0.5).</summary>
    public double NumTrainEpochs { get; init; } = 3;

    /// <summary>If positive, the total number of optimizer steps, overriding NumTrainEpochs.</summary>
    public int MaxSteps { get; init; } = -1;

    /// <summary>AdamW's decoupled weight decay, applied to all weights except biases and LayerNorm weights.</summary>
    public double WeightDecay { get; init; }

    /// <summary>AdamW's decay rate of the running mean of gradients.</summary>
    public double AdamBeta1 { get; init; } = 0.9;

    /// <summary>AdamW's decay rate of the running mean of squared gradients.</summary>
    public double AdamBeta2 { get; init; } = 0.999;

    /// <summary>AdamW's term added to the denominator for numerical stability.</summary>
    public double AdamEpsilon { get; init; } = 1e-8;

    /// <summary>Gradients are rescaled so their total L2 norm is at most this (logged before clipping as grad_norm); 0 disables.</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>How the learning rate moves after warm-up: linear decay to 0, constant, or cosine decay to 0.</summary>
    public SchedulerType LrSchedulerType { get; init; } = SchedulerType.Linear;

    /// <summary>Optimizer steps of linear warm-up from 0 to LearningRate (overrides WarmupRatio when positive).</summary>
    public int WarmupSteps { get; init; }

    /// <summary>Fraction of all optimizer steps used for warm-up when WarmupSteps is 0.</summary>
    public double WarmupRatio { get; init; }

    /// <summary>Optimizer steps between training log entries (loss, grad_norm, learning_rate, epoch).</summary>
    public int LoggingSteps { get; init; } = 500;

    /// <summary>Also log after the very first optimizer step.</summary>
    public bool LoggingFirstStep { get; init; }

    /// <summary>Seed for weight initialisation of new layers, dropout and the order of training examples.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Mixed precision: matrix multiplications in bfloat16 on a CUDA GPU, float32 weights and optimizer state.</summary>
    public bool Bf16 { get; init; }

    /// <summary>Mixed precision in float16 with dynamic loss scaling, for CUDA GPUs without bfloat16 (T4, V100); float32 weights.</summary>
    public bool Fp16 { get; init; }

    /// <summary>TensorFloat-32 for float32 matmuls on a CUDA GPU (Ampere or newer): true on, false off, null leaves the default.</summary>
    public bool? Tf32 { get; init; }

    /// <summary>Where to train: Auto (CUDA if available, else CPU), Cpu or Cuda.</summary>
    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;

    /// <summary>After training, load the checkpoint with the best MetricForBestModel (needs matching eval and save strategies).</summary>
    public bool LoadBestModelAtEnd { get; init; }

    /// <summary>The evaluation metric that ranks checkpoints, e.g. "eval_loss" or "eval_f1" ("eval_" may be omitted).</summary>
    public string? MetricForBestModel { get; init; }

    /// <summary>Whether a larger MetricForBestModel is better (default: false for a loss, true otherwise).</summary>
    public bool? GreaterIsBetter { get; init; }

    /// <summary>Stop after this many evaluations without improvement of MetricForBestModel; null never stops early.</summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>Sort examples of similar length into the same batch (less padding, faster), keeping batches shuffled.</summary>
    public bool GroupByLength { get; init; }

    /// <summary>Worker threads for CPU tensor operations; null leaves TorchSharp's default (one per core).</summary>
    public int? NumThreads { get; init; }

    /// <summary>Optimizer steps in one pass over <paramref name="trainExamples"/> examples (at least 1).</summary>
    public int UpdateStepsPerEpoch(int trainExamples)
    {
        var batches = (trainExamples + PerDeviceTrainBatchSize - 1) / PerDeviceTrainBatchSize;
        return Math.Max(1, (batches + GradientAccumulationSteps - 1) / GradientAccumulationSteps);
    }

    /// <summary>All optimizer steps of a run over <paramref name="trainExamples"/> examples: MaxSteps, else epochs × steps per epoch.</summary>
    public int TotalOptimizerSteps(int trainExamples) =>
        MaxSteps > 0 ? MaxSteps : (int)Math.Ceiling(NumTrainEpochs * UpdateStepsPerEpoch(trainExamples));

    /// <summary>The metric name with its "eval_" prefix, as it appears in the log history.</summary>
    [JsonIgnore]
    public string BestMetricKey => MetricForBestModel is null ? "eval_loss"
        : MetricForBestModel.StartsWith("eval_", StringComparison.Ordinal) ? MetricForBestModel : "eval_" + MetricForBestModel;

    /// <summary>Whether a larger value of <see cref="BestMetricKey"/> is better.</summary>
    [JsonIgnore]
    public bool BestMetricGreaterIsBetter => GreaterIsBetter ?? !BestMetricKey.EndsWith("loss", StringComparison.Ordinal);

    /// <summary>Rejects combinations transformers would reject, saying what to change.</summary>
    public void Validate()
    {
        void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException($"TrainingArguments: {message}");
        }
        Require(!string.IsNullOrWhiteSpace(OutputDir), "OutputDir must name a folder.");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"LearningRate must be a positive number, got {LearningRate}.");
        Require(PerDeviceTrainBatchSize >= 1, $"PerDeviceTrainBatchSize must be at least 1, got {PerDeviceTrainBatchSize}.");
        Require(PerDeviceEvalBatchSize >= 1, $"PerDeviceEvalBatchSize must be at least 1, got {PerDeviceEvalBatchSize}.");
        Require(GradientAccumulationSteps >= 1, $"GradientAccumulationSteps must be at least 1, got {GradientAccumulationSteps}.");
        Require(MaxSteps > 0 || NumTrainEpochs > 0, $"set NumTrainEpochs > 0 or MaxSteps > 0 (got {NumTrainEpochs} and {MaxSteps}).");
        Require(WeightDecay >= 0, $"WeightDecay must be >= 0, got {WeightDecay}.");
        Require(AdamBeta1 is >= 0 and < 1, $"AdamBeta1 must be in [0, 1), got {AdamBeta1}.");
        Require(AdamBeta2 is >= 0 and < 1, $"AdamBeta2 must be in [0, 1), got {AdamBeta2}.");
        Require(AdamEpsilon > 0, $"AdamEpsilon must be positive, got {AdamEpsilon}.");
        Require(MaxGradNorm >= 0, $"MaxGradNorm must be >= 0 (0 disables clipping), got {MaxGradNorm}.");
        Require(WarmupSteps >= 0, $"WarmupSteps must be >= 0, got {WarmupSteps}.");
        Require(WarmupRatio is >= 0 and <= 1, $"WarmupRatio must be in [0, 1], got {WarmupRatio}.");
        Require(LoggingSteps >= 1, $"LoggingSteps must be at least 1, got {LoggingSteps}.");
        Require(SaveStrategy != IntervalStrategy.Steps || SaveSteps >= 1, $"SaveSteps must be at least 1 with SaveStrategy Steps, got {SaveSteps}.");
        Require(EvalStrategy != IntervalStrategy.Steps || (EvalSteps ?? LoggingSteps) >= 1, $"EvalSteps must be at least 1, got {EvalSteps}.");
        Require(SaveTotalLimit is null or >= 1, $"SaveTotalLimit must be at least 1 (or null to keep all), got {SaveTotalLimit}.");
        Require(NumThreads is null or >= 1, $"NumThreads must be at least 1, got {NumThreads}.");
        Require(!(Fp16 && Bf16), "Fp16 and Bf16 are both true; choose one mixed precision (Bf16 where the GPU has it, Fp16 otherwise).");
        if (LoadBestModelAtEnd)
        {
            Require(EvalStrategy != IntervalStrategy.No, "LoadBestModelAtEnd needs an EvalStrategy other than No.");
            Require(SaveStrategy == EvalStrategy,
                $"LoadBestModelAtEnd needs SaveStrategy to equal EvalStrategy (got {SaveStrategy} and {EvalStrategy}), so every evaluated model is saved.");
            Require(SaveStrategy != IntervalStrategy.Steps || SaveSteps % (EvalSteps ?? LoggingSteps) == 0,
                $"LoadBestModelAtEnd needs SaveSteps ({SaveSteps}) to be a multiple of EvalSteps ({EvalSteps ?? LoggingSteps}).");
        }
        if (EarlyStoppingPatience is { } patience)
        {
            Require(patience >= 1, $"EarlyStoppingPatience must be at least 1, got {patience}.");
            Require(EvalStrategy != IntervalStrategy.No, "EarlyStoppingPatience needs an EvalStrategy other than No: early stopping watches evaluations.");
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>snake_case JSON, the names transformers' training_args use.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static TrainingArguments FromJson(string json) =>
        JsonSerializer.Deserialize<TrainingArguments>(json, JsonOptions) ?? throw new InvalidDataException("training arguments JSON is null");
}
