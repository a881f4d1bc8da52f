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
/// transformers' <c>pipeline("text-classification")</c>: tokenise, batch, run the model in evaluation mode, softmax.
/// Forward passes are serialised with a lock, so one pipeline can be shared by concurrent callers.
/// </summary>
public sealed class TextClassificationPipeline : IDisposable
{
    private readonly object _gate = new();
    private readonly bool _ownsModel;

    public TextClassificationPipeline(BertForSequenceClassification model, BertTokenizer tokenizer, Device? device = null, int? maxLength = null, bool ownsModel = false)
    {
        Model = model;
        Tokenizer = tokenizer;
        Device = device ?? CPU;
        MaxLength = Math.Min(maxLength ?? tokenizer.ModelMaxLength, model.Config.MaxPositionEmbeddings);
        _ownsModel = ownsModel;
        Model.to(Device);
        Model.eval();
    }

    public BertForSequenceClassification Model { get; }
    public BertTokenizer Tokenizer { get; }
    public Device Device { get; }
    public int MaxLength { get; }

    public static TextClassificationPipeline FromPretrained(string modelIdOrPath, PretrainedOptions? options = null, int? maxLength = null)
    {
        options ??= new PretrainedOptions();
        var tokenizer = AutoTokenizer.FromPretrained(modelIdOrPath, options.Hub, options.DownloadProgress);
        var model = BertForSequenceClassification.FromPretrained(modelIdOrPath, options: options);
        return new TextClassificationPipeline(model, tokenizer, options.Device, maxLength, ownsModel: true);
    }

    public Prediction Predict(string text) => Predict([text])[0];

    public IReadOnlyList<Prediction> Predict(IReadOnlyList<string> texts, int batchSize = 32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        for (var i = 0; i < texts.Count; i++)
            if (texts[i] is null) throw new ArgumentException($"Text {i} is null.", nameof(texts));

        var results = new Prediction[texts.Count];
        // Similar lengths in one batch waste less compute on padding; results go back in the caller's order.
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].Length).ToArray();
        foreach (var chunk in order.Chunk(batchSize))
        {
            var batch = Tokenizer.EncodeBatch(chunk.Select(i => texts[i]).ToList(), PaddingStrategy.Longest, MaxLength);
            float[] logits;
            lock (_gate)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var shape = new long[] { batch.Count, batch.SequenceLength };
                var output = Model.forward(
                    tensor(batch.InputIds, shape, device: Device),
                    tensor(batch.AttentionMask, shape, device: Device),
                    tensor(batch.TokenTypeIds, shape, device: Device));
                logits = output.to(ScalarType.Float32).cpu().data<float>().ToArray();
            }
            var labels = Model.Config.NumLabels;
            for (var row = 0; row < chunk.Length; row++)
            {
                var rowLogits = logits.AsSpan(row * labels, labels).ToArray();
                results[chunk[row]] = MakePrediction(rowLogits, batch.Lengths[row], batch.Truncated[row]);
            }
        }
        return results;
    }

    private Prediction MakePrediction(float[] logits, int tokens, bool truncated)
    {
        var probabilities = Softmax(logits);
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
