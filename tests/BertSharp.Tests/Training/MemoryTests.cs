using System.Diagnostics;
using BertSharp.Modeling;
using BertSharp.Training;
using static TorchSharp.torch;

namespace BertSharp.Tests.Training;

/// <summary>
/// Every training step runs inside a dispose scope, so native memory must not grow with the number of steps.
/// This measures the process's resident memory, not time: a leaked activation per step would add megabytes.
/// </summary>
[Collection(TestSupport.ProcessMemoryCollection.Name)]
public class MemoryTests
{
    [Fact]
    public void ResidentMemoryIsFlatFromStep50ToStep500()
    {
        var config = BertConfig.FromFile(Path.Combine(TestSupport.SharedFiles.TinyModelDir, "config.json"));
        (config.HiddenSize, config.NumHiddenLayers, config.NumAttentionHeads, config.IntermediateSize) = (32, 1, 2, 64);
        manual_seed(0);
        using var model = new BertForSequenceClassification(config);
        using var dir = new TestSupport.TempDirectory();
        var args = new TrainingArguments
        {
            OutputDir = dir.Path, MaxSteps = 500, PerDeviceTrainBatchSize = 4, LoggingSteps = 100,
            SaveStrategy = IntervalStrategy.No, Device = DeviceChoice.Cpu, LearningRate = 1e-4,
        };
        var tokenizer = BertSharp.Tokenization.BertTokenizer.FromDirectory(TestSupport.SharedFiles.TinyModelDir);
        using var trainer = new Trainer(model, args, TrainerTests.Subset(64).Tokenize(tokenizer, maxLength: 32));
        var resident = new SortedDictionary<int, long>();
        var native = new SortedDictionary<int, long>();
        trainer.StepCompleted += step =>
        {
            if (step.GlobalStep < 50 || step.GlobalStep % 10 != 0) return;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            using var self = Process.GetCurrentProcess();
            resident[step.GlobalStep] = self.WorkingSet64;
            native[step.GlobalStep] = NativeAllocator.BytesInUse() ?? 0;
        };
        trainer.Train();
        // Native bytes in use show a leaked tensor per step directly (450 leaked 16 KB activations would be 7 MiB);
        // they wobble by a few MiB with the batch shapes, so the first ten samples (steps 50-140) are compared with the
        // last ten (410-500). Resident memory also holds freed blocks kept for reuse, so it gets a looser bound.
        double Growth(SortedDictionary<int, long> samples) =>
            (samples.Values.TakeLast(10).Average() - samples.Values.Take(10).Average()) / 1048576.0;
        var nativeGrowth = Growth(native);
        var residentGrowth = Growth(resident);
        Assert.True(nativeGrowth < 2, $"native memory in use grew by {nativeGrowth:F2} MiB from steps 50-140 to steps 410-500");
        Assert.True(residentGrowth < 32, $"resident memory grew by {residentGrowth:F1} MiB from steps 50-140 ({resident[50] / 1048576.0:F0} MiB) to steps 410-500");
    }
}
