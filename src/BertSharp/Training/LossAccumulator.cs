using static TorchSharp.torch;

namespace BertSharp.Training;

/// <summary>
/// The training loop's running loss and gradient norm, kept on the training device. Reading a number back from a GPU
/// waits for every queued kernel, so a loop that read each step's loss would stall the GPU once a step; transformers
/// keeps <c>tr_loss</c> as a device tensor for the same reason. Values are read back only when they are logged, when a
/// checkpoint or evaluation is due (a diverged run must not be saved), and at the end. On the CPU nothing is queued,
/// so <c>readEveryStep</c> reads each step at once and a divergence is reported at the very step it happened.
/// Sums are float64 (as the host-side sums were), so a run logs the same numbers on either path.
/// </summary>
internal sealed class LossAccumulator : IDisposable
{
    private readonly Tensor _sinceLog;
    private readonly Tensor _runTotal;
    // Sums of what has not been checked yet: a NaN or inf anywhere makes the sum non-finite (norms are never negative,
    // so infinities cannot cancel); skipped fp16 steps' norms are left out, since overflow is why they were skipped.
    private readonly Tensor _pendingLoss;
    private readonly Tensor _pendingNorm;
    private Tensor? _lastGradNorm;
    private int _step;
    private int _stepsSinceLog;
    private int _checkedThrough;

    public LossAccumulator(Device device, int startStep, bool readEveryStep)
    {
        ReadEveryStep = readEveryStep;
        (_step, _checkedThrough) = (startStep, startStep);
        Tensor Zero() => zeros([], ScalarType.Float64, device).DetachFromDisposeScope();
        (_sinceLog, _runTotal, _pendingLoss, _pendingNorm) = (Zero(), Zero(), Zero(), Zero());
    }

    public bool ReadEveryStep { get; }

    /// <summary>
    /// Adds one optimizer step's mean loss and gradient norm (0-d tensors, now owned here). Returns them as numbers
    /// when every step is read, else nulls: nothing is read back from the device.
    /// </summary>
    public (double? Loss, double? GradNorm) Add(Tensor loss, Tensor gradNorm, bool stepped)
    {
        using (loss)
        {
            _step++;
            _stepsSinceLog++;
            _sinceLog.add_(loss);
            _runTotal.add_(loss);
            _pendingLoss.add_(loss);
            if (stepped) _pendingNorm.add_(gradNorm);
            _lastGradNorm?.Dispose();
            _lastGradNorm = gradNorm;
            return ReadEveryStep ? (loss.item<float>(), gradNorm.item<float>()) : (null, null);
        }
    }

    /// <summary>
    /// Reads back whether any loss or (taken step's) gradient norm since the last check was not finite; null when all
    /// were. The steps are the range the bad value came from (one step when every step is read).
    /// </summary>
    public (string What, double Value, int FirstStep, int LastStep)? CheckPending()
    {
        if (_step == _checkedThrough) return null;
        var (loss, norm) = (_pendingLoss.item<double>(), _pendingNorm.item<double>());
        var range = (First: _checkedThrough + 1, Last: _step);
        if (!double.IsFinite(loss)) return ("loss", loss, range.First, range.Last);
        if (!double.IsFinite(norm)) return ("gradient norm", norm, range.First, range.Last);
        _pendingLoss.zero_();
        _pendingNorm.zero_();
        _checkedThrough = _step;
        return null;
    }

    /// <summary>The mean loss of the steps since the last call and the latest gradient norm; starts the next interval.</summary>
    public (double MeanLoss, double GradNorm) TakeSinceLog()
    {
        if (_stepsSinceLog == 0) throw new InvalidOperationException("No step was added since the last log.");
        var mean = _sinceLog.item<double>() / _stepsSinceLog;
        var norm = _lastGradNorm!.item<float>();
        _sinceLog.zero_();
        _stepsSinceLog = 0;
        return (mean, norm);
    }

    /// <summary>The sum of every step's loss added so far.</summary>
    public double RunTotal() => _runTotal.item<double>();

    public void Dispose()
    {
        _sinceLog.Dispose();
        _runTotal.Dispose();
        _pendingLoss.Dispose();
        _pendingNorm.Dispose();
        _lastGradNorm?.Dispose();
    }
}
