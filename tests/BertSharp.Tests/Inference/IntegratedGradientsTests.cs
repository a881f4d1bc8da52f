using BertSharp.Inference;
using BertSharp.Modeling;
using BertSharp.Safetensors;
using BertSharp.Tests.TestSupport;
using static TorchSharp.torch;

namespace BertSharp.Tests.Inference;

/// <summary>
/// Integrated Gradients against cases with known answers: quadrature rules on polynomials, a linear model (IG equals
/// (x − x′)·w exactly), a cubic one (Gauss–Legendre is exact, the trapezoid converges), completeness on the real
/// models, and tokens the model cannot see.
/// </summary>
public class IntegratedGradientsTests
{
    private static readonly PretrainedOptions Quiet = new() { Log = _ => { } };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(50)]
    [InlineData(51)]
    public void GaussLegendreIntegratesPolynomialsUpToDegree2nMinus1Exactly(int n)
    {
        var (alphas, weights) = IntegrationRule.GaussLegendre(n);
        Assert.Equal(n, alphas.Length);
        Assert.All(alphas, a => Assert.InRange(a, 0, 1));
        Assert.True(alphas.Zip(alphas.Skip(1)).All(p => p.First < p.Second), "nodes ascend");
        for (var degree = 0; degree <= Math.Min(2 * n - 1, 30); degree++)
        {
            var integral = alphas.Zip(weights).Sum(p => p.Second * Math.Pow(p.First, degree));
            Assert.Equal(1.0 / (degree + 1), integral, 1e-12);
        }
    }

    [Fact]
    public void TheTrapezoidRuleHasBothEndsAtHalfWeight()
    {
        var (alphas, weights) = IntegrationRule.RiemannTrapezoid(5);
        Assert.Equal([0, 0.25, 0.5, 0.75, 1], alphas);
        Assert.Equal([0.125, 0.25, 0.25, 0.25, 0.125], weights);
        Assert.Throws<ArgumentOutOfRangeException>(() => IntegrationRule.RiemannTrapezoid(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => IntegrationRule.GaussLegendre(0));
    }

    /// <summary>F(x)[c] = Σ x·W[c] + b[c]: a linear "classifier" on [positions, features].</summary>
    private static Func<Tensor, Tensor> Linear(Tensor w, Tensor b) => points => (points.unsqueeze(1) * w.unsqueeze(0)).sum([2, 3]) + b;

    [Theory]
    [InlineData(IntegrationMethod.GaussLegendre, 50, null)]
    [InlineData(IntegrationMethod.GaussLegendre, 7, 3)]
    [InlineData(IntegrationMethod.RiemannTrapezoid, 20, 1)]
    public void ForALinearModelIgIsExactlyTheDifferenceTimesTheWeights(IntegrationMethod method, int steps, int? perPass)
    {
        manual_seed(3);
        using var scope = NewDisposeScope();
        var w = randn(2, 6, 4);
        var b = randn(2);
        var x = randn(6, 4);
        var baseline = randn(6, 4);
        var result = IntegratedGradients.Attribute(Linear(w, b), x, baseline, target: 1, steps, method, perPass);
        var expected = ((x - baseline) * w[1]).sum(1).to(ScalarType.Float64).data<double>().ToArray();
        Assert.Equal(6, result.Attributions.Length);
        for (var i = 0; i < 6; i++) Assert.Equal(expected[i], result.Attributions[i], 1e-5);
        Assert.Equal((double)(Linear(w, b)(x.unsqueeze(0))[0, 1] - Linear(w, b)(baseline.unsqueeze(0))[0, 1]).item<float>(), result.OutputDifference, 1e-5);
        Assert.True(result.ConvergenceDelta < 1e-5, $"delta {result.ConvergenceDelta}");
        Assert.Equal(perPass is { } p ? (steps + p - 1) / p : 1, result.Passes);
    }

    [Fact]
    public void ForACubicGaussLegendreIsExactAndTheTrapezoidConverges()
    {
        // F(x) = Σ w·x³ with baseline 0: attribution i = w_i x_i³ exactly (the integrand 3α²x³ is a quadratic in α).
        using var scope = NewDisposeScope();
        var w = tensor(new float[] { 0.5f, -2f, 1f });
        var x = tensor(new float[] { 1.5f, 0.7f, -1.2f }).view(3, 1);
        Tensor Cubic(Tensor points) => (points.pow(3).squeeze(-1) * w).sum(1, keepdim: true);
        var expected = new[] { 0.5 * Math.Pow(1.5, 3), -2 * Math.Pow(0.7, 3), Math.Pow(-1.2, 3) };

        var gauss = IntegratedGradients.Attribute(Cubic, x, zeros_like(x), 0, steps: 2);
        for (var i = 0; i < 3; i++) Assert.Equal(expected[i], gauss.Attributions[i], 1e-5);

        var coarse = IntegratedGradients.Attribute(Cubic, x, zeros_like(x), 0, steps: 5, method: IntegrationMethod.RiemannTrapezoid);
        var fine = IntegratedGradients.Attribute(Cubic, x, zeros_like(x), 0, steps: 200, method: IntegrationMethod.RiemannTrapezoid);
        Assert.True(coarse.ConvergenceDelta > 1e-2, $"5 trapezoid steps should visibly miss; delta {coarse.ConvergenceDelta}");
        Assert.True(fine.ConvergenceDelta < 1e-4, $"200 trapezoid steps should converge; delta {fine.ConvergenceDelta}");
    }

    [Fact]
    public void EmbedThenForwardFromEmbeddingsIsTheForwardPass()
    {
        using var file = SafetensorsFile.Open(Path.Combine(SharedFiles.TinyClsDir, "reference.safetensors"));
        using var model = BertForSequenceClassification.FromPretrained(SharedFiles.TinyClsDir, options: Quiet);
        model.eval();
        using var noGrad = no_grad();
        var (ids, mask, types) = (file.ReadTensor("input_ids"), file.ReadTensor("attention_mask"), file.ReadTensor("token_type_ids"));
        var viaEmbeddings = model.ForwardFromEmbeddings(model.Embed(ids, types), mask);
        Assert.Equal([3, 32, 64], model.Embed(ids, types).shape);
        Modeling.ParityTests.AssertClose(file.ReadTensor("logits"), viaEmbeddings, 1e-5, "logits through Embed + ForwardFromEmbeddings");
        Assert.True(TensorAssert.BitEqual(model.forward(ids, mask, types), viaEmbeddings));
    }

    [Fact]
    public void CompletenessHoldsOnTheTinyFixtureWithPaddingAndTokenTypes()
    {
        using var file = SafetensorsFile.Open(Path.Combine(SharedFiles.TinyClsDir, "reference.safetensors"));
        using var model = BertForSequenceClassification.FromPretrained(SharedFiles.TinyClsDir, options: Quiet);
        model.eval();
        var ids = file.ReadTensor("input_ids").data<long>().ToArray();
        var masks = file.ReadTensor("attention_mask").data<long>().ToArray();
        var types = file.ReadTensor("token_type_ids").data<long>().ToArray();
        for (var row = 0; row < 3; row++)
        {
            var input = ids.AsSpan(row * 32, 32).ToArray();
            var mask = masks.AsSpan(row * 32, 32).ToArray();
            var last = Array.LastIndexOf(mask, 1L);
            // The fixture's rows start with id 2 and have no [SEP]: keep the first and the last real token.
            var baseline = input.Select((id, i) => i == 0 || i == last ? id : 0L).ToArray();
            for (var target = 0; target < 2; target++)
            {
                var result = IntegratedGradients.Attribute(model, input, baseline, target, mask, types.AsSpan(row * 32, 32).ToArray(), steps: 50);
                Assert.True(Math.Abs(result.OutputDifference) > 1e-6, $"row {row}: F(x) and F(x') are the same");
                Assert.True(result.ConvergenceDelta < 0.01 * Math.Abs(result.OutputDifference),
                    $"row {row}, target {target}: delta {result.ConvergenceDelta:E3} vs |F(x) − F(x')| {Math.Abs(result.OutputDifference):E3}");
                // Positions where input and baseline agree (the kept ends, the padding) get exactly nothing.
                for (var i = 0; i < 32; i++)
                    if (input[i] == baseline[i]) Assert.Equal(0.0, result.Attributions[i]);
            }
        }
    }

    [Fact]
    public void ATokenTheModelCannotSeeGetsExactlyZero()
    {
        using var model = BertForSequenceClassification.FromPretrained(SharedFiles.TinyClsDir, options: Quiet);
        model.eval();
        long[] input = [2, 269, 542, 194, 6, 622, 918, 94, 906, 183];
        long[] baseline = [2, 0, 0, 0, 0, 0, 0, 0, 0, 183];
        long[] mask = [1, 1, 1, 1, 0, 1, 1, 1, 1, 1];
        var hidden = IntegratedGradients.Attribute(model, input, baseline, 1, mask);
        Assert.Equal(0.0, hidden.Attributions[4]);
        var visible = IntegratedGradients.Attribute(model, input, baseline, 1);
        Assert.NotEqual(0.0, visible.Attributions[4]);
        // The others still get attributions, and completeness still holds with the token hidden.
        Assert.All(new[] { 1, 2, 3, 5, 6, 7, 8 }, i => Assert.NotEqual(0.0, hidden.Attributions[i]));
        Assert.True(hidden.ConvergenceDelta < 0.01 * Math.Abs(hidden.OutputDifference));
        Assert.Equal(0.0, IntegratedGradients.GradientTimesInput(model, input, 1, mask)[4]);
    }

    private static readonly string[] Reviews = StandInReviews();

    private static string[] StandInReviews() =>
        BertSharp.Data.Imdb.Load("test", SharedFiles.Path("data", "imdb")).Shuffle(11).SelectRange(4).Select(e => e.Text).ToArray();

    [Fact]
    public void CompletenessHoldsOnTheStandInWithFiftySteps()
    {
        manual_seed(5);
        using var pipeline = TextClassificationPipeline.FromPretrained(SharedFiles.TinyModelDir, Quiet, maxLength: 256);
        foreach (var review in Reviews.Append("A wonderful, moving film."))
        {
            var explanation = pipeline.Explain(review);
            var difference = explanation.TargetLogit - explanation.BaselineLogit;
            Assert.True(Math.Abs(difference) > 1e-4, $"F(x) − F(x') = {difference}");
            Assert.True(explanation.RelativeDelta < 0.01,
                $"delta {explanation.ConvergenceDelta:E3} is {100 * explanation.RelativeDelta:F2}% of |F(x) − F(x')| = {Math.Abs(difference):E3}");
            Assert.Equal(explanation.AttributionSum, difference, Math.Abs(difference) * 0.01);
            // [CLS] and [SEP] are the same in the baseline: no attribution.
            Assert.Equal(0.0, explanation.Tokens[0].Attribution);
            Assert.Equal(0.0, explanation.Tokens[^1].Attribution);
            Assert.Equal(explanation.Tokens.Sum(t => t.Attribution), explanation.Words.Sum(w => w.Attribution), 1e-9);
        }
    }

    [Fact]
    public void CompletenessHoldsOnADistilBertToo()
    {
        // A DistilBERT student of the stand-in (so its attributions are about real, pre-trained weights).
        manual_seed(5);
        using var teacher = BertForSequenceClassification.FromPretrained(SharedFiles.TinyModelDir, numLabels: 2, options: Quiet);
        var student = DistilBertStudent.FromBert(teacher, layers: [0, 1]);
        using var pipeline = new TextClassificationPipeline(student, BertSharp.Tokenization.BertTokenizer.FromDirectory(SharedFiles.TinyModelDir), maxLength: 256, ownsModel: true);
        foreach (var review in Reviews.Take(2))
        {
            var explanation = pipeline.Explain(review);
            var difference = explanation.TargetLogit - explanation.BaselineLogit;
            Assert.True(Math.Abs(difference) > 1e-4, $"F(x) − F(x') = {difference}");
            // DistilBERT's head has a ReLU (BERT's pooler a tanh): the path's gradient jumps where a unit switches, which
            // no quadrature integrates exactly, so the bound is 5% of |F(x) − F(x')| here rather than BERT's 1%.
            Assert.True(explanation.RelativeDelta < 0.05, $"delta {explanation.ConvergenceDelta:E3} vs |F(x) − F(x')| = {Math.Abs(difference):E3}");
            Assert.Equal(0.0, explanation.Tokens[0].Attribution);
        }
    }

    [Fact]
    public void TwoStepsIntegrateWorseThanFifty()
    {
        // The delta measures the integration: a too-coarse path must show it.
        manual_seed(5);
        using var pipeline = TextClassificationPipeline.FromPretrained(SharedFiles.TinyModelDir, Quiet, maxLength: 128);
        var coarse = pipeline.Explain(Reviews[0], steps: 2, integration: IntegrationMethod.RiemannTrapezoid);
        var fine = pipeline.Explain(Reviews[0], steps: 50);
        Assert.True(coarse.ConvergenceDelta > 5 * fine.ConvergenceDelta, $"2 trapezoid steps: {coarse.ConvergenceDelta:E3}; 50 Gauss–Legendre: {fine.ConvergenceDelta:E3}");
        Assert.Equal(coarse.TargetLogit, fine.TargetLogit, 1e-5);
        Assert.Equal(coarse.BaselineLogit, fine.BaselineLogit, 1e-5);
    }
}
