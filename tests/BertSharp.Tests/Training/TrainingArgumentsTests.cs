using BertSharp.Training;

namespace BertSharp.Tests.Training;

public class TrainingArgumentsTests
{
    [Fact]
    public void DefaultsAreHuggingFaces()
    {
        var args = new TrainingArguments();
        Assert.Equal(5e-5, args.LearningRate);
        Assert.Equal(8, args.PerDeviceTrainBatchSize);
        Assert.Equal(8, args.PerDeviceEvalBatchSize);
        Assert.Equal(3, args.NumTrainEpochs);
        Assert.Equal(-1, args.MaxSteps);
        Assert.Equal(0, args.WeightDecay);
        Assert.Equal(1.0, args.MaxGradNorm);
        Assert.Equal(500, args.LoggingSteps);
        Assert.Equal(42, args.Seed);
        Assert.Equal(SchedulerType.Linear, args.LrSchedulerType);
        Assert.Equal((0.9, 0.999, 1e-8), (args.AdamBeta1, args.AdamBeta2, args.AdamEpsilon));
        args.Validate();
    }

    [Theory]
    [InlineData("LoadBestModelAtEnd needs an EvalStrategy")]
    [InlineData("LoadBestModelAtEnd needs SaveStrategy to equal EvalStrategy")]
    [InlineData("EarlyStoppingPatience needs an EvalStrategy")]
    [InlineData("LearningRate must be a positive number")]
    [InlineData("GradientAccumulationSteps must be at least 1")]
    [InlineData("set NumTrainEpochs > 0 or MaxSteps > 0")]
    [InlineData("Fp16 and Bf16 are both true")]
    public void InvalidCombinationsSayWhatToChange(string expected)
    {
        var args = expected switch
        {
            "LoadBestModelAtEnd needs an EvalStrategy" => new TrainingArguments { LoadBestModelAtEnd = true },
            "LoadBestModelAtEnd needs SaveStrategy to equal EvalStrategy" => new TrainingArguments { LoadBestModelAtEnd = true, EvalStrategy = IntervalStrategy.Epoch },
            "EarlyStoppingPatience needs an EvalStrategy" => new TrainingArguments { EarlyStoppingPatience = 2 },
            "LearningRate must be a positive number" => new TrainingArguments { LearningRate = double.NaN },
            "GradientAccumulationSteps must be at least 1" => new TrainingArguments { GradientAccumulationSteps = 0 },
            "Fp16 and Bf16 are both true" => new TrainingArguments { Fp16 = true, Bf16 = true },
            _ => new TrainingArguments { NumTrainEpochs = 0 },
        };
        var error = Assert.Throws<ArgumentException>(args.Validate);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void JsonUsesTransformersNames()
    {
        var args = new TrainingArguments { LearningRate = 2e-5, EvalStrategy = IntervalStrategy.Epoch, WeightDecay = 0.01 };
        var json = args.ToJson();
        Assert.Contains("\"learning_rate\": 2E-05", json);
        Assert.Contains("\"eval_strategy\": \"epoch\"", json);
        Assert.Contains("\"per_device_train_batch_size\": 8", json);
        Assert.Equal(args, TrainingArguments.FromJson(json));
    }

    [Fact]
    public void Bf16OnACpuOnlyMachineIsAClearError()
    {
        var error = Assert.Throws<NotSupportedException>(() => TrainingDevice.Resolve(DeviceChoice.Cpu, bf16: true));
        Assert.Contains("Bf16 = true needs a CUDA GPU", error.Message);
    }

    [Theory]
    [InlineData("fp16", "Fp16 = true needs a CUDA GPU")]
    [InlineData("tf32", "Tf32 = true needs a CUDA GPU")]
    public void Fp16AndTf32OnTheCpuAreClearErrors(string flag, string expected)
    {
        var args = new TrainingArguments { Device = DeviceChoice.Cpu, Fp16 = flag == "fp16", Tf32 = flag == "tf32" ? true : null };
        args.Validate();
        var error = Assert.Throws<NotSupportedException>(() => TrainingDevice.Resolve(args));
        Assert.Contains(expected, error.Message);
        // Turning TF32 off, or leaving it unset, asks nothing of the device.
        Assert.Equal(TorchSharp.DeviceType.CPU, TrainingDevice.Resolve(args with { Fp16 = false, Tf32 = false }).type);
    }

    [Fact]
    public void PrecisionFieldsUseTransformersNames()
    {
        var json = new TrainingArguments { Fp16 = true, Tf32 = false }.ToJson();
        Assert.Contains("\"fp16\": true", json);
        Assert.Contains("\"tf32\": false", json);
        Assert.Contains("\"tf32\": null", new TrainingArguments().ToJson());
    }
}
