using BertSharp.Modeling;
using TorchSharp;
using static TorchSharp.torch;

namespace BertSharp.Inference;

/// <summary>What Integrated Gradients returns for one input.</summary>
/// <param name="Attributions">One attribution per position (the input's first dimension), summed over the last (hidden) dimension.</param>
/// <param name="InputLogits">F(x): every output of the model at the input.</param>
/// <param name="BaselineLogits">F(x′): every output at the baseline.</param>
/// <param name="Target">The output that was explained.</param>
/// <param name="Method">The quadrature used.</param>
/// <param name="Steps">Points on the path (forward and backward passes of one input each).</param>
/// <param name="Passes">Forward/backward passes the steps were batched into.</param>
public sealed record IntegratedGradientsResult(
    double[] Attributions,
    float[] InputLogits,
    float[] BaselineLogits,
    int Target,
    int Steps,
    IntegrationMethod Method,
    int Passes)
{
    /// <summary>F(x) − F(x′) for the target: what the attributions must add up to (completeness).</summary>
    public double OutputDifference => (double)InputLogits[Target] - BaselineLogits[Target];

    /// <summary>|Σ attributions − (F(x) − F(x′))|: the integration error; small when the steps are enough.</summary>
    public double ConvergenceDelta => Math.Abs(Attributions.Sum() - OutputDifference);
}

/// <summary>
/// Integrated Gradients (Sundararajan et al., 2017): the attribution of input feature i is
/// (xᵢ − x′ᵢ) · ∫₀¹ ∂F(x′ + α(x − x′))/∂xᵢ dα, the gradient averaged along the straight path from a baseline x′ to the
/// input x. The attributions add up to F(x) − F(x′) (completeness), which is what makes the convergence delta a check
/// of the integration. For BERT the input is the embeddings module's output, as Captum's
/// <c>LayerIntegratedGradients(model, model.bert.embeddings)</c> does, since token ids are not differentiable.
/// </summary>
public static class IntegratedGradients
{
    /// <summary>Default size of one batched pass, in (interpolation steps × tokens): 4 steps at 512 tokens.</summary>
    public const int DefaultTokensPerPass = 2048;

    /// <summary>
    /// Attributes <paramref name="forward"/>'s output <paramref name="target"/> to the positions of
    /// <paramref name="input"/> [positions, features] relative to <paramref name="baseline"/> (same shape).
    /// </summary>
    /// <param name="forward">Maps a batch [k, positions, features] to outputs [k, outputs]; called with gradients on.</param>
    /// <param name="input">x, [positions, features].</param>
    /// <param name="baseline">x′, the same shape.</param>
    /// <param name="target">The output to explain.</param>
    /// <param name="steps">Points on the path.</param>
    /// <param name="method">The quadrature.</param>
    /// <param name="stepsPerPass">Interpolation points per forward/backward pass; bounds memory (default: <see cref="DefaultTokensPerPass"/> / positions).</param>
    public static IntegratedGradientsResult Attribute(Func<Tensor, Tensor> forward, Tensor input, Tensor baseline, int target,
        int steps = 50, IntegrationMethod method = IntegrationMethod.GaussLegendre, int? stepsPerPass = null)
    {
        ArgumentNullException.ThrowIfNull(forward);
        if (input.dim() != 2) throw new ArgumentException($"The input must be [positions, features], got [{string.Join(", ", input.shape)}].", nameof(input));
        if (!baseline.shape.SequenceEqual(input.shape))
            throw new ArgumentException($"The baseline has shape [{string.Join(", ", baseline.shape)}] but the input has [{string.Join(", ", input.shape)}].", nameof(baseline));
        var (alphas, weights) = IntegrationRule.Points(method, steps);
        var perPass = stepsPerPass ?? Math.Max(1, DefaultTokensPerPass / (int)Math.Max(1, input.shape[0]));
        if (perPass < 1) throw new ArgumentOutOfRangeException(nameof(stepsPerPass), stepsPerPass, "At least one step per pass.");

        using var outer = NewDisposeScope();
        var (inputLogits, baselineLogits) = Endpoints(forward, input, baseline);
        if (target < 0 || target >= inputLogits.Length)
            throw new ArgumentOutOfRangeException(nameof(target), target, $"The model has {inputLogits.Length} outputs (0..{inputLogits.Length - 1}).");

        using var grad = enable_grad();
        var x = input.detach();
        var x0 = baseline.detach();
        var difference = (x - x0).unsqueeze(0);
        // Σ wᵢ ∂F/∂x at αᵢ, accumulated in float64 so 50+ small terms add up without float32 rounding.
        var gradientSum = zeros(input.shape, ScalarType.Float64, input.device);
        var passes = 0;
        for (var start = 0; start < steps; start += perPass)
        {
            using var scope = NewDisposeScope();
            var count = Math.Min(perPass, steps - start);
            var alpha = tensor(alphas.AsSpan(start, count).ToArray(), ScalarType.Float32, input.device).view(count, 1, 1);
            var points = (x0.unsqueeze(0) + alpha.to(input.dtype) * difference).detach().requires_grad_(true);
            var outputs = forward(points);
            if (outputs.dim() != 2 || outputs.shape[0] != count)
                throw new InvalidOperationException($"The forward function returned [{string.Join(", ", outputs.shape)}] for {count} inputs; expected [{count}, outputs].");
            var objective = outputs.select(1, target).sum();
            var gradients = autograd.grad([objective], [points])[0];
            var weight = tensor(weights.AsSpan(start, count).ToArray(), ScalarType.Float64, input.device).view(count, 1, 1);
            // Named: a literal 0 would bind to sum(ScalarType) and sum everything as bytes.
            gradientSum.add_((gradients.to(ScalarType.Float64) * weight).sum(dim: 0));
            passes++;
        }
        var attributions = (difference.squeeze(0).to(ScalarType.Float64) * gradientSum).sum(-1).cpu().data<double>().ToArray();
        return new IntegratedGradientsResult(attributions, inputLogits, baselineLogits, target, steps, method, passes);
    }

    /// <summary>
    /// Gradient × input (Shrikumar et al., 2016; Captum's <c>InputXGradient</c>): xᵢ · ∂F(x)/∂xᵢ, summed over features.
    /// One backward pass; no completeness guarantee. The usual cheap baseline to compare attributions with.
    /// </summary>
    public static double[] GradientTimesInput(Func<Tensor, Tensor> forward, Tensor input, int target)
    {
        ArgumentNullException.ThrowIfNull(forward);
        if (input.dim() != 2) throw new ArgumentException($"The input must be [positions, features], got [{string.Join(", ", input.shape)}].", nameof(input));
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var x = input.detach().unsqueeze(0).requires_grad_(true);
        var output = forward(x);
        if (target < 0 || target >= output.shape[1])
            throw new ArgumentOutOfRangeException(nameof(target), target, $"The model has {output.shape[1]} outputs (0..{output.shape[1] - 1}).");
        var gradient = autograd.grad([output.select(1, target).sum()], [x])[0];
        return (x.detach() * gradient).squeeze(0).to(ScalarType.Float64).sum(-1).cpu().data<double>().ToArray();
    }

    /// <summary>
    /// Integrated Gradients of a BERT classifier's logit <paramref name="target"/> on its embedding output for one
    /// sequence of token ids, against the baseline sequence <paramref name="baselineIds"/> (same length; see
    /// <see cref="PadBaseline"/>). The model must be in evaluation mode (the pipeline sees to it).
    /// </summary>
    /// <param name="model">The classifier, in evaluation mode.</param>
    /// <param name="inputIds">One sequence's token ids.</param>
    /// <param name="baselineIds">The baseline's ids, same length.</param>
    /// <param name="target">The logit to explain.</param>
    /// <param name="attentionMask">1 for tokens the model may see, 0 for hidden ones; null: all visible.</param>
    /// <param name="tokenTypeIds">Segment ids, the same for input and baseline; null: all 0.</param>
    /// <param name="steps">Points on the path.</param>
    /// <param name="method">The quadrature.</param>
    /// <param name="stepsPerPass">Points per forward/backward pass (bounds memory).</param>
    public static IntegratedGradientsResult Attribute(SequenceClassificationModel model, long[] inputIds, long[] baselineIds, int target,
        long[]? attentionMask = null, long[]? tokenTypeIds = null, int steps = 50, IntegrationMethod method = IntegrationMethod.GaussLegendre, int? stepsPerPass = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckIds(inputIds, baselineIds, attentionMask);
        if (tokenTypeIds is not null && tokenTypeIds.Length != inputIds.Length)
            throw new ArgumentException($"The token type ids have {tokenTypeIds.Length} entries but the input has {inputIds.Length} tokens.", nameof(tokenTypeIds));
        using var scope = NewDisposeScope();
        var device = model.parameters().First().device;
        var (input, baseline) = EmbedPair(model, inputIds, baselineIds, tokenTypeIds, device);
        var mask = attentionMask is null ? null : tensor(attentionMask, device: device).unsqueeze(0);
        return Attribute(Forward(model, mask), input, baseline, target, steps, method, stepsPerPass);
    }

    /// <summary><see cref="GradientTimesInput(Func{Tensor, Tensor}, Tensor, int)"/> on a BERT classifier's embedding output.</summary>
    public static double[] GradientTimesInput(SequenceClassificationModel model, long[] inputIds, int target, long[]? attentionMask = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckIds(inputIds, inputIds, attentionMask);
        using var scope = NewDisposeScope();
        var device = model.parameters().First().device;
        Tensor input;
        using (no_grad())
            input = model.Embed(tensor(inputIds, device: device).unsqueeze(0)).squeeze(0);
        var mask = attentionMask is null ? null : tensor(attentionMask, device: device).unsqueeze(0);
        return GradientTimesInput(Forward(model, mask), input, target);
    }

    /// <summary>
    /// The baseline of Captum's BERT tutorial: the same sequence with every token but [CLS] and [SEP] replaced by [PAD],
    /// so position and token-type embeddings are the input's and only the words are taken away.
    /// </summary>
    public static long[] PadBaseline(IReadOnlyList<int> inputIds, int padTokenId, int clsTokenId, int sepTokenId) =>
        inputIds.Select(id => id == clsTokenId || id == sepTokenId ? id : (long)padTokenId).ToArray();

    private static Func<Tensor, Tensor> Forward(SequenceClassificationModel model, Tensor? mask) =>
        points => model.ForwardFromEmbeddings(points, mask?.expand(points.shape[0], -1));

    private static (Tensor Input, Tensor Baseline) EmbedPair(SequenceClassificationModel model, long[] inputIds, long[] baselineIds, long[]? tokenTypeIds, Device device)
    {
        using var noGrad = no_grad();
        using var ids = tensor(new[] { inputIds, baselineIds }.SelectMany(x => x).ToArray(), device: device).view(2, -1);
        using var types = tokenTypeIds is null ? null : tensor(tokenTypeIds, device: device).unsqueeze(0).expand(2, -1);
        var embeddings = model.Embed(ids, types);
        return (embeddings[0], embeddings[1]);
    }

    private static (float[] Input, float[] Baseline) Endpoints(Func<Tensor, Tensor> forward, Tensor input, Tensor baseline)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var logits = forward(stack([input, baseline])).to(ScalarType.Float32).cpu();
        return (logits[0].data<float>().ToArray(), logits[1].data<float>().ToArray());
    }

    private static void CheckIds(long[] inputIds, long[] baselineIds, long[]? attentionMask)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(baselineIds);
        if (inputIds.Length == 0) throw new ArgumentException("No token ids to explain.", nameof(inputIds));
        if (baselineIds.Length != inputIds.Length)
            throw new ArgumentException($"The baseline has {baselineIds.Length} tokens but the input has {inputIds.Length}.", nameof(baselineIds));
        if (attentionMask is not null && attentionMask.Length != inputIds.Length)
            throw new ArgumentException($"The attention mask has {attentionMask.Length} entries but the input has {inputIds.Length} tokens.", nameof(attentionMask));
    }
}
