using BertSharp.Modeling;
using BertSharp.Safetensors;
using BertSharp.Tests.TestSupport;
using static TorchSharp.torch;

namespace BertSharp.Tests.Modeling;

/// <summary>
/// What both families share through <see cref="SequenceClassificationModel"/>: Embed + ForwardFromEmbeddings is the
/// forward pass, kernel for kernel; batches without padding skip the mask and keep parity; bf16 works.
/// </summary>
public class ModelFamilyTests
{
    private static readonly PretrainedOptions Quiet = new() { Log = _ => { } };

    public static TheoryData<string> Fixtures => new() { "tiny-cls", "tiny-distilbert-cls" };

    private static (SequenceClassificationModel Model, Dictionary<string, Tensor> Reference) Load(string fixture)
    {
        var dir = SharedFiles.Path("fixtures", "hf-reference", fixture);
        using var file = SafetensorsFile.Open(Path.Combine(dir, "reference.safetensors"));
        var reference = file.Tensors.ToDictionary(t => t.Name, t => file.ReadTensor(t.Name));
        return (AutoModelForSequenceClassification.FromPretrained(dir, options: Quiet), reference);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void ForwardFromEmbeddingsOfEmbedIsForwardExactly(string fixture)
    {
        var (model, reference) = Load(fixture);
        using var _ = model;
        model.eval();
        using var noGrad = no_grad();
        var (ids, mask) = (reference["input_ids"], reference["attention_mask"]);
        var types = reference.GetValueOrDefault("token_type_ids");
        var embeddings = model.Embed(ids, types);
        Assert.Equal([ids.shape[0], ids.shape[1], 64L], embeddings.shape);
        var viaEmbeddings = model.ForwardFromEmbeddings(embeddings, mask);
        var direct = model.forward(ids, mask, types);
        Assert.True(TensorAssert.BitEqual(direct, viaEmbeddings), "ForwardFromEmbeddings(Embed(ids), mask) differs from forward(ids, mask)");
        ParityTests.AssertClose(reference["logits"], direct, 1e-5, "logits");
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void GradientsReachTheEmbeddingOutput(string fixture)
    {
        // What Integrated Gradients needs: d logit / d embeddings through ForwardFromEmbeddings.
        var (model, reference) = Load(fixture);
        using var _ = model;
        model.eval();
        Tensor embeddings;
        using (no_grad()) embeddings = model.Embed(reference["input_ids"], reference.GetValueOrDefault("token_type_ids"));
        embeddings.requires_grad_(true);
        model.ForwardFromEmbeddings(embeddings, reference["attention_mask"]).select(1, 1).sum().backward();
        var grad = embeddings.grad!;
        Assert.True(grad.abs().sum().item<float>() > 0);
        // Padded keys are masked out, so a padded position's embedding cannot move the [CLS] logit.
        var padded = reference["attention_mask"].eq(0).unsqueeze(-1);
        Assert.Equal(0f, grad.masked_select(padded).abs().max().item<float>());
    }

    [Fact]
    public void BertBatchWithoutPaddingRunsWithoutAMaskAndStillMatches()
    {
        // tiny-cls's row 0 fills all 32 positions: alone, no mask is built and SDPA runs unmasked.
        var (model, reference) = Load("tiny-cls");
        using var _ = model;
        model.eval();
        using var noGrad = no_grad();
        var ids = reference["input_ids"].narrow(0, 0, 1);
        var types = reference["token_type_ids"].narrow(0, 0, 1);
        Assert.Equal(ids.numel(), reference["attention_mask"].narrow(0, 0, 1).sum().item<long>());
        ParityTests.AssertClose(reference["logits"].narrow(0, 0, 1), model.forward(ids, ones_like(ids), types), 1e-5, "logits, all-ones mask");
        ParityTests.AssertClose(reference["logits"].narrow(0, 0, 1), model.forward(ids, null, types), 1e-5, "logits, no mask");
        var bert = ((BertForSequenceClassification)model).Bert;
        ParityTests.AssertClose(reference["last_hidden_state"].narrow(0, 0, 1), bert.forward(ids, null, types).LastHiddenState, 1e-5, "last_hidden_state");
    }

    [Fact]
    public void DistilBertBf16ForwardIsCloseWithFloat32WeightsLossAndGradients()
    {
        var (model, reference) = Load("tiny-distilbert-cls");
        using var _ = model;
        model.Precision.ComputeDtype = ScalarType.BFloat16;
        model.eval();
        using (no_grad())
        {
            var logits = model.forward(reference["input_ids"], reference["attention_mask"]);
            Assert.Equal(ScalarType.BFloat16, logits.dtype);
            var difference = (logits.to(ScalarType.Float32) - reference["logits"]).abs().max().item<float>();
            // bfloat16 keeps 8 bits of mantissa: close, but measurably not float32 (so the switch really did something).
            Assert.InRange(difference, 1e-6, 0.05);
        }
        model.train();
        var output = model.ForwardWithLoss(reference["input_ids"], reference["attention_mask"], null, reference["train_labels"]);
        Assert.Equal(ScalarType.Float32, output.Loss!.dtype);
        output.Loss.backward();
        var grad = model.named_parameters().First(p => p.name == "distilbert.transformer.layer.0.attention.q_lin.weight").parameter.grad!;
        Assert.Equal(ScalarType.Float32, grad.dtype);
        Assert.True(grad.abs().sum().item<float>() > 0);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
    }
}
