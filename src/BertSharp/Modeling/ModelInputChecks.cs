using BertSharp.Data;
using BertSharp.Tokenization;

namespace BertSharp.Modeling;

/// <summary>
/// Checks that a tokenized dataset fits a model before any forward pass runs, so a mismatch is one clear error up front
/// rather than a failure deep inside training or evaluation after work was done.
/// </summary>
public static class ModelInputChecks
{
    /// <summary>
    /// The truncation length for a model: <paramref name="requested"/> or the tokenizer's <c>model_max_length</c>, and never
    /// more than the model's positions (<c>max_position_embeddings</c>), which it cannot read past.
    /// </summary>
    public static int MaxLength(BertTokenizer tokenizer, PretrainedConfig config, int? requested = null) =>
        Math.Min(requested ?? tokenizer.ModelMaxLength, config.MaxPositionEmbeddings);

    public static void EnsureFits(SequenceClassificationModel model, TokenizedDataset dataset)
    {
        var config = model.Config;
        var longest = dataset.Count == 0 ? 0 : dataset.Lengths.Max();
        if (longest > config.MaxPositionEmbeddings)
            throw new InvalidDataException(
                $"{dataset.Source}: an example has {longest} tokens but the model has only {config.MaxPositionEmbeddings} positions " +
                $"(max_position_embeddings); tokenize with maxLength: {config.MaxPositionEmbeddings} or less.");
        var tooLarge = dataset.LabelCounts().Keys.Where(l => l >= config.NumLabels).ToList();
        if (tooLarge.Count > 0)
            throw new InvalidDataException(
                $"{dataset.Source}: labels [{string.Join(", ", tooLarge)}] are outside the model's {config.NumLabels} classes " +
                $"({string.Join(", ", config.Id2Label.Values)}); load the model with numLabels: {dataset.NumLabels}.");
    }

    /// <summary>
    /// A classifier trained on examples of one class learns to answer that class whatever the input, and would still
    /// report a falling loss: refuse it, naming the class, rather than save such a model as "trained".
    /// </summary>
    public static void EnsureSeveralClasses(SequenceClassificationModel model, TokenizedDataset dataset)
    {
        if (model.Config.NumLabels < 2 || model.Config.ProblemType is "regression" or "multi_label_classification") return;
        var counts = dataset.LabelCounts();
        if (counts.Count == 1)
        {
            var only = counts.Keys.Single();
            var name = model.Config.Id2Label.TryGetValue(only, out var n) ? $" ({n})" : "";
            throw new InvalidDataException(
                $"{dataset.Source}: all {dataset.Count} training examples have label {only}{name}; a classifier needs examples of at least two of its {model.Config.NumLabels} classes.");
        }
    }
}
