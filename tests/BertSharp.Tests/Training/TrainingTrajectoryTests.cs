using System.Text.Json;
using BertSharp.Data;
using BertSharp.Modeling;
using BertSharp.Safetensors;
using BertSharp.Tests.Modeling;
using BertSharp.Tests.TestSupport;
using BertSharp.Training;
using static TorchSharp.torch;

namespace BertSharp.Tests.Training;

/// <summary>
/// Three AdamW steps on the reference batch, recipe from tiny-cls/training.json, against what transformers and
/// torch.optim.AdamW computed: losses, gradient norms, learning rates and the logits after the third step.
/// A wrong loss, parameter grouping, bias correction, clipping or warm-up moves these by far more than 1e-4.
/// </summary>
public class TrainingTrajectoryTests
{
    [Fact]
    public void ThreeStepsMatchTransformersWithin1e4()
    {
        var recipe = JsonDocument.Parse(File.ReadAllText(Path.Combine(SharedFiles.TinyClsDir, "training.json"))).RootElement;
        Dictionary<string, Tensor> reference;
        using (var file = SafetensorsFile.Open(Path.Combine(SharedFiles.TinyClsDir, "reference.safetensors")))
            reference = file.Tensors.ToDictionary(t => t.Name, t => file.ReadTensor(t.Name));

        var dropout = recipe.GetProperty("dropout").GetDouble();
        using var model = BertForSequenceClassification.FromPretrained(SharedFiles.TinyClsDir, options: new PretrainedOptions
        {
            Log = _ => { },
            ConfigOverrides = c => { var bert = (BertConfig)c; (bert.HiddenDropoutProb, bert.AttentionProbsDropoutProb) = (dropout, dropout); },
        });
        var betas = recipe.GetProperty("betas").EnumerateArray().Select(b => b.GetDouble()).ToArray();
        using var optimizer = new AdamW(model.named_parameters().Select(p => (p.name, p.parameter)),
            recipe.GetProperty("weight_decay").GetDouble(), betas[0], betas[1], recipe.GetProperty("eps").GetDouble());
        Assert.DoesNotContain(optimizer.DecayedParameterNames, n => n.EndsWith("bias") || n.Contains("LayerNorm"));
        Assert.Contains("classifier.weight", optimizer.DecayedParameterNames);

        var schedule = new LearningRateSchedule(SchedulerType.Linear, recipe.GetProperty("lr").GetDouble(), WarmupSteps: 1, TotalSteps: 3);
        var maxGradNorm = recipe.GetProperty("max_grad_norm").GetDouble();
        var labels = reference["train_labels"];
        Assert.Equal(recipe.GetProperty("labels").EnumerateArray().Select(l => l.GetInt64()), labels.data<long>().ToArray());

        model.train();
        var (losses, norms, rates) = (new List<float>(), new List<float>(), new List<float>());
        for (var step = 0; step < 3; step++)
        {
            var lr = schedule.LearningRateAt(step);
            var output = model.ForwardWithLoss(reference["input_ids"], reference["attention_mask"], reference["token_type_ids"], labels);
            output.Loss!.backward();
            var norm = nn.utils.clip_grad_norm_(optimizer.Parameters, maxGradNorm);
            optimizer.Step(lr);
            optimizer.ZeroGrad();
            losses.Add(output.Loss.item<float>());
            norms.Add((float)norm);
            rates.Add((float)lr);
        }

        ParityTests.AssertClose(reference["train_losses"], tensor(losses.ToArray()), 1e-4, "train_losses");
        ParityTests.AssertClose(reference["train_grad_norms"], tensor(norms.ToArray()), 1e-4, "train_grad_norms");
        ParityTests.AssertClose(reference["train_learning_rates"], tensor(rates.ToArray()), 1e-9, "train_learning_rates");
        model.eval();
        using var _ = no_grad();
        var logits = model.forward(reference["input_ids"], reference["attention_mask"], reference["token_type_ids"]);
        ParityTests.AssertClose(reference["train_logits_after_3_steps"], logits, 1e-4, "train_logits_after_3_steps");
    }
}
