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
/// <remarks>
/// The update is fused over flat buffers: the parameters of one group (same device, dtype and weight decay), their
/// gradients and both moments each live in one contiguous buffer, and every parameter and gradient is made a view
/// into it. A step is then about ten kernels per group instead of about ten per parameter (some 2,000 launches for
/// bert-base, which is what a GPU step would wait on), with the same arithmetic element for element. Parameters
/// stay ordinary <see cref="Parameter"/>s of the model, so loading weights (copy_) and saving still work; moving the
/// model to another device replaces them, so the optimizer must be made after <c>model.to(device)</c>.
/// </remarks>
public sealed class AdamW : IDisposable
{
    // The denominator sqrt(v)/c2 + eps needs scratch memory; a bounded chunk of it (64 MiB of float32) keeps the
    // optimizer's own memory small while costing only a few more kernels on a 110 M-parameter group.
    private const long ChunkElements = 1L << 24;

    private readonly List<Entry> _entries;
    private readonly List<Group> _groups;
    private readonly Dictionary<(DeviceType, int, ScalarType), Tensor> _scratch = new();

    private sealed class Group(Device device, ScalarType dtype, double weightDecay, long numel)
    {
        public double WeightDecay { get; } = weightDecay;
        public Tensor Params { get; } = empty(numel, dtype, device).DetachFromDisposeScope();
        public Tensor Grads { get; } = zeros(numel, dtype, device).DetachFromDisposeScope();
        public Tensor ExpAvg { get; } = zeros(numel, dtype, device).DetachFromDisposeScope();
        public Tensor ExpAvgSq { get; } = zeros(numel, dtype, device).DetachFromDisposeScope();
    }

    private sealed record Entry(string Name, Parameter Parameter, Group Group, long Offset, long[] Shape)
    {
        public long Numel => Shape.Aggregate(1L, (a, b) => a * b);
        public Tensor View(Tensor flat) => flat.narrow(0, Offset, Numel).view(Shape);
    }

    /// <param name="decayedParameterNames">The parameters that get weight decay (see <see cref="WeightDecayParameters"/>); null decides by name with <see cref="IsDecayed"/>.</param>
    public AdamW(IEnumerable<(string Name, Parameter Parameter)> parameters, double weightDecay, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8,
        IReadOnlySet<string>? decayedParameterNames = null)
    {
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        // A parameter tied under two names (shared embeddings) is updated once.
        var unique = parameters.Where(p => p.Parameter.requires_grad)
            .DistinctBy(p => p.Parameter, ReferenceEqualityComparer.Instance).ToList();
        foreach (var (name, p) in unique)
        {
            if (p.dtype is not (ScalarType.Float32 or ScalarType.Float64))
                throw new NotSupportedException(
                    $"AdamW: parameter '{name}' is {p.dtype}; the optimizer keeps float32 (or float64) master weights. " +
                    "For mixed precision leave the weights float32 and set the model's Precision.ComputeDtype instead.");
        }
        _groups = [];
        _entries = [];
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var members in unique.GroupBy(p => (p.Parameter.device_type, p.Parameter.device_index, p.Parameter.dtype, Decay: decayedParameterNames?.Contains(p.Name) ?? IsDecayed(p.Name))))
        {
            var list = members.ToList();
            var group = new Group(list[0].Parameter.device, list[0].Parameter.dtype, members.Key.Decay ? weightDecay : 0.0, list.Sum(p => p.Parameter.numel()));
            _groups.Add(group);
            long offset = 0;
            foreach (var (name, p) in list)
            {
                var entry = new Entry(name, p, group, offset, p.shape);
                offset += entry.Numel;
                _entries.Add(entry);
                // The parameter's storage becomes its slice of the flat buffer; set_ keeps it the same leaf tensor,
                // so the model, autograd and anything holding the Parameter see no difference.
                var view = entry.View(group.Params);
                view.copy_(p);
                p.set_(view);
                AttachGradient(entry);
            }
        }
    }

    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Epsilon { get; }

    /// <summary>Optimizer steps taken so far (PyTorch's per-parameter "step", shared here since all move together).</summary>
    public long StepCount { get; private set; }

    public IEnumerable<Parameter> Parameters => _entries.Select(e => e.Parameter);

    /// <summary>The names that get weight decay; transformers excludes biases and LayerNorm weights.</summary>
    public IReadOnlyList<string> DecayedParameterNames => _entries.Where(e => e.Group.WeightDecay > 0).Select(e => e.Name).ToList();

    /// <summary>
    /// Every gradient, as one flat buffer per group (the parameters' <c>grad</c>s are views into these). Whatever
    /// works on all gradients at once — unscaling (<see cref="GradScaler"/>), the norm, clipping — can do it here in
    /// one kernel per group. Owned by the optimizer: do not dispose.
    /// </summary>
    public IReadOnlyList<Tensor> GradientBuffers
    {
        get
        {
            EnsureViews();
            return _groups.Select(g => g.Grads).ToList();
        }
    }

    public static bool IsDecayed(string parameterName) =>
        !parameterName.EndsWith("bias", StringComparison.Ordinal) && !parameterName.Contains("LayerNorm", StringComparison.Ordinal);

    public void Step(double learningRate)
    {
        EnsureViews();
        StepCount++;
        var biasCorrection1 = 1 - Math.Pow(Beta1, StepCount);
        var biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(Beta2, StepCount));
        var stepSize = learningRate / biasCorrection1;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var g in _groups)
        {
            // The same operations, in the same order, as the per-parameter update of torch.optim.AdamW.
            if (g.WeightDecay != 0) g.Params.mul_(1 - learningRate * g.WeightDecay);
            g.ExpAvg.mul_(Beta1).add_(g.Grads, alpha: 1 - Beta1);
            g.ExpAvgSq.mul_(Beta2).addcmul_(g.Grads, g.Grads, 1 - Beta2);
            var scratch = Scratch(g);
            var numel = g.Params.shape[0];
            for (long start = 0; start < numel; start += ChunkElements)
            {
                var length = Math.Min(ChunkElements, numel - start);
                var denominator = scratch.narrow(0, 0, length);
                denominator.copy_(g.ExpAvgSq.narrow(0, start, length)).sqrt_().div_(biasCorrection2Sqrt).add_(Epsilon);
                g.Params.narrow(0, start, length).addcdiv_(g.ExpAvg.narrow(0, start, length), denominator, -stepSize);
            }
        }
    }

    /// <summary>
    /// torch.nn.utils.clip_grad_norm_ over the flat gradient buffers: returns the total L2 norm before clipping as a
    /// 0-d tensor on the parameters' device (reading it is a host synchronisation, so callers read it only when they
    /// log), and scales the gradients by min(1, maxNorm / (norm + 1e-6)) without leaving the device.
    /// <paramref name="maxNorm"/> = +∞ only computes the norm.
    /// </summary>
    public Tensor ClipGradNorm(double maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "maxNorm must be positive (+inf computes the norm without clipping).");
        EnsureViews();
        using var noGrad = no_grad();
        Tensor total;
        using (var scope = NewDisposeScope())
        {
            var device = _groups[0].Grads.device;
            var norms = _groups.Select(g => g.Grads.norm().to(ScalarType.Float32, device)).ToArray();
            total = (norms.Length == 1 ? norms[0].clone() : stack(norms).norm()).MoveToOuterDisposeScope();
            if (double.IsFinite(maxNorm))
            {
                var coefficient = (maxNorm / (total + 1e-6)).clamp_max(1.0);
                foreach (var g in _groups) g.Grads.mul_(coefficient.to(g.Grads.dtype, g.Grads.device));
            }
        }
        return total;
    }

    public void ZeroGrad()
    {
        EnsureViews();
        using var noGrad = no_grad();
        // Zeroing in place keeps the gradients as views of the flat buffers; dropping them (PyTorch's set_to_none)
        // would make the next backward pass allocate fresh ones outside the buffers.
        foreach (var g in _groups) g.Grads.zero_();
    }

    /// <summary>
    /// Checks that every parameter is still its slice of the flat buffer and re-attaches gradients that were dropped or
    /// replaced (e.g. by <c>model.zero_grad()</c>, which sets them to null), copying any new values in first.
    /// </summary>
    private void EnsureViews()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var e in _entries)
        {
            if (e.Parameter.IsInvalid)
                throw new InvalidOperationException(
                    $"AdamW: parameter '{e.Name}' was disposed: the model was moved (model.to) or rebuilt after the optimizer was created. Create the optimizer after moving the model.");
            if (!Aliases(e.Parameter, e.Group.Params, e.Offset))
                throw new InvalidOperationException(
                    $"AdamW: parameter '{e.Name}' no longer shares the optimizer's buffer (its storage was replaced after the optimizer was created), so an update would not reach the model. Create the optimizer after loading or moving the model.");
            var grad = e.Parameter.grad;
            if (grad is null || !Aliases(grad, e.Group.Grads, e.Offset)) AttachGradient(e);
        }
    }

    private static void AttachGradient(Entry e)
    {
        using var scope = NewDisposeScope();
        var view = e.View(e.Group.Grads);
        if (e.Parameter.grad is { } existing) view.copy_(existing);
        else view.zero_();
        e.Parameter.grad = view;
    }

    private static bool Aliases(Tensor tensor, Tensor flat, long offset) =>
        tensor.storage_offset() == offset && StoragePointer(tensor) == StoragePointer(flat);

    private static IntPtr StoragePointer(Tensor t) => t.dtype == ScalarType.Float64
        ? t.storage<double>().data_ptr()
        : t.storage<float>().data_ptr();

    private Tensor Scratch(Group g)
    {
        var key = (g.Params.device_type, g.Params.device_index, g.Params.dtype);
        if (!_scratch.TryGetValue(key, out var scratch))
        {
            var size = Math.Min(ChunkElements, _groups.Where(o => (o.Params.device_type, o.Params.device_index, o.Params.dtype) == key).Max(o => o.Params.shape[0]));
            _scratch[key] = scratch = empty(size, g.Params.dtype, g.Params.device).DetachFromDisposeScope();
        }
        return scratch;
    }

    /// <summary>Writes both moments under each parameter's name ({name}.exp_avg, {name}.exp_avg_sq) and the step count.</summary>
    public void Save(string path)
    {
        using var scope = NewDisposeScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var e in _entries)
        {
            tensors.Add(KeyValuePair.Create($"{e.Name}.exp_avg", e.View(e.Group.ExpAvg)));
            tensors.Add(KeyValuePair.Create($"{e.Name}.exp_avg_sq", e.View(e.Group.ExpAvgSq)));
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
        using var scope = NewDisposeScope();
        // Every entry is checked before any is copied, so a bad file leaves the optimizer as it was.
        var present = new List<Entry>();
        foreach (var e in _entries)
        {
            var (avgName, sqName) = ($"{e.Name}.exp_avg", $"{e.Name}.exp_avg_sq");
            if (file.Contains(avgName) && file.Contains(sqName))
            {
                CheckShape(file, avgName, e, path);
                CheckShape(file, sqName, e, path);
                present.Add(e);
            }
            else if (step != 0)
            {
                throw new InvalidDataException($"{path}: optimizer state for parameter '{e.Name}' is missing.");
            }
        }
        foreach (var g in _groups)
        {
            g.ExpAvg.zero_();
            g.ExpAvgSq.zero_();
        }
        foreach (var e in present)
        {
            e.View(e.Group.ExpAvg).copy_(file.ReadTensor($"{e.Name}.exp_avg"));
            e.View(e.Group.ExpAvgSq).copy_(file.ReadTensor($"{e.Name}.exp_avg_sq"));
        }
        StepCount = step;
    }

    private static void CheckShape(SafetensorsFile file, string name, Entry e, string path)
    {
        var shape = file.GetInfo(name).Shape;
        if (!shape.SequenceEqual(e.Shape))
            throw new InvalidDataException($"{path}: '{name}' has shape [{string.Join(", ", shape)}] but the parameter has [{string.Join(", ", e.Shape)}].");
    }

    public void Dispose()
    {
        // The flat buffers stay alive as long as the model's parameters and gradients view them; this only lets go
        // of the optimizer's own references (and frees the moments and scratch).
        foreach (var t in _scratch.Values) t.Dispose();
        foreach (var g in _groups)
        {
            g.Params.Dispose();
            g.Grads.Dispose();
            g.ExpAvg.Dispose();
            g.ExpAvgSq.Dispose();
        }
    }
}
