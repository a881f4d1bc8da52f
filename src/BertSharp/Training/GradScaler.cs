using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using BertSharp.IO;
using static TorchSharp.torch;

namespace BertSharp.Training;

/// <summary>
/// Dynamic loss scaling for float16 training, with the semantics of PyTorch's <c>torch.amp.GradScaler</c>: the loss
/// is multiplied by the scale (initially 2^16) before backward so small gradients survive float16; before clipping
/// the gradients are divided by it again; a step whose gradients hold inf or NaN is skipped and the scale halved; after
/// 2,000 clean steps in a row the scale doubles. One optimizer step per update:
/// <code>
/// scaler.Scale(loss).backward();
/// scaler.Unscale(optimizer);               // before clipping, so the norm is the true one
/// var norm = optimizer.ClipGradNorm(1.0);  // inf or NaN when this step will be skipped
/// scaler.Step(optimizer, learningRate);    // false: skipped
/// scaler.Update();
/// optimizer.ZeroGrad();
/// </code>
/// </summary>
public sealed class GradScaler
{
    private float _scale;
    private bool _unscaled;
    private bool _foundInf;
    private bool _stepped;

    public GradScaler(double initScale = 65536.0, double growthFactor = 2.0, double backoffFactor = 0.5, int growthInterval = 2000, bool enabled = true)
    {
        if (!(initScale > 0) || !float.IsFinite((float)initScale))
            throw new ArgumentOutOfRangeException(nameof(initScale), initScale, "initScale must be a positive float32 number.");
        if (!(growthFactor > 1)) throw new ArgumentOutOfRangeException(nameof(growthFactor), growthFactor, "growthFactor must be greater than 1.");
        if (!(backoffFactor is > 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(backoffFactor), backoffFactor, "backoffFactor must be in (0, 1).");
        if (growthInterval < 1) throw new ArgumentOutOfRangeException(nameof(growthInterval), growthInterval, "growthInterval must be at least 1.");
        _scale = (float)initScale;
        GrowthFactor = growthFactor;
        BackoffFactor = backoffFactor;
        GrowthInterval = growthInterval;
        Enabled = enabled;
    }

    /// <summary>False makes every method a pass-through (fp32/bf16 training), as <c>GradScaler(enabled=False)</c>.</summary>
    public bool Enabled { get; }
    public double GrowthFactor { get; }
    public double BackoffFactor { get; }
    public int GrowthInterval { get; }

    /// <summary>Consecutive clean steps since the scale last changed (torch's <c>_growth_tracker</c>).</summary>
    public int GrowthTracker { get; private set; }

    /// <summary>The current scale (kept as a float32, as torch keeps it in a float32 tensor); 1 when disabled.</summary>
    public float GetScale() => Enabled ? _scale : 1f;

    /// <summary>The loss times the scale, to call backward on; the loss itself when disabled.</summary>
    public Tensor Scale(Tensor loss) => Enabled ? loss * _scale : loss;

    /// <summary>Divides the optimizer's gradients by the scale (once per step); returns whether any was inf or NaN.</summary>
    public bool Unscale(AdamW optimizer) => Unscale(optimizer.GradientBuffers);

    /// <summary>
    /// Divides <paramref name="gradients"/> by the scale in place and checks them for inf/NaN, reading one flag back
    /// from the device (the one host synchronisation per step that deciding to skip needs, as in torch).
    /// </summary>
    public bool Unscale(IEnumerable<Tensor> gradients)
    {
        if (!Enabled) return false;
        if (_unscaled) throw new InvalidOperationException("GradScaler.Unscale has already been called since the last Update().");
        // torch computes the inverse in float64 and rounds it to float32.
        var inverse = (float)(1.0 / _scale);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor? found = null;
        foreach (var g in gradients)
        {
            if (g.numel() == 0) continue;
            g.mul_(inverse);
            // max and min propagate NaN and carry ±inf, so two reductions find any non-finite element.
            var bad = stack([g.max().to(ScalarType.Float32), g.min().to(ScalarType.Float32)]).isfinite().all().logical_not();
            found = found is null ? bad : found.logical_or(bad.to(found.device));
        }
        _foundInf = found is not null && found.item<bool>();
        _unscaled = true;
        return _foundInf;
    }

    /// <summary>
    /// Unscales if <see cref="Unscale(AdamW)"/> was not called yet, then takes the optimizer step unless the gradients
    /// held inf or NaN. Returns whether the step was taken.
    /// </summary>
    public bool Step(AdamW optimizer, double learningRate)
    {
        if (!Enabled)
        {
            optimizer.Step(learningRate);
            return true;
        }
        if (_stepped) throw new InvalidOperationException("GradScaler.Step has already been called since the last Update().");
        if (!_unscaled) Unscale(optimizer);
        _stepped = true;
        if (_foundInf) return false;
        optimizer.Step(learningRate);
        return true;
    }

    /// <summary>Halves the scale after a step with inf/NaN gradients; doubles it after GrowthInterval clean steps in a row.</summary>
    public void Update()
    {
        if (!Enabled) return;
        if (!_unscaled) throw new InvalidOperationException("GradScaler.Update: no inf/NaN check was made this step; call Step (or Unscale) first.");
        if (_foundInf)
        {
            _scale = (float)(_scale * BackoffFactor);
            GrowthTracker = 0;
        }
        else if (GrowthTracker + 1 == GrowthInterval)
        {
            // A scale that would overflow float32 stays where it is, as in torch's _amp_update_scale_.
            var grown = (float)(_scale * GrowthFactor);
            if (float.IsFinite(grown)) _scale = grown;
            GrowthTracker = 0;
        }
        else
        {
            GrowthTracker++;
        }
        (_unscaled, _foundInf, _stepped) = (false, false, false);
    }

    /// <summary>torch's <c>state_dict()</c> keys: scale, growth_factor, backoff_factor, growth_interval, _growth_tracker.</summary>
    public IReadOnlyDictionary<string, double> StateDict() => new Dictionary<string, double>
    {
        ["scale"] = _scale,
        ["growth_factor"] = GrowthFactor,
        ["backoff_factor"] = BackoffFactor,
        ["growth_interval"] = GrowthInterval,
        ["_growth_tracker"] = GrowthTracker,
    };

    /// <summary>Restores the scale and the count of clean steps (the factors and interval come from the constructor).</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, double> state, string source = "state")
    {
        double Field(string key) => state.TryGetValue(key, out var value) ? value
            : throw new InvalidDataException($"{source}: GradScaler state has no '{key}'.");
        var scale = Field("scale");
        var tracker = Field("_growth_tracker");
        if (!(scale > 0) || !float.IsFinite((float)scale))
            throw new InvalidDataException($"{source}: GradScaler 'scale' must be a positive float32 number, got {scale.ToString(CultureInfo.InvariantCulture)}.");
        if (tracker < 0 || tracker >= GrowthInterval || tracker != Math.Floor(tracker))
            throw new InvalidDataException($"{source}: GradScaler '_growth_tracker' must be a whole number in [0, {GrowthInterval}), got {tracker.ToString(CultureInfo.InvariantCulture)}.");
        _scale = (float)scale;
        GrowthTracker = (int)tracker;
        (_unscaled, _foundInf, _stepped) = (false, false, false);
    }

    /// <summary>Writes <see cref="StateDict"/> as JSON (e.g. scaler.json in a checkpoint).</summary>
    public void Save(string path)
    {
        var json = new JsonObject();
        foreach (var (key, value) in StateDict()) json[key] = value;
        AtomicFile.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    public void Load(string path)
    {
        Dictionary<string, double>? state;
        try
        {
            state = JsonSerializer.Deserialize<Dictionary<string, double>>(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a GradScaler state JSON object of numbers ({e.Message}).", e);
        }
        LoadStateDict(state ?? throw new InvalidDataException($"{path}: GradScaler state is null."), path);
    }
}
