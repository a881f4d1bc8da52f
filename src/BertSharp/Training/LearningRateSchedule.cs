namespace BertSharp.Training;

/// <summary>
/// The learning rate at each optimizer step, exactly as transformers' schedulers compute it
/// (<c>get_linear_schedule_with_warmup</c>, <c>get_cosine_schedule_with_warmup</c>, constant with warm-up):
/// a linear ramp from 0 over the warm-up steps, then the chosen decay. Step 0 is the first optimizer step, so with
/// warm-up the very first update uses a learning rate of 0, as in PyTorch's LambdaLR.
/// </summary>
public sealed record LearningRateSchedule(SchedulerType Type, double PeakLearningRate, int WarmupSteps, int TotalSteps)
{
    public static LearningRateSchedule FromArguments(TrainingArguments args, int totalSteps) =>
        new(args.LrSchedulerType, args.LearningRate, WarmupStepsFor(args, totalSteps), totalSteps);

    /// <summary>transformers' <c>get_warmup_steps</c>: WarmupSteps if set, else ceil(ratio × total).</summary>
    public static int WarmupStepsFor(TrainingArguments args, int totalSteps) =>
        args.WarmupSteps > 0 ? args.WarmupSteps : (int)Math.Ceiling(totalSteps * args.WarmupRatio);

    public double LearningRateAt(int step) => PeakLearningRate * Factor(step);

    private double Factor(int step)
    {
        if (step < WarmupSteps) return (double)step / Math.Max(1, WarmupSteps);
        var decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        return Type switch
        {
            SchedulerType.Constant => 1.0,
            SchedulerType.Linear => Math.Max(0.0, (double)(TotalSteps - step) / decaySteps),
            // Half a cosine period (num_cycles = 0.5) from 1 down to 0.
            SchedulerType.Cosine => Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * (double)(step - WarmupSteps) / decaySteps))),
            _ => throw new ArgumentOutOfRangeException(nameof(Type), Type, null),
        };
    }
}
