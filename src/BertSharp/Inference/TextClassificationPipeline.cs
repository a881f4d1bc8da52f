using BertSharp.Data;
using BertSharp.Modeling;
using BertSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace BertSharp.Inference;

/// <summary>One text's prediction: the winning label, its probability, and every class's probability and logit.</summary>
public sealed record Prediction(
    string Label,
    int LabelId,
    float Score,
    IReadOnlyList<float> Probabilities,
    IReadOnlyList<float> Logits,
    int TokenCount,
    bool Truncated);

/// <summary>
/// transformers' <c>pipeline("text-classification")</c>: tokenise, run <see cref="PredictionLoop"/> (length-sorted
/// batches, evaluation mode), then softmax. Forward passes are serialised with a lock, so one pipeline can be shared by
/// concurrent callers.
/// </summary>
public sealed class TextClassificationPipeline : IDisposable
{
    private readonly object _gate = new();
    private readonly bool _ownsModel;
    private readonly DataCollatorWithPadding _collator;

    public TextClassificationPipeline(SequenceClassificationModel model, BertTokenizer tokenizer, Device? device = null, int? maxLength = null, bool ownsModel = false)
    {
        TokenizerCompatibility.Ensure(tokenizer, model.Config, model.LoadingInfo?.Source ?? "the model");
        Model = model;
        Tokenizer = tokenizer;
        Device = device ?? CPU;
        MaxLength = ModelInputChecks.MaxLength(tokenizer, model.Config, maxLength);
        _ownsModel = ownsModel;
        _collator = new DataCollatorWithPadding(tokenizer.PadTokenId);
        Model.to(Device);
        Model.eval();
    }

    public SequenceClassificationModel Model { get; }
    public BertTokenizer Tokenizer { get; }
    public Device Device { get; }
    public int MaxLength { get; }

    public static TextClassificationPipeline FromPretrained(string modelIdOrPath, PretrainedOptions? options = null, int? maxLength = null)
    {
        options ??= new PretrainedOptions();
        var tokenizer = AutoTokenizer.FromPretrained(modelIdOrPath, options.Hub, options.DownloadProgress);
        var model = AutoModelForSequenceClassification.FromPretrained(modelIdOrPath, options: options);
        return new TextClassificationPipeline(model, tokenizer, options.Device, maxLength, ownsModel: true);
    }

    public Prediction Predict(string text) => Predict([text])[0];

    public IReadOnlyList<Prediction> Predict(IReadOnlyList<string> texts, int batchSize = 32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        for (var i = 0; i < texts.Count; i++)
            if (texts[i] is null) throw new ArgumentException($"Text {i} is null.");

        var examples = texts.Select(t => Tokenizer.Encode(t, maxLength: MaxLength)).Select(e => new TokenizedExample(e.InputIds, Truncated: e.Truncated)).ToList();
        PredictionLoopOutput output;
        // One forward pass at a time on a model that concurrent callers share.
        lock (_gate) output = PredictionLoop.Run(Model, examples, _collator, batchSize, Device);
        return examples.Select((e, i) => MakePrediction(output.Logits[i], e.InputIds.Length, e.Truncated)).ToList();
    }

    /// <summary>
    /// Explains the prediction for <paramref name="text"/>: how much each token and each word pushed the logit of
    /// <paramref name="targetLabel"/> (default: the predicted label) up or down. Integrated Gradients runs on the
    /// embedding output against the baseline [CLS] [PAD]… [SEP] (Captum's BERT recipe), <paramref name="steps"/> points
    /// on the path evaluated in batches of <paramref name="stepsPerPass"/>; the convergence delta says how well the
    /// steps integrated. The model is in evaluation mode throughout and its weights, gradients and mode are as before
    /// afterwards; the pipeline's forward lock is held, so no prediction runs at the same time.
    /// </summary>
    /// <param name="text">The text, truncated to <see cref="MaxLength"/> tokens as for prediction.</param>
    /// <param name="targetLabel">A label name from the model's <c>id2label</c>, or its id as a number.</param>
    /// <param name="steps">Integration points (ignored by gradient × input).</param>
    /// <param name="method">Integrated Gradients (default), or gradient × input as a cheap comparison.</param>
    /// <param name="integration">Gauss–Legendre (default) or the trapezoid rule.</param>
    /// <param name="stepsPerPass">Points per forward/backward pass; default <see cref="IntegratedGradients.DefaultTokensPerPass"/> / tokens.</param>
    /// <exception cref="ArgumentException">An unknown label or too few steps; the message names the value.</exception>
    public Explanation Explain(string text, string? targetLabel = null, int steps = 50, AttributionMethod method = AttributionMethod.IntegratedGradients,
        IntegrationMethod integration = IntegrationMethod.GaussLegendre, int? stepsPerPass = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (method == AttributionMethod.IntegratedGradients)
        {
            var least = integration == IntegrationMethod.RiemannTrapezoid ? 2 : 1;
            if (steps < least) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"Integrated Gradients with {integration} needs at least {least} step(s).");
        }
        if (stepsPerPass is < 1) throw new ArgumentOutOfRangeException(nameof(stepsPerPass), stepsPerPass, "At least one step per pass.");
        var requested = targetLabel is null ? (int?)null : LabelId(targetLabel);
        var encoding = Tokenizer.EncodeWithOffsets(text, MaxLength);
        var ids = encoding.Encoding.InputIds;
        var inputIds = ids.Select(i => (long)i).ToArray();

        lock (_gate)
        {
            var wasTraining = Model.training;
            Model.eval();
            try
            {
                var prediction = MakePrediction(Logits(inputIds), ids.Length, encoding.Encoding.Truncated);
                var target = requested ?? prediction.LabelId;
                double[] attributions;
                double targetLogit, baselineLogit;
                double? delta;
                if (method == AttributionMethod.IntegratedGradients)
                {
                    var baseline = IntegratedGradients.PadBaseline(ids, Tokenizer.PadTokenId, Tokenizer.ClsTokenId, Tokenizer.SepTokenId);
                    var result = IntegratedGradients.Attribute(Model, inputIds, baseline, target, steps: steps, method: integration, stepsPerPass: stepsPerPass);
                    (attributions, targetLogit, baselineLogit, delta) = (result.Attributions, result.InputLogits[target], result.BaselineLogits[target], result.ConvergenceDelta);
                }
                else
                {
                    attributions = IntegratedGradients.GradientTimesInput(Model, inputIds, target);
                    (targetLogit, baselineLogit, delta, steps) = (prediction.Logits[target], double.NaN, null, 1);
                }
                return BuildExplanation(text, encoding, prediction, target, attributions, targetLogit, baselineLogit, delta, method,
                    method == AttributionMethod.IntegratedGradients ? integration : null, steps);
            }
            finally
            {
                if (wasTraining) Model.train();
            }
        }
    }

    /// <summary>
    /// The last layer's attention from [CLS] to every token of <paramref name="text"/> (truncated as for prediction),
    /// per head, recomputed by <see cref="SequenceClassificationModel.LastLayerAttentions"/> in evaluation mode under the forward lock.
    /// </summary>
    public ClsAttention AttentionFromCls(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = Tokenizer.Encode(text, maxLength: MaxLength).InputIds;
        float[][] heads;
        lock (_gate)
        {
            var wasTraining = Model.training;
            Model.eval();
            try
            {
                using var noGrad = no_grad();
                using var scope = NewDisposeScope();
                var attention = Model.LastLayerAttentions(tensor(ids.Select(i => (long)i).ToArray(), device: Device).unsqueeze(0));
                var fromCls = attention[0, TensorIndex.Colon, 0].to(ScalarType.Float32).cpu();
                heads = Enumerable.Range(0, (int)fromCls.shape[0]).Select(h => fromCls[h].data<float>().ToArray()).ToArray();
            }
            finally
            {
                if (wasTraining) Model.train();
            }
        }
        return new ClsAttention(Tokenizer.ConvertIdsToTokens(ids), heads);
    }

    /// <summary>Predictions for already-tokenized inputs (with [CLS] and [SEP]), under the forward lock.</summary>
    internal IReadOnlyList<Prediction> PredictTokenIds(IReadOnlyList<int[]> inputIds, int batchSize = 32)
    {
        var examples = inputIds.Select(ids => new TokenizedExample(ids)).ToList();
        PredictionLoopOutput output;
        lock (_gate) output = PredictionLoop.Run(Model, examples, _collator, batchSize, Device);
        return examples.Select((e, i) => MakePrediction(output.Logits[i], e.InputIds.Length, false)).ToList();
    }

    /// <summary>The id of a label given by name (<c>id2label</c>) or by number.</summary>
    public int LabelId(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        foreach (var (id, name) in Model.Config.Id2Label)
            if (name == label) return id;
        if (int.TryParse(label, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) && number < Model.Config.NumLabels)
            return number;
        throw new ArgumentException($"Unknown label '{label}'; the model's labels are {string.Join(", ", Enumerable.Range(0, Model.Config.NumLabels).Select(i => Model.Config.Id2Label.TryGetValue(i, out var n) ? n : i.ToString()))}.", nameof(label));
    }

    private float[] Logits(long[] inputIds)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var ids = tensor(inputIds, device: Device).unsqueeze(0);
        return Model.forward(ids).to(ScalarType.Float32).cpu().data<float>().ToArray();
    }

    private Explanation BuildExplanation(string text, EncodingWithOffsets encoding, Prediction prediction, int target, double[] attributions,
        double targetLogit, double baselineLogit, double? delta, AttributionMethod method, IntegrationMethod? integration, int steps)
    {
        var ids = encoding.Encoding.InputIds;
        var names = Tokenizer.ConvertIdsToTokens(ids);
        var tokens = new TokenAttribution[ids.Length];
        for (var i = 0; i < ids.Length; i++)
            tokens[i] = new TokenAttribution(names[i], ids[i], encoding.Offsets[i].Start, encoding.Offsets[i].End, encoding.WordIds[i], attributions[i]);
        var words = new List<WordAttribution>(encoding.Words.Count);
        for (var w = 0; w < encoding.Words.Count; w++)
        {
            var first = Array.FindIndex(tokens, t => t.Word == w);
            var count = tokens.Count(t => t.Word == w);
            var span = encoding.Words[w];
            words.Add(new WordAttribution(text[span.Start..span.End], span.Start, span.End, tokens.Skip(first).Take(count).Sum(t => t.Attribution), first, count));
        }
        var label = Model.Config.Id2Label.TryGetValue(target, out var name) ? name : $"LABEL_{target}";
        return new Explanation(text, prediction, label, target, tokens, words, targetLogit, baselineLogit, delta, method, integration, steps, encoding.Encoding.Truncated);
    }

    private Prediction MakePrediction(float[] logits, int tokens, bool truncated)
    {
        // As transformers' pipeline: independent sigmoids when labels are not mutually exclusive (multi-label, or a
        // single output), a softmax over the labels otherwise.
        var independent = Model.Config.NumLabels == 1 || Model.Config.ProblemType == "multi_label_classification";
        var probabilities = independent ? logits.Select(l => (float)(1 / (1 + Math.Exp(-l)))).ToArray() : Softmax(logits);
        var best = Array.IndexOf(probabilities, probabilities.Max());
        return new Prediction(Model.Config.Id2Label[best], best, probabilities[best], probabilities, logits, tokens, truncated);
    }

    private static float[] Softmax(float[] logits)
    {
        var max = logits.Max();
        var exp = logits.Select(l => Math.Exp(l - max)).ToArray();
        var sum = exp.Sum();
        return exp.Select(e => (float)(e / sum)).ToArray();
    }

    public void Dispose()
    {
        if (_ownsModel) Model.Dispose();
    }
}
