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
