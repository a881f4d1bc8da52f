namespace BertSharp.Inference;

/// <summary>How <see cref="TextClassificationPipeline.Explain"/> attributes a prediction to tokens.</summary>
public enum AttributionMethod
{
    /// <summary>Integrated Gradients on the embedding output against the [PAD] baseline: complete, the default.</summary>
    IntegratedGradients,

    /// <summary>Gradient × input on the embedding output: one backward pass, no completeness; a baseline to compare with.</summary>
    GradientTimesInput,
}

/// <summary>One token's share of the explained logit.</summary>
/// <param name="Token">The vocabulary entry ("##ing" for a continuation piece, "[CLS]", "[SEP]").</param>
/// <param name="TokenId">Its id: the input ids in order.</param>
/// <param name="Start">Start of its characters in the original text (0 for [CLS] and [SEP], which have none).</param>
/// <param name="End">End (exclusive) of its characters in the original text (0 for [CLS] and [SEP]).</param>
/// <param name="Word">Index into <see cref="Explanation.Words"/>; null for [CLS] and [SEP].</param>
/// <param name="Attribution">Positive: pushed the target label's logit up; negative: down.</param>
public sealed record TokenAttribution(string Token, int TokenId, int Start, int End, int? Word, double Attribution);

/// <summary>One word's share: the sum of its WordPiece tokens' attributions.</summary>
/// <param name="Word">The word as written in the original text, <c>text[Start..End]</c>, accents and case kept.</param>
/// <param name="Start">Its first character in the original text (UTF-16 code units, as .NET and JavaScript index strings).</param>
/// <param name="End">One past its last character.</param>
/// <param name="Attribution">The sum of its tokens' attributions.</param>
/// <param name="FirstToken">Index of its first token in <see cref="Explanation.Tokens"/>.</param>
/// <param name="TokenCount">How many tokens it has (fewer than its pieces when truncation cut it).</param>
public sealed record WordAttribution(string Word, int Start, int End, double Attribution, int FirstToken, int TokenCount);

/// <summary>
/// Why the model gave a text its label: an attribution per token and per word, with the numbers that check them.
/// For Integrated Gradients the token attributions add up to <see cref="TargetLogit"/> − <see cref="BaselineLogit"/>
/// up to <see cref="ConvergenceDelta"/>.
/// </summary>
/// <param name="Text">The text as given.</param>
/// <param name="Prediction">The pipeline's prediction for the text (the same as <see cref="TextClassificationPipeline.Predict(string)"/>).</param>
/// <param name="TargetLabel">The label whose logit is explained: the predicted one unless another was asked for.</param>
/// <param name="TargetLabelId">Its id.</param>
/// <param name="Tokens">Every token with [CLS] and [SEP] (which get 0: the baseline keeps them).</param>
/// <param name="Words">The words, WordPiece tokens merged back.</param>
/// <param name="TargetLogit">F(x): the target logit for the text.</param>
/// <param name="BaselineLogit">F(x′): the target logit for the baseline ([CLS], [PAD]…, [SEP]); NaN for gradient × input, which has none.</param>
/// <param name="ConvergenceDelta">|Σ attributions − (F(x) − F(x′))|; null for gradient × input.</param>
/// <param name="Method">Integrated Gradients or gradient × input.</param>
/// <param name="Integration">The quadrature of Integrated Gradients; null for gradient × input.</param>
/// <param name="Steps">Points on the integration path (1 for gradient × input).</param>
/// <param name="Truncated">Whether the text was cut at the pipeline's maximum length: words after the cut have no attribution.</param>
public sealed record Explanation(
    string Text,
    Prediction Prediction,
    string TargetLabel,
    int TargetLabelId,
    IReadOnlyList<TokenAttribution> Tokens,
    IReadOnlyList<WordAttribution> Words,
    double TargetLogit,
    double BaselineLogit,
    double? ConvergenceDelta,
    AttributionMethod Method,
    IntegrationMethod? Integration,
    int Steps,
    bool Truncated)
{
    /// <summary>Σ of the token attributions.</summary>
    public double AttributionSum => Tokens.Sum(t => t.Attribution);

    /// <summary>The convergence delta as a share of |F(x) − F(x′)| (null for gradient × input).</summary>
    public double? RelativeDelta => ConvergenceDelta is { } delta ? delta / Math.Max(Math.Abs(TargetLogit - BaselineLogit), 1e-12) : null;

    /// <summary>The <paramref name="count"/> words with the largest attributions toward the target label, largest first.</summary>
    public IReadOnlyList<WordAttribution> TopWords(int count) =>
        Words.OrderByDescending(w => w.Attribution).ThenBy(w => w.Start).Take(count).ToList();
}

/// <summary>
/// The last layer's attention from [CLS] for one text: <see cref="Heads"/>[h][t] is how much head h's [CLS] query
/// weighs token t (each head's row sums to 1). Attention weights say where information was read from, not how much it
/// mattered to the decision; compare them with an <see cref="Explanation"/>, do not read them as one.
/// </summary>
public sealed record ClsAttention(IReadOnlyList<string> Tokens, IReadOnlyList<IReadOnlyList<float>> Heads);
