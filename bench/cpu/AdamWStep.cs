#:project ../../src/BertSharp/BertSharp.csproj
#:property PublishAot=false
// The optimizer step alone, bert-base shape (random weights, random gradients), on the CPU: BertSharp's fused AdamW
// against the same update done one parameter at a time (what AdamW.cs did before, and torch.optim.AdamW's
// single-tensor path, with one reused scratch buffer for the denominator) and against TorchSharp's own
// torch.optim.AdamW. glibc malloc is tuned as the Trainer tunes it on the CPU (NativeAllocator). Prints JSON with the
// median of each.
//   dotnet run bench/cpu/AdamWStep.cs -- [config.json] [steps] [threads]
using System.Diagnostics;
using System.Text.Json;
using BertSharp.Modeling;
using BertSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

var configPath = args.Length > 0 ? args[0] : "../shared/data/bert-base-uncased/config.json";
var steps = args.Length > 1 ? int.Parse(args[1]) : 5;
if (args.Length > 2) set_num_threads(int.Parse(args[2]));
manual_seed(0);
NativeAllocator.KeepFreedMemoryForReuse();

double Median(List<double> xs) { xs.Sort(); return xs[xs.Count / 2]; }

List<double> Time(Action step)
{
    step(); // warm-up: first-touch of the state
    var times = new List<double>();
    for (var i = 0; i < steps; i++)
    {
        var clock = Stopwatch.StartNew();
        step();
        times.Add(clock.Elapsed.TotalMilliseconds);
    }
    return times;
}

void RandomGrads(nn.Module model)
{
    using var noGrad = no_grad();
    foreach (var p in model.parameters())
    {
        if (p.grad is null) p.grad = zeros_like(p);
        p.grad!.normal_(0, 1e-3);
    }
}

var results = new Dictionary<string, object>();
using (var model = new BertForSequenceClassification(BertConfig.FromFile(configPath)))
{
    results["parameters"] = model.parameters().Sum(p => p.numel());
    RandomGrads(model);
    var state = model.named_parameters().ToDictionary(p => p.name, p => (M: zeros_like(p.parameter), V: zeros_like(p.parameter)));
    var scratch = empty(model.parameters().Max(p => p.numel()));
    var t = 0;
    results["per_parameter_ms"] = Median(Time(() =>
    {
        t++;
        var (c1, c2) = (1 - Math.Pow(0.9, t), Math.Sqrt(1 - Math.Pow(0.999, t)));
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            using var scope = NewDisposeScope();
            var (m, v) = state[name];
            var g = p.grad!;
            if (AdamW.IsDecayed(name)) p.mul_(1 - 2e-5 * 0.01);
            m.mul_(0.9).add_(g, alpha: 0.1);
            v.mul_(0.999).addcmul_(g, g, 0.001);
            var denominator = scratch.narrow(0, 0, p.numel()).view(p.shape);
            denominator.copy_(v).sqrt_().div_(c2).add_(1e-8);
            p.addcdiv_(m, denominator, -2e-5 / c1);
        }
    }));
    foreach (var s in state.Values) { s.M.Dispose(); s.V.Dispose(); }
    scratch.Dispose();

    using var torchsharp = optim.AdamW(model.parameters(), lr: 2e-5, weight_decay: 0.01);
    results["torchsharp_optim_adamw_ms"] = Median(Time(() => torchsharp.step()));
}
using (var model = new BertForSequenceClassification(BertConfig.FromFile(configPath)))
{
    using var fused = new AdamW(model.named_parameters().Select(p => (p.name, p.parameter)), 0.01);
    using (no_grad()) foreach (var g in fused.GradientBuffers) g.normal_(0, 1e-3);
    results["fused_ms"] = Median(Time(() => fused.Step(2e-5)));
    results["fused_zero_grad_ms"] = Median(Time(fused.ZeroGrad));
    results["fused_clip_grad_norm_ms"] = Median(Time(() => fused.ClipGradNorm(1.0).Dispose()));
}
results["steps"] = steps;
results["threads"] = get_num_threads();
Console.WriteLine(JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
