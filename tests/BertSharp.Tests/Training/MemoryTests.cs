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
        // Every batch padded to 32 tokens: libtorch caches per-shape kernel state (oneDNN primitives), which would grow
        // with each new batch shape and read as a leak; one shape leaves only what the steps themselves keep.
        var fixedShape = new BertSharp.Data.DataCollatorWithPadding(tokenizer.PadTokenId, BertSharp.Data.PaddingStrategy.MaxLength, maxLength: 32);
        using var trainer = new Trainer(model, args, TrainerTests.Subset(64).Tokenize(tokenizer, maxLength: 32), dataCollator: fixedShape);
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
        // Native bytes in use show a leaked tensor per step directly (a 16 KB activation kept per step adds 2.8 MiB every
        // 180 steps). They also move with whatever else the process does (the JIT's malloc'd arenas, a cache filled
        // once): spikes, and now and then a one-time step up or down. So the lowest sample of three windows is taken
        // (steps 50-140, 230-320, 410-500), and a leak is a floor that rises from each window to the next; a one-time
        // step raises only one. Resident memory also holds freed blocks kept for reuse: a looser bound, on means.
        double Floor(int from) => native.Where(kv => kv.Key >= from && kv.Key < from + 100).Min(kv => kv.Value) / 1048576.0;
        var (first, middle, last) = (Floor(50), Floor(230), Floor(410));
        double Growth(SortedDictionary<int, long> samples) =>
            (samples.Values.TakeLast(10).Average() - samples.Values.Take(10).Average()) / 1048576.0;
        var nativeGrowth = Math.Min(middle - first, last - middle);
        var residentGrowth = Growth(resident);
        Assert.True(nativeGrowth < 1, $"the floor of native memory in use rose steadily: {first:F2}, {middle:F2}, {last:F2} MiB at steps 50-140, 230-320, 410-500 " +
            $"(samples: {string.Join(", ", native.Select(kv => $"{kv.Key}: {kv.Value / 1048576.0:F2}"))})");
        Assert.True(residentGrowth < 32, $"resident memory grew by {residentGrowth:F1} MiB from steps 50-140 ({resident[50] / 1048576.0:F0} MiB) to steps 410-500");
    }
}

/// <summary>What evaluation and training give back to the system on the CPU, where the heap otherwise keeps freed blocks.</summary>
[Collection(TestSupport.ProcessMemoryCollection.Name)]
public class ReleasedMemoryTests
{
    /// <summary>
    /// Allocates and frees 12 tensors of 32 MiB, written so their pages are resident. Blocks of this size stay in the
    /// heap on any thread: glibc gives a single block of more than 64 MiB its own mapping on threads other than the
    /// main one (such as xunit's), whatever the settings, and unmaps it on free.
    /// </summary>
    private static void FreeBlocks()
    {
        var blocks = Enumerable.Range(0, 12).Select(_ => ones(8L << 20)).ToList();
        foreach (var block in blocks) block.Dispose();
    }

    [Fact]
    public void EvaluationOnTheCpuGivesBackFreedMemoryBeyondTheBound()
    {
        NativeAllocator.KeepFreedMemoryForReuse();
        using var model = TrainerTests.StandIn();
        var examples = TrainerTests.Tokens(4).ToList();
        var collator = new BertSharp.Data.DataCollatorWithPadding(0);
        BertSharp.Inference.PredictionLoop.Run(model, examples, collator, 4, CPU); // its own blocks are in the heap already
        // 384 MiB of freed blocks, as a bigger batch before would leave them: with trimming off they stay resident.
        FreeBlocks();
        var before = ResidentMemory.Read()!.Value.CurrentMiB;
        BertSharp.Inference.PredictionLoop.Run(model, examples, collator, 4, CPU);
        var after = ResidentMemory.Read()!.Value.CurrentMiB;
        Assert.True(before - after > 300, $"resident memory went from {before:F0} MiB to {after:F0} MiB over an evaluation after 384 MiB were freed");
    }

    [Fact]
    public void TrainingOnTheCpuEndsByGivingBackTheFreedBlocks()
    {
        NativeAllocator.KeepFreedMemoryForReuse();
        using var model = TrainerTests.StandIn();
        using var dir = new TestSupport.TempDirectory();
        var args = new TrainingArguments { OutputDir = dir.Path, MaxSteps = 2, PerDeviceTrainBatchSize = 4, SaveStrategy = IntervalStrategy.No, Device = DeviceChoice.Cpu };
        using var trainer = new Trainer(model, args, TrainerTests.Tokens(8));
        double? before = null;
        // Freed just before the last step ends, as the steps' own blocks would be.
        trainer.StepCompleted += step =>
        {
            if (step.GlobalStep != 2) return;
            FreeBlocks();
            before = ResidentMemory.Read()!.Value.CurrentMiB;
        };
        trainer.Train();
        var after = ResidentMemory.Read()!.Value.CurrentMiB;
        Assert.True(before - after > 300, $"resident memory went from {before:F0} MiB to {after:F0} MiB at the end of training after 384 MiB were freed");
    }

    [Fact]
    public void NothingIsReleasedWhileHeldAndAfterwardsOnlyWhatPiledUpBeyondTheBound()
    {
        NativeAllocator.KeepFreedMemoryForReuse();
        Assert.True(NativeAllocator.ReleaseFreeMemory());
        const long bound = 256L << 20;
        using (NativeAllocator.HoldFreedMemory())
        {
            FreeBlocks();
            Assert.False(NativeAllocator.ReleaseFreeMemoryBeyond(bound)); // a training loop's steps will reuse them
        }
        Assert.True(NativeAllocator.ReleaseFreeMemoryBeyond(bound)); // 384 MiB piled up
        Assert.False(NativeAllocator.ReleaseFreeMemoryBeyond(bound)); // nothing since
    }
}
