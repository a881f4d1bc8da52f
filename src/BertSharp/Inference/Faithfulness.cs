using System.Diagnostics;

namespace BertSharp.Inference;

/// <summary>
/// One attribution method's deletion curve: for k = 1…K, the mean drop in the predicted label's probability when the
/// k words it ranks highest toward that label are deleted, and the AOPC (area over the perturbation curve, DeYoung et
/// al. 2020): the mean drop over k = 0…K, with no drop at k = 0.
/// </summary>
/// <param name="Method">"integrated_gradients", "gradient_x_input" or "random".</param>
/// <param name="ProbabilityDrop">[k − 1]: mean over the texts of p(label | text) − p(label | text without k words).</param>
/// <param name="Aopc">[k − 1]: AOPC up to k, (0 + drop₁ + … + drop_k) / (k + 1).</param>
public sealed record FaithfulnessCurve(string Method, IReadOnlyList<double> ProbabilityDrop, IReadOnlyList<double> Aopc);

/// <summary>What <see cref="Faithfulness.Run"/> measured.</summary>
/// <param name="Texts">Texts measured on.</param>
/// <param name="MaxWords">K: the curves run k = 1…K.</param>
/// <param name="Steps">Integrated Gradients steps.</param>
/// <param name="RandomDraws">Random deletion orders per text.</param>
/// <param name="MeanProbability">Mean probability of the predicted label before any deletion.</param>
/// <param name="Curves">Integrated Gradients, gradient × input and random, in that order.</param>
/// <param name="MeanRelativeDelta">Integrated Gradients' mean convergence delta as a share of |F(x) − F(x′)|.</param>
/// <param name="MaxRelativeDelta">The largest of those.</param>
/// <param name="SecondsPerExplanation">Mean wall time of one Integrated Gradients explanation.</param>
public sealed record FaithfulnessResult(
    int Texts,
    int MaxWords,
    int Steps,
    int RandomDraws,
    double MeanProbability,
    IReadOnlyList<FaithfulnessCurve> Curves,
    double MeanRelativeDelta,
    double MaxRelativeDelta,
    double SecondsPerExplanation);

/// <summary>
/// A deletion test of attributions: if a method ranks the words that made the model decide first, deleting its top-k
/// words must lower the predicted label's probability more than deleting k random words. Words are deleted as tokens
/// (all of a word's WordPiece tokens leave the input ids), so the model sees exactly the rest of what it saw before,
/// with nothing from beyond a truncation sliding in.
/// </summary>
public static class Faithfulness
{
    public const string IntegratedGradientsName = "integrated_gradients";
    public const string GradientTimesInputName = "gradient_x_input";
    public const string RandomName = "random";

    /// <param name="pipeline">The classifier; its forward lock is taken for each explanation and prediction.</param>
    /// <param name="texts">The texts (the predicted label of each is the one explained and watched).</param>
    /// <param name="maxWords">K: the curves run k = 1…K.</param>
    /// <param name="steps">Integrated Gradients steps.</param>
    /// <param name="randomDraws">Random deletion orders per text, averaged.</param>
    /// <param name="seed">Seed of the random deletion orders.</param>
    /// <param name="progress">Called after each text with (texts done, texts in all).</param>
    public static FaithfulnessResult Run(TextClassificationPipeline pipeline, IReadOnlyList<string> texts, int maxWords = 10, int steps = 50,
        int randomDraws = 5, int seed = 42, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0) throw new ArgumentException("No texts to measure on.", nameof(texts));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWords, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(randomDraws, 1);

        var names = new[] { IntegratedGradientsName, GradientTimesInputName, RandomName };
        var drops = names.ToDictionary(n => n, _ => new double[maxWords]);
        var random = new Random(seed);
        double probabilitySum = 0, deltaSum = 0, deltaMax = 0, seconds = 0;
        for (var t = 0; t < texts.Count; t++)
        {
            var clock = Stopwatch.StartNew();
            var ig = pipeline.Explain(texts[t], steps: steps);
            seconds += clock.Elapsed.TotalSeconds;
            var gxi = pipeline.Explain(texts[t], ig.Prediction.Label, method: AttributionMethod.GradientTimesInput);
            deltaSum += ig.RelativeDelta!.Value;
            deltaMax = Math.Max(deltaMax, ig.RelativeDelta!.Value);
            var label = ig.TargetLabelId;
            var before = ig.Prediction.Probabilities[label];
            probabilitySum += before;

            var orders = new List<(string Method, int[] Order)>
            {
                (IntegratedGradientsName, Ranking(ig)),
                (GradientTimesInputName, Ranking(gxi)),
            };
            for (var d = 0; d < randomDraws; d++)
            {
                var order = Enumerable.Range(0, ig.Words.Count).ToArray();
                random.Shuffle(order);
                orders.Add((RandomName, order));
            }
            var variants = new List<int[]>();
            foreach (var (_, order) in orders)
                for (var k = 1; k <= maxWords; k++)
                    variants.Add(WithoutWords(ig, order.Take(k)));
            var predictions = pipeline.PredictTokenIds(variants);
            for (var o = 0; o < orders.Count; o++)
            {
                var weight = orders[o].Method == RandomName ? 1.0 / randomDraws : 1.0;
                for (var k = 0; k < maxWords; k++)
                    drops[orders[o].Method][k] += weight * (before - predictions[o * maxWords + k].Probabilities[label]);
            }
            progress?.Invoke(t + 1, texts.Count);
        }

        var curves = names.Select(n =>
        {
            var mean = drops[n].Select(d => d / texts.Count).ToArray();
            var aopc = mean.Select((_, k) => mean.Take(k + 1).Sum() / (k + 2)).ToArray();
            return new FaithfulnessCurve(n, mean, aopc);
        }).ToList();
        return new FaithfulnessResult(texts.Count, maxWords, steps, randomDraws, probabilitySum / texts.Count, curves,
            deltaSum / texts.Count, deltaMax, seconds / texts.Count);
    }

    /// <summary>Word indices from the most to the least attributed toward the explained label.</summary>
    internal static int[] Ranking(Explanation explanation) =>
        Enumerable.Range(0, explanation.Words.Count).OrderByDescending(w => explanation.Words[w].Attribution).ThenBy(w => w).ToArray();

    /// <summary>The explained input ids without the tokens of the given words ([CLS] and [SEP] always stay).</summary>
    internal static int[] WithoutWords(Explanation explanation, IEnumerable<int> words)
    {
        var removed = words.ToHashSet();
        return explanation.Tokens.Where(t => t.Word is not { } w || !removed.Contains(w)).Select(t => t.TokenId).ToArray();
    }
}
