using BertSharp.Tests.TestSupport;
using BertSharp.Training;

namespace BertSharp.Tests.Training;

/// <summary>
/// A run never mixes with another run's checkpoints, never resumes into a different run, and never throws finished
/// work away on a folder it could have checked first (issue 10's hostile-user cases).
/// </summary>
public class RunSafetyTests
{
    private static TrainingArguments Args(string outputDir) => new()
    {
        OutputDir = outputDir, PerDeviceTrainBatchSize = 8, NumTrainEpochs = 2, LearningRate = 1e-4, LoggingSteps = 1,
        SaveStrategy = IntervalStrategy.Epoch, Device = DeviceChoice.Cpu,
    };

    private static IReadOnlyList<string> CheckpointNames(string dir) => Checkpoint.List(dir).Select(c => Path.GetFileName(c.Directory)).ToList();

    [Fact]
    public void AFreshRunBesideAnotherRunsCheckpointsRefusesUnlessOverwriteDeletesThem()
    {
        using var dir = new TempDirectory();
        using (var model = TrainerTests.StandIn())
        using (var first = new Trainer(model, Args(dir.Path), TrainerTests.Tokens(16)))
            first.Train();
        Assert.Equal(["checkpoint-2", "checkpoint-4"], CheckpointNames(dir.Path));

        using var other = TrainerTests.StandIn();
        using var second = new Trainer(other, Args(dir.Path), TrainerTests.Tokens(24));
        var steps = 0;
        second.StepCompleted += _ => steps++;
        var refusal = Assert.Throws<ArgumentException>(() => second.Train());
        Assert.Contains("checkpoint-2 … checkpoint-4", refusal.Message);
        Assert.Contains("OverwriteOutputDir", refusal.Message);
        Assert.Contains("--overwrite-output-dir", refusal.Message);
        Assert.Equal(0, steps);
        Assert.Equal(["checkpoint-2", "checkpoint-4"], CheckpointNames(dir.Path));

        using var overwriting = new Trainer(other, Args(dir.Path) with { OverwriteOutputDir = true }, TrainerTests.Tokens(24));
        overwriting.Train();
        Assert.Equal(["checkpoint-3", "checkpoint-6"], CheckpointNames(dir.Path)); // the first run's are gone, not mixed in
    }

    [Fact]
    public void AResumeRefusesAnotherRunsDataOrStepDefiningArgumentsAndReportsAllowedChanges()
    {
        using var dir = new TempDirectory();
        var data = TrainerTests.Tokens(24);
        using (var model = TrainerTests.StandIn())
        using (var trainer = new Trainer(model, Args(dir.Path), data))
            trainer.Train();
        var checkpoint = Checkpoint.PathFor(dir.Path, 3);
        Assert.True(File.Exists(Path.Combine(checkpoint, RunInputs.FileName)));

        using var model2 = TrainerTests.StandIn();
        using (var otherData = new Trainer(model2, Args(dir.Path), TrainerTests.Tokens(24, skip: 24)))
        {
            var error = Assert.Throws<ArgumentException>(() => otherData.Train(checkpoint));
            Assert.Contains("the training data differ", error.Message);
        }
        using (var shorter = new Trainer(model2, Args(dir.Path), TrainerTests.Subset(24).Tokenize(TrainerTests.StandInTokenizer.Value, maxLength: 32)))
            Assert.Contains("max length 32 (the checkpoint has 48)", Assert.Throws<ArgumentException>(() => shorter.Train(checkpoint)).Message);
        using (var reseeded = new Trainer(model2, Args(dir.Path) with { Seed = 7, PerDeviceTrainBatchSize = 4 }, data))
        {
            var error = Assert.Throws<ArgumentException>(() => reseeded.Train(checkpoint)).Message;
            Assert.Contains("seed 7 (the checkpoint has 42)", error);
            Assert.Contains("per_device_train_batch_size 4 (the checkpoint has 8)", error);
        }

        var warnings = new List<string>();
        using var lowerRate = new Trainer(model2, Args(dir.Path) with { LearningRate = 5e-5 }, data);
        lowerRate.Warning += warnings.Add;
        lowerRate.Train(checkpoint);
        Assert.Equal(6, lowerRate.State.GlobalStep);
        Assert.Contains(warnings, w => w.Contains("learning_rate 5E-05 (the checkpoint has 0.0001)"));
    }

    [Fact]
    public void ResumingFromTheFinalCheckpointTrainsNothingAndLogsNoZeroSummary()
    {
        using var dir = new TempDirectory();
        var data = TrainerTests.Tokens(16);
        using (var model = TrainerTests.StandIn())
        using (var trainer = new Trainer(model, Args(dir.Path), data))
            trainer.Train();
        var final = Checkpoint.Latest(dir.Path)!;
        var logged = final.LoadState().LogHistory.Where(e => e.ContainsKey(LogKeys.Loss)).ToList();
        Assert.Equal(4, logged.Count); // logging every step

        using var again = TrainerTests.StandIn();
        using var resumed = new Trainer(again, Args(dir.Path), data);
        var warnings = new List<string>();
        resumed.Warning += warnings.Add;
        var output = resumed.Train(final.Directory);
        Assert.Equal(4, output.GlobalStep);
        Assert.Equal(logged.Average(e => e[LogKeys.Loss]), output.TrainingLoss, 1e-12); // one step per entry: the plain mean
        Assert.False(output.Metrics.ContainsKey(LogKeys.TrainRuntime));
        Assert.DoesNotContain(resumed.State.LogHistory, e => e.ContainsKey(LogKeys.TrainRuntime));
        Assert.Contains(warnings, w => w.Contains("nothing left to train"));
    }

    [Fact]
    public void HalfWrittenCheckpointFoldersOfDeadProcessesAreRemovedAtTheStart()
    {
        using var dir = new TempDirectory();
        // Named as a checkpoint save names its folder, with the process id of a writer that has exited.
        var ours = BertSharp.IO.TempFiles.Name("checkpoint-3");
        var dead = Directory.CreateDirectory(Path.Combine(dir.Path, ours.Replace($"-{Environment.ProcessId}-", "-2147483646-"))).FullName;
        // Written before the writer's id was recorded: abandoned once it has not changed for a day.
        var legacy = Directory.CreateDirectory(Path.Combine(dir.Path, $".checkpoint-5.tmp-{Guid.NewGuid():N}")).FullName;
        Directory.SetLastWriteTimeUtc(legacy, DateTime.UtcNow.AddDays(-2));
        var live = Directory.CreateDirectory(Path.Combine(dir.Path, BertSharp.IO.TempFiles.Name("checkpoint-7"))).FullName;
        File.WriteAllText(Path.Combine(dead, "model.safetensors"), "half");
        using var model = TrainerTests.StandIn();
        using var trainer = new Trainer(model, Args(dir.Path) with { SaveStrategy = IntervalStrategy.No, NumTrainEpochs = 1 }, TrainerTests.Tokens(8));
        trainer.Train();
        Assert.False(Directory.Exists(dead));
        Assert.False(Directory.Exists(legacy));
        Assert.True(Directory.Exists(live)); // a writer that is still running keeps its folder
    }

    [Fact]
    public void AnOutputFolderThatCannotBeWrittenFailsBeforeTheFirstStep()
    {
        using var dir = new TempDirectory();
        var blocker = Path.Combine(dir.Path, "a-file");
        File.WriteAllText(blocker, "not a folder");
        using var model = TrainerTests.StandIn();
        using var trainer = new Trainer(model, Args(Path.Combine(blocker, "out")) with { SaveStrategy = IntervalStrategy.No }, TrainerTests.Tokens(8));
        var steps = 0;
        trainer.StepCompleted += _ => steps++;
        var error = Assert.Throws<IOException>(() => trainer.Train());
        Assert.Contains("cannot be written", error.Message);
        Assert.Contains("a-file", error.Message);
        Assert.Equal(0, steps);
    }
}
