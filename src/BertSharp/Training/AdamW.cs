using BertSharp.Safetensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace BertSharp.Training;

/// <summary>
/// AdamW with decoupled weight decay, the update of PyTorch's <c>torch.optim.AdamW</c> step for step, with the
/// parameter groups transformers' Trainer makes: weight decay on weights, none on biases and LayerNorm weights.
/// Written out here (rather than TorchSharp's) so its state can be saved by parameter name in a checkpoint and
/// restored exactly on resume.
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly List<Entry> _entries;
    // One buffer, as large as the largest parameter, for the update's denominator: no allocation per step.
    private Tensor? _scratch;

    private sealed class Entry(string name, Parameter parameter, double weightDecay)
    {
        public string Name { get; } = name;
        public Parameter Parameter { get; } = parameter;
        public double WeightDecay { get; } = weightDecay;
        public Tensor? ExpAvg { get; set; }
        public Tensor? ExpAvgSq { get; set; }
    }

    /// <param name="decayedParameterNames">The parameters that get weight decay (see <see cref="WeightDecayParameters"/>); null decides by name with <see cref="IsDecayed"/>.</param>
    public AdamW(IEnumerable<(string Name, Parameter Parameter)> parameters, double weightDecay, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        IReadOnlySet<string>? decayedParameterNames = null)
    {
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        _entries = parameters.Where(p => p.Parameter.requires_grad)
            .Select(p => new Entry(p.Name, p.Parameter, (decayedParameterNames?.Contains(p.Name) ?? IsDecayed(p.Name)) ? weightDecay : 0.0)).ToList();
    }

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Epsilon { get; }

    /// <summary>Optimizer steps taken so far (PyTorch's per-parameter "step", shared here since all move together).</summary>
    public long StepCount { get; private set; }

    public IEnumerable<Parameter> Parameters => _entries.Select(e => e.Parameter);

    /// <summary>The names that get weight decay; transformers excludes biases and LayerNorm weights.</summary>
    public IReadOnlyList<string> DecayedParameterNames => _entries.Where(e => e.WeightDecay > 0).Select(e => e.Name).ToList();

    public static bool IsDecayed(string parameterName) =>
        !parameterName.EndsWith("bias", StringComparison.Ordinal) && !parameterName.Contains("LayerNorm", StringComparison.Ordinal);

    public void Step(double learningRate)
    {
        StepCount++;
        var biasCorrection1 = 1 - Math.Pow(Beta1, StepCount);
        var biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(Beta2, StepCount));
        var stepSize = learningRate / biasCorrection1;
        using var noGrad = no_grad();
        foreach (var entry in _entries)
        {
            using var scope = NewDisposeScope();
            var grad = entry.Parameter.grad;
            if (grad is null) continue;
            if (entry.ExpAvg is null)
            {
                // State lives as long as the optimizer, outside every step's dispose scope.
                entry.ExpAvg = zeros_like(entry.Parameter).DetachFromDisposeScope();
                entry.ExpAvgSq = zeros_like(entry.Parameter).DetachFromDisposeScope();
            }
            var p = entry.Parameter;
            if (entry.WeightDecay != 0) p.mul_(1 - learningRate * entry.WeightDecay);
            entry.ExpAvg.mul_(Beta1).add_(grad, alpha: 1 - Beta1);
            entry.ExpAvgSq!.mul_(Beta2).addcmul_(grad, grad, 1 - Beta2);
            var denominator = Scratch(p);
            denominator.copy_(entry.ExpAvgSq).sqrt_().div_(biasCorrection2Sqrt).add_(Epsilon);
            p.addcdiv_(entry.ExpAvg, denominator, -stepSize);
        }
    }

    public void ZeroGrad()
    {
        using var scope = NewDisposeScope();
        foreach (var entry in _entries)
        {
            // Zeroing in place keeps the gradient buffers alive between steps; dropping them (PyTorch's set_to_none)
            // would make the next backward pass allocate them again, which is costly for libtorch's CPU allocator.
            entry.Parameter.grad?.zero_();
        }
    }

    private Tensor Scratch(Tensor like)
    {
        if (_scratch is null || _scratch.device != like.device || _scratch.dtype != like.dtype)
        {
            _scratch?.Dispose();
            _scratch = empty(_entries.Max(e => e.Parameter.numel()), like.dtype, like.device).DetachFromDisposeScope();
        }
        return _scratch.narrow(0, 0, like.numel()).view(like.shape);
    }

    public void Save(string path)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var e in _entries.Where(e => e.ExpAvg is not null))
        {
            tensors.Add(KeyValuePair.Create($"{e.Name}.exp_avg", e.ExpAvg!));
            tensors.Add(KeyValuePair.Create($"{e.Name}.exp_avg_sq", e.ExpAvgSq!));
        }
        SafetensorsWriter.Save(path, tensors, new Dictionary<string, string>
        {
            ["step"] = StepCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["optimizer"] = "AdamW",
        });
    }

    public void Load(string path)
    {
        using var file = SafetensorsFile.Open(path);
        if (!file.Metadata.TryGetValue("step", out var stepText) || !long.TryParse(stepText, out var step) || step < 0)
            throw new InvalidDataException($"{path}: optimizer state has no valid 'step' in its metadata.");
        using var noGrad = no_grad();
        foreach (var e in _entries)
        {
            var (avgName, sqName) = ($"{e.Name}.exp_avg", $"{e.Name}.exp_avg_sq");
            if (!file.Contains(avgName) || !file.Contains(sqName))
            {
                if (step == 0) continue;
                throw new InvalidDataException($"{path}: optimizer state for parameter '{e.Name}' is missing.");
            }
            e.ExpAvg?.Dispose();
            e.ExpAvgSq?.Dispose();
            e.ExpAvg = LoadLike(file, avgName, e.Parameter, path);
            e.ExpAvgSq = LoadLike(file, sqName, e.Parameter, path);
        }
        StepCount = step;
    }

    private static Tensor LoadLike(SafetensorsFile file, string name, Tensor like, string path)
    {
        using var cpu = file.ReadTensor(name);
        if (!cpu.shape.SequenceEqual(like.shape))
            throw new InvalidDataException($"{path}: '{name}' has shape [{string.Join(", ", cpu.shape)}] but the parameter has [{string.Join(", ", like.shape)}].");
        return cpu.to(like.dtype, like.device).DetachFromDisposeScope();
    }

    public void Dispose()
    {
        _scratch?.Dispose();
        foreach (var e in _entries)
        {
            e.ExpAvg?.Dispose();
            e.ExpAvgSq?.Dispose();
        }
    }
}
