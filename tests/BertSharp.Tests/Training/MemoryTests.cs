using System.Diagnostics;
using BertSharp.Modeling;
using BertSharp.Training;
using static TorchSharp.torch;

namespace BertSharp.Tests.Training;

/// <summary>
/// Every training step runs inside a dispose scope, so native memory must not grow with the number of steps.
/// This measures the process's resident memory, not time: a leaked activation per step would add megabytes.
/// </summary>
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
            OutputDir = dir.Path, MaxSteps = 500, PerDeviceTrainBatchSize = 4, MaxLength = 32, LoggingSteps = 100,
            SaveStrategy = IntervalStrategy.No, Device = DeviceChoice.Cpu, LearningRate = 1e-4,
        };
        using var trainer = new Trainer(model, args, BertSharp.Tokenization.BertTokenizer.FromDirectory(TestSupport.SharedFiles.TinyModelDir), TrainerTests.Subset(64));
        var resident = new Dictionary<int, long>();
        trainer.StepCompleted += step =>
        {
            if (step.GlobalStep is not (50 or 500)) return;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            using var self = Process.GetCurrentProcess();
            resident[step.GlobalStep] = self.WorkingSet64;
        };
        trainer.Train();
        var growth = (resident[500] - resident[50]) / 1048576.0;
        Assert.True(growth < 16, $"resident memory grew by {growth:F1} MiB between step 50 ({resident[50] / 1048576.0:F0} MiB) and step 500");
    }
}
