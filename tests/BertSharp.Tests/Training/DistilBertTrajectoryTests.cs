using System.Text.Json;
using BertSharp.Modeling;
using BertSharp.Tests.Modeling;
using BertSharp.Tests.TestSupport;
using BertSharp.Training;
using static TorchSharp.torch;

namespace BertSharp.Tests.Training;

/// <summary>
/// Three AdamW steps on tiny-distilbert-cls's reference batch, recipe from its training.json, against the reference
/// losses, gradient norms, learning rates and logits after the third step. The no-decay group is the Trainer's
/// (by module type), so sa_layer_norm and output_layer_norm get no weight decay, as in transformers.
/// </summary>
public class DistilBertTrajectoryTests
{
    [Fact]
    public void ThreeStepsMatchTheReferenceWithin1e4()
    {
        var dir = SharedFiles.TinyDistilBertClsDir;
        var recipe = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "training.json"))).RootElement;
        var reference = DistilBertParityTests.Reference();
        var dropout = recipe.GetProperty("dropout").GetDouble();
        using var model = AutoModelForSequenceClassification.FromPretrained(dir, options: new PretrainedOptions
        {
            Log = _ => { },
            ConfigOverrides = c =>
            {
                var d = (DistilBertConfig)c;
                (d.Dropout, d.AttentionDropout, d.SeqClassifDropout) = (dropout, dropout, dropout);
            },
        });
        var betas = recipe.GetProperty("betas").EnumerateArray().Select(b => b.GetDouble()).ToArray();
        using var optimizer = new AdamW(model.named_parameters().Select(p => (p.name, p.parameter)),
            recipe.GetProperty("weight_decay").GetDouble(), betas[0], betas[1], recipe.GetProperty("eps").GetDouble(),
            WeightDecayParameters.Names(model));
        Assert.DoesNotContain(optimizer.DecayedParameterNames, n => n.Contains("layer_norm") || n.Contains("LayerNorm") || n.EndsWith("bias"));
        Assert.Contains("distilbert.transformer.layer.1.ffn.lin2.weight", optimizer.DecayedParameterNames);
        Assert.Contains("pre_classifier.weight", optimizer.DecayedParameterNames);

        var schedule = new LearningRateSchedule(SchedulerType.Linear, recipe.GetProperty("lr").GetDouble(), WarmupSteps: 1, TotalSteps: 3);
        var maxGradNorm = recipe.GetProperty("max_grad_norm").GetDouble();
        var labels = reference["train_labels"];
        Assert.Equal(recipe.GetProperty("labels").EnumerateArray().Select(l => l.GetInt64()), labels.data<long>().ToArray());

        model.train();
        var (losses, norms, rates) = (new List<float>(), new List<float>(), new List<float>());
        for (var step = 0; step < 3; step++)
        {
            var lr = schedule.LearningRateAt(step);
            var output = model.ForwardWithLoss(reference["input_ids"], reference["attention_mask"], null, labels);
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
        var logits = model.forward(reference["input_ids"], reference["attention_mask"]);
        ParityTests.AssertClose(reference["train_logits_after_3_steps"], logits, 1e-4, "train_logits_after_3_steps");
    }

    [Fact]
    public void TheNoDecayGroupIsDecidedByModuleTypeForBothFamilies()
    {
        var quiet = new PretrainedOptions { Log = _ => { } };
        using var distilBert = AutoModelForSequenceClassification.FromPretrained(SharedFiles.TinyDistilBertClsDir, options: quiet);
        var decayed = WeightDecayParameters.Names(distilBert);
        var all = distilBert.named_parameters().Select(p => p.name).ToList();
        var notDecayed = all.Where(n => !decayed.Contains(n)).ToList();
        // Embedding LayerNorm, two LayerNorms per block (weight and bias), and every bias.
        Assert.Contains("distilbert.transformer.layer.0.sa_layer_norm.weight", notDecayed);
        Assert.Contains("distilbert.transformer.layer.1.output_layer_norm.weight", notDecayed);
        Assert.Contains("distilbert.embeddings.LayerNorm.weight", notDecayed);
        Assert.Equal(all.Count(n => n.EndsWith(".bias")) + 1 + 2 * 2, notDecayed.Count);
        // The name rule the optimizer used alone would decay DistilBERT's norms; the module rule does not.
        Assert.Contains(notDecayed, n => AdamW.IsDecayed(n));

        // For BERT both rules agree, so BERT's runs are unchanged.
        using var bert = AutoModelForSequenceClassification.FromPretrained(SharedFiles.TinyClsDir, options: quiet);
        var byName = bert.named_parameters().Select(p => p.name).Where(AdamW.IsDecayed).ToHashSet();
        Assert.True(byName.SetEquals(WeightDecayParameters.Names(bert)));
    }
}
