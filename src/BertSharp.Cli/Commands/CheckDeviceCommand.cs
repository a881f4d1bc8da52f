using System.CommandLine;
using System.Text.Json;
using BertSharp.Modeling;
using BertSharp.Safetensors;
using BertSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace BertSharp.Cli.Commands;

/// <summary>
/// <c>bertsharp check-device</c>: is this GPU (and libtorch build) computing what the CPU computes? The same model and
/// batch on the CPU and on --device: float32 logits (within 1e-4), TF32, bfloat16 and float16 logits (within their
/// stated relative tolerances), and three AdamW steps' losses and gradient norms (within 1e-4). With --reference (a
/// reference.safetensors made by transformers, e.g. ../shared/fixtures/hf-reference/tiny-cls) the CPU run is checked
/// against transformers' logits and training trajectory too. Prints JSON; exit code 1 when any check fails.
/// </summary>
internal static class CheckDeviceCommand
{
    private sealed record Check(string Name, double MaxAbsDiff, double RelativeDiff, double Tolerance, string Measure, bool Pass);

    public static Command Create()
    {
        var device = new Option<DeviceChoice>("--device") { DefaultValueFactory = _ => DeviceChoice.Cuda, Description = "The device to check against the CPU." };
        var model = new Option<string?>("--model", "-m") { Description = "A local model folder; default: a small random BERT." };
        var reference = new Option<FileInfo?>("--reference") { Description = "A transformers reference.safetensors (input_ids, attention_mask, token_type_ids, logits, train_*) for --model." };
        var command = new Command("check-device", "Compare logits and a few training steps on --device with the CPU (and with transformers' reference); prints JSON.")
        {
            device, model, reference,
        };
        command.SetAction(parse =>
        {
            var target = TrainingDevice.Resolve(parse.GetValue(device));
            var modelDir = parse.GetValue(model);
            var referenceFile = parse.GetValue(reference);
            if (referenceFile is not null && modelDir is null)
                throw new CliUsageException("--reference needs the --model it was made with");
            var inputs = referenceFile is null ? RandomBatch() : ReadReference(referenceFile);
            BertForSequenceClassification Build() => modelDir is null ? RandomModel() : BertForSequenceClassification.FromPretrained(modelDir, options: new PretrainedOptions
            {
                Log = _ => { },
                // No dropout, so both devices compute the same function.
                ConfigOverrides = c =>
                {
                    var bert = (BertConfig)c;
                    (bert.HiddenDropoutProb, bert.AttentionProbsDropoutProb) = (0.0, 0.0);
                },
            });

            var checks = new List<Check>();
            using var cpuModel = Build();
            using var cpuLogits = Logits(cpuModel, inputs, ScalarType.Float32);
            if (inputs.TryGetValue("logits", out var hfLogits))
                checks.Add(Compare("cpu_fp32_logits_vs_transformers", cpuLogits, hfLogits, 1e-4, absolute: true));

            using var deviceModel = Build();
            deviceModel.to(target);
            using (var logits = Logits(deviceModel, inputs, ScalarType.Float32))
                checks.Add(Compare("fp32_logits", logits, cpuLogits, 1e-4, absolute: true));
            var tf32 = (Tf32.MatmulEnabled, Tf32.CudnnEnabled);
            Tf32.Apply(true);
            try
            {
                using var logits = Logits(deviceModel, inputs, ScalarType.Float32);
                checks.Add(Compare("tf32_logits", logits, cpuLogits, 1e-2, absolute: false));
            }
            finally
            {
                (backends.cuda.matmul.allow_tf32, backends.cudnn.allow_tf32) = tf32;
            }
            using (var logits = Logits(deviceModel, inputs, ScalarType.BFloat16))
                checks.Add(Compare("bf16_logits", logits, cpuLogits, 3e-2, absolute: false));
            using (var logits = Logits(deviceModel, inputs, ScalarType.Float16))
                checks.Add(Compare("fp16_logits", logits, cpuLogits, 1e-2, absolute: false));

            var rates = inputs.TryGetValue("train_learning_rates", out var r) ? r.to(ScalarType.Float64).data<double>().ToArray() : [0.0, 1e-3, 5e-4];
            var cpuSteps = TrainingSteps(Build, CPU, inputs, rates);
            var deviceSteps = TrainingSteps(Build, target, inputs, rates);
            checks.Add(Compare("train_losses", tensor(deviceSteps.Losses), tensor(cpuSteps.Losses), 1e-4, absolute: true));
            checks.Add(Compare("train_grad_norms", tensor(deviceSteps.GradNorms), tensor(cpuSteps.GradNorms), 1e-4, absolute: true));
            if (inputs.TryGetValue("train_losses", out var hfLosses))
                checks.Add(Compare("train_losses_vs_transformers", tensor(deviceSteps.Losses), hfLosses, 1e-4, absolute: true));
            if (inputs.TryGetValue("train_grad_norms", out var hfNorms))
                checks.Add(Compare("train_grad_norms_vs_transformers", tensor(deviceSteps.GradNorms), hfNorms, 1e-4, absolute: true));

            var passed = checks.All(c => c.Pass);
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                device = target.ToString(),
                model = modelDir ?? "random (vocab 1000, hidden 64, 2 layers, 4 heads)",
                reference = referenceFile?.FullName,
                checks = checks.Select(c => new { name = c.Name, max_abs_diff = c.MaxAbsDiff, relative_diff = c.RelativeDiff, tolerance = c.Tolerance, measure = c.Measure, pass = c.Pass }),
                train_losses = new { cpu = cpuSteps.Losses, device = deviceSteps.Losses },
                passed,
            }, new JsonSerializerOptions { WriteIndented = true }));
            return passed ? 0 : 1;
        });
        return command;
    }

    private static BertForSequenceClassification RandomModel()
    {
        manual_seed(7);
        return new BertForSequenceClassification(new BertConfig
        {
            VocabSize = 1000, HiddenSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 128,
            HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0, NumLabels = 2,
        });
    }

    /// <summary>Three padded rows, so the attention mask matters.</summary>
    private static Dictionary<string, Tensor> RandomBatch()
    {
        var generator = new Generator(11);
        var ids = randint(1, 1000, [3, 16], dtype: ScalarType.Int64, generator: generator);
        var mask = ones_like(ids);
        mask[1, 12..] = tensor(0L);
        mask[2, 5..] = tensor(0L);
        return new Dictionary<string, Tensor>
        {
            ["input_ids"] = ids * mask, ["attention_mask"] = mask, ["token_type_ids"] = zeros_like(ids),
            ["train_labels"] = tensor(new long[] { 0, 1, 1 }),
        };
    }

    private static Dictionary<string, Tensor> ReadReference(FileInfo file)
    {
        using var reference = SafetensorsFile.Open(file.FullName);
        foreach (var required in new[] { "input_ids", "attention_mask" })
            if (!reference.Contains(required)) throw new InvalidDataException($"{file.FullName}: has no '{required}' tensor.");
        var inputs = reference.Tensors.ToDictionary(t => t.Name, t => reference.ReadTensor(t.Name));
        inputs.TryAdd("token_type_ids", zeros_like(inputs["input_ids"]));
        inputs.TryAdd("train_labels", zeros(inputs["input_ids"].shape[0], dtype: ScalarType.Int64));
        return inputs;
    }

    private static Tensor Logits(BertForSequenceClassification model, Dictionary<string, Tensor> inputs, ScalarType compute)
    {
        model.eval();
        model.Precision.ComputeDtype = compute;
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var device = model.parameters().First().device;
            return model.forward(inputs["input_ids"].to(device), inputs["attention_mask"].to(device), inputs["token_type_ids"].to(device))
                .to(ScalarType.Float32).cpu().MoveToOuterDisposeScope();
        }
        finally
        {
            model.Precision.ComputeDtype = ScalarType.Float32;
        }
    }

    /// <summary>AdamW steps (weight decay 0.01, clipping at 1.0) at the given learning rates: loss and gradient norm of each.</summary>
    private static (float[] Losses, float[] GradNorms) TrainingSteps(Func<BertForSequenceClassification> build, Device device, Dictionary<string, Tensor> inputs, double[] rates)
    {
        using var model = build();
        model.to(device);
        model.train();
        using var optimizer = new AdamW(model.named_parameters().Select(p => (p.name, p.parameter)), 0.01);
        var (losses, norms) = (new List<float>(), new List<float>());
        foreach (var rate in rates)
        {
            using var scope = NewDisposeScope();
            var output = model.ForwardWithLoss(inputs["input_ids"].to(device), inputs["attention_mask"].to(device), inputs["token_type_ids"].to(device), inputs["train_labels"].to(device));
            output.Loss!.backward();
            norms.Add(optimizer.ClipGradNorm(1.0).item<float>());
            optimizer.Step(rate);
            optimizer.ZeroGrad();
            losses.Add(output.Loss.item<float>());
        }
        return (losses.ToArray(), norms.ToArray());
    }

    /// <summary>Max |a − b| and ‖a − b‖ / ‖b‖; the check passes on the absolute or the relative measure, as stated.</summary>
    private static Check Compare(string name, Tensor actual, Tensor expected, double tolerance, bool absolute)
    {
        using var scope = NewDisposeScope();
        var (a, b) = (actual.to(ScalarType.Float64), expected.to(ScalarType.Float64));
        if (!a.shape.SequenceEqual(b.shape))
            throw new InvalidDataException($"{name}: shape [{string.Join(", ", a.shape)}] differs from the reference's [{string.Join(", ", b.shape)}].");
        var maxAbs = (a - b).abs().max().item<double>();
        var relative = (a - b).norm().item<double>() / Math.Max(b.norm().item<double>(), 1e-30);
        var measure = absolute ? maxAbs : relative;
        // NaN never passes.
        return new Check(name, maxAbs, relative, tolerance, absolute ? "max_abs_diff" : "relative_diff", measure <= tolerance);
    }
}
