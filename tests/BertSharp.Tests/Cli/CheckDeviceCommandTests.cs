using System.Text.Json;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Cli;

/// <summary>
/// <c>bertsharp check-device</c> on the CPU (the GPU script runs it with --device cuda): against transformers' reference
/// it passes, against another model's reference it fails with exit code 1, and a missing GPU is one clear line.
/// </summary>
public class CheckDeviceCommandTests
{
    private static readonly string TinyCls = SharedFiles.TinyClsDir;

    private static JsonElement Check(JsonElement root, string name) =>
        root.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    [Fact]
    public void TheReferenceModelPassesEveryCheck()
    {
        var result = CliProcess.Run(["check-device", "--device", "cpu", "--model", TinyCls, "--reference", Path.Combine(TinyCls, "reference.safetensors")]);
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        var root = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.True(root.GetProperty("passed").GetBoolean());
        Assert.True(Check(root, "cpu_fp32_logits_vs_transformers").GetProperty("max_abs_diff").GetDouble() <= 1e-4);
        Assert.True(Check(root, "train_losses_vs_transformers").GetProperty("pass").GetBoolean());
        // Reduced precision really ran: bf16 differs from float32, within its tolerance.
        Assert.InRange(Check(root, "bf16_logits").GetProperty("relative_diff").GetDouble(), 1e-5, 3e-2);
        Assert.InRange(Check(root, "fp16_logits").GetProperty("relative_diff").GetDouble(), 1e-6, 1e-2);
    }

    [Fact]
    public void AnotherModelsReferenceFails()
    {
        var other = Path.Combine(SharedFiles.Path("fixtures", "hf-reference", "tiny-distilbert-cls"), "reference.safetensors");
        var result = CliProcess.Run(["check-device", "--device", "cpu", "--model", TinyCls, "--reference", other]);
        Assert.Equal(1, result.ExitCode);
        var root = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.False(root.GetProperty("passed").GetBoolean());
        Assert.False(Check(root, "cpu_fp32_logits_vs_transformers").GetProperty("pass").GetBoolean());
    }

    [Fact]
    public void NoGpuIsOneClearLine()
    {
        var result = CliProcess.Run(["check-device", "--device", "cuda"]);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: Device = cuda, but TorchSharp sees no CUDA GPU", result.Stderr);
    }
}
