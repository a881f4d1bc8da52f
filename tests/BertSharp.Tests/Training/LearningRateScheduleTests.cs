using BertSharp.Training;

namespace BertSharp.Tests.Training;

public class LearningRateScheduleTests
{
    [Fact]
    public void LinearWithWarmupFollowsTransformers()
    {
        var schedule = new LearningRateSchedule(SchedulerType.Linear, 1.0, WarmupSteps: 2, TotalSteps: 6);
        // get_linear_schedule_with_warmup: step/warmup, then (total - step) / (total - warmup).
        Assert.Equal([0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0], Enumerable.Range(0, 7).Select(schedule.LearningRateAt));
    }

    [Fact]
    public void CosineAndConstant()
    {
        var cosine = new LearningRateSchedule(SchedulerType.Cosine, 2.0, WarmupSteps: 0, TotalSteps: 4);
        // Math.Cos comes from the platform's libm, correct to about an ulp; 1e-14 is some 20 ulps of 2.0.
        Assert.Equal(2.0, cosine.LearningRateAt(0), 1e-14);
        Assert.Equal(1.0, cosine.LearningRateAt(2), 1e-14);
        Assert.Equal(0.0, cosine.LearningRateAt(4), 1e-14);
        var constant = new LearningRateSchedule(SchedulerType.Constant, 3e-5, WarmupSteps: 0, TotalSteps: 10);
        Assert.All(Enumerable.Range(0, 10), s => Assert.Equal(3e-5, constant.LearningRateAt(s)));
    }

    [Fact]
    public void WarmupRatioRoundsUpLikeTransformers()
    {
        var args = new TrainingArguments { WarmupRatio = 0.1 };
        Assert.Equal(38, LearningRateSchedule.WarmupStepsFor(args, 375));
        Assert.Equal(5, LearningRateSchedule.WarmupStepsFor(args with { WarmupSteps = 5 }, 375));
    }
}
