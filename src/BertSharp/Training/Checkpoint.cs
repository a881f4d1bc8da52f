using BertSharp.IO;
using BertSharp.Modeling;
using BertSharp.Safetensors;
using static TorchSharp.torch;

namespace BertSharp.Training;

/// <summary>
/// One <c>checkpoint-{step}</c> folder of a training run, laid out as transformers lays it out: the model (and tokenizer)
/// as <c>SavePretrained</c> writes them, the optimizer's moments by parameter name, the random-number state, the
/// training arguments and <c>trainer_state.json</c>. Everything needed to continue the run exactly where it stopped.
/// </summary>
public sealed class Checkpoint
{
    public const string Prefix = "checkpoint-";
    private const string OptimizerFile = "optimizer.safetensors";
    private const string RngFile = "rng_state.safetensors";
    private const string ScalerFile = "scaler.json";
    private const string ArgsFile = "training_args.json";

    private Checkpoint(string directory, int step)
    {
        Directory = directory;
        Step = step;
    }

    /// <summary>The folder's full path.</summary>
    public string Directory { get; }

    /// <summary>The optimizer step it was written after (the N of checkpoint-N).</summary>
    public int Step { get; }

    public override string ToString() => Directory;

    /// <summary>
    /// Writes <c>checkpoint-{state.GlobalStep}</c> in <paramref name="outputDir"/>. Everything goes into a hidden folder
    /// first and is renamed in one move, so a crash mid-save never leaves a checkpoint that looks complete, and never
    /// touches the previous good one.
    /// </summary>
    /// <param name="saveModel">Writes the model (and tokenizer) into the folder it is given.</param>
    /// <param name="scaler">fp16's loss scaler, whose scale and clean-step count a resume must continue from; null or disabled: none is written.</param>
    public static Checkpoint Save(string outputDir, TrainerState state, Action<string> saveModel, AdamW optimizer, TrainingArguments args, RunInputs inputs,
        GradScaler? scaler = null)
    {
        var name = Prefix + state.GlobalStep;
        var final = PathFor(outputDir, state.GlobalStep);
        System.IO.Directory.CreateDirectory(outputDir);
        // The host and process id in the name tell a later run whether the folder is still being written.
        var temp = Path.Combine(outputDir, TempFiles.Name(name));
        try
        {
            saveModel(temp);
            optimizer.Save(Path.Combine(temp, OptimizerFile));
            if (scaler is { Enabled: true }) scaler.Save(Path.Combine(temp, ScalerFile));
            using (var rng = get_rng_state())
                SafetensorsWriter.Save(Path.Combine(temp, RngFile), [KeyValuePair.Create("cpu", rng)]);
            AtomicFile.WriteAllText(Path.Combine(temp, ArgsFile), args.ToJson() + "\n");
            inputs.Save(Path.Combine(temp, RunInputs.FileName));
            state.Save(Path.Combine(temp, TrainerState.FileName));
            if (System.IO.Directory.Exists(final)) System.IO.Directory.Delete(final, recursive: true);
            System.IO.Directory.Move(temp, final);
        }
        catch
        {
            if (System.IO.Directory.Exists(temp)) System.IO.Directory.Delete(temp, recursive: true);
            throw;
        }
        return new Checkpoint(final, state.GlobalStep);
    }

    /// <summary>Where the checkpoint of <paramref name="step"/> is (or will be) in <paramref name="outputDir"/>.</summary>
    public static string PathFor(string outputDir, int step) => Path.GetFullPath(Path.Combine(outputDir, Prefix + step));

    /// <summary>The checkpoint-N folders of <paramref name="outputDir"/>, oldest (smallest N) first.</summary>
    public static IReadOnlyList<Checkpoint> List(string outputDir) =>
        !System.IO.Directory.Exists(outputDir) ? [] :
        System.IO.Directory.GetDirectories(outputDir, Prefix + "*")
            .Select(d => (Dir: Path.GetFullPath(d), Ok: int.TryParse(Path.GetFileName(d)[Prefix.Length..], out var step), Step: step))
            .Where(c => c.Ok).OrderBy(c => c.Step).Select(c => new Checkpoint(c.Dir, c.Step)).ToList();

    /// <summary>The newest checkpoint of <paramref name="outputDir"/>, or null when it has none.</summary>
    public static Checkpoint? Latest(string outputDir) => List(outputDir) is { Count: > 0 } list ? list[^1] : null;

    /// <summary>A checkpoint folder given by path; it must exist and hold a trainer state.</summary>
    public static Checkpoint Open(string directory)
    {
        if (!System.IO.Directory.Exists(directory)) throw new DirectoryNotFoundException($"Checkpoint folder '{directory}' does not exist.");
        var state = TrainerState.Load(Path.Combine(directory, TrainerState.FileName));
        return new Checkpoint(Path.GetFullPath(directory), state.GlobalStep);
    }

    /// <summary>
    /// Deletes the oldest checkpoints beyond <paramref name="limit"/>. The best checkpoint is never deleted; with a limit of
    /// 1 the latest is kept beside it, so training can still resume from where it stopped.
    /// </summary>
    public static void Rotate(string outputDir, int? limit, string? bestCheckpoint)
    {
        if (limit is not { } keepCount) return;
        var checkpoints = List(outputDir);
        var keep = keepCount == 1 && bestCheckpoint is not null && checkpoints.Count > 0 && checkpoints[^1].Directory != bestCheckpoint ? 2 : keepCount;
        foreach (var old in checkpoints.Where(c => c.Directory != bestCheckpoint).Take(Math.Max(0, checkpoints.Count - keep)))
            System.IO.Directory.Delete(old.Directory, recursive: true);
    }

    public TrainerState LoadState() => TrainerState.Load(Path.Combine(Directory, TrainerState.FileName));

    public TrainingArguments LoadArguments()
    {
        var path = Path.Combine(Directory, ArgsFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: the checkpoint has no training arguments.", path);
        try { return TrainingArguments.FromJson(File.ReadAllText(path)); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{path}: malformed training arguments ({e.Message}).", e); }
    }

    /// <summary>The model and data the run was started with; null for checkpoints older than this record.</summary>
    public RunInputs? LoadRunInputs() => RunInputs.Load(Path.Combine(Directory, RunInputs.FileName));

    /// <summary>
    /// Gets <paramref name="outputDir"/> ready before a run starts: it must be writable; half-written checkpoint folders
    /// left by interrupted runs are removed; and a new (not resumed) run refuses to start beside another run's
    /// checkpoints — a later resume would pick theirs up as its own — unless <paramref name="overwrite"/> deletes them.
    /// Half-written files and folders are recognised as <see cref="TempFiles"/> names them.
    /// </summary>
    public static void PrepareOutputDir(string outputDir, bool resuming, bool overwrite)
    {
        OutputDirectory.EnsureWritable(outputDir);
        TempFiles.RemoveStale(outputDir);
        if (resuming) return;
        var existing = List(outputDir);
        if (existing.Count == 0) return;
        if (!overwrite)
            throw new ArgumentException(
                $"The output folder '{Path.GetFullPath(outputDir)}' already holds checkpoints of an earlier run ({Describe(existing)}); a new run " +
                "there would be mixed up with them when resumed. Resume that run, choose another output folder, or set OverwriteOutputDir " +
                "(--overwrite-output-dir) to delete them and start afresh.");
        foreach (var old in existing) System.IO.Directory.Delete(old.Directory, recursive: true);
    }

    private static string Describe(IReadOnlyList<Checkpoint> checkpoints) =>
        checkpoints.Count == 1 ? Path.GetFileName(checkpoints[0].Directory)
            : $"{Path.GetFileName(checkpoints[0].Directory)} … {Path.GetFileName(checkpoints[^1].Directory)}, {checkpoints.Count} in all";

    /// <summary>Puts the checkpoint's weights into <paramref name="model"/>, its moments into <paramref name="optimizer"/>, and restores the random-number state.</summary>
    /// <param name="scaler">fp16's loss scaler: restored from scaler.json where the checkpoint has one (a checkpoint
    /// written without fp16 leaves it at its initial scale, as transformers does).</param>
    public void Restore(SequenceClassificationModel model, AdamW optimizer, GradScaler? scaler = null)
    {
        var scalerPath = Path.Combine(Directory, ScalerFile);
        if (scaler is { Enabled: true } && File.Exists(scalerPath)) scaler.Load(scalerPath);
        PretrainedLoader.LoadInto(model, Directory);
        optimizer.Load(Path.Combine(Directory, OptimizerFile));
        var rngPath = Path.Combine(Directory, RngFile);
        if (!File.Exists(rngPath)) return;
        using var file = SafetensorsFile.Open(rngPath);
        using var rng = file.ReadTensor("cpu");
        set_rng_state(rng);
    }
}
