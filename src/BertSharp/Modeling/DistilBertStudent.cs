using TorchSharp;
using static TorchSharp.torch;

namespace BertSharp.Modeling;

/// <summary>
/// A DistilBERT initialised from a BERT, the way DistilBERT's authors started their student (Sanh et al., 2019, §3):
/// the teacher's width, and one layer out of two, copied weight for weight. Each BERT piece has a DistilBERT twin of the
/// same maths (query/key/value/output → q/k/v/out_lin, the two LayerNorms → sa_layer_norm and output_layer_norm, the
/// feed-forward pair → ffn.lin1/lin2); BERT's token-type embeddings have none, so segment 0's — the only segment a
/// single text uses — is folded into the word embeddings. The pooler is dropped and the classification head starts new.
/// With every layer kept, the student's hidden states equal the teacher's. It is an initialisation, not a distillation:
/// fine-tuning then trains it like any DistilBERT.
/// </summary>
public static class DistilBertStudent
{
    /// <summary>The teacher layers a student of half the depth keeps: 0, 2, 4, … (one layer out of two).</summary>
    public static IReadOnlyList<int> EveryOtherLayer(int teacherLayers) =>
        Enumerable.Range(0, (teacherLayers + 1) / 2).Select(i => 2 * i).ToArray();

    /// <param name="teacher">The BERT to start from (its classifier, if trained, is not used).</param>
    /// <param name="layers">The teacher's layers to keep, in order; default <see cref="EveryOtherLayer"/>.</param>
    public static DistilBertForSequenceClassification FromBert(BertForSequenceClassification teacher, IReadOnlyList<int>? layers = null)
    {
        var t = teacher.Config;
        layers ??= EveryOtherLayer(t.NumHiddenLayers);
        if (layers.Count == 0 || layers.Any(l => l < 0 || l >= t.NumHiddenLayers))
            throw new ArgumentException($"The student's layers must be among the teacher's 0 to {t.NumHiddenLayers - 1}, got [{string.Join(", ", layers)}].");
        // DistilBERT's LayerNorm eps is fixed at 1e-12 in transformers' code: another eps would give another network.
        if (t.LayerNormEps != 1e-12)
            throw new ArgumentException($"The teacher's layer_norm_eps is {t.LayerNormEps}; DistilBERT's is fixed at 1e-12, so the student would compute something else.");
        if (t.PositionEmbeddingType != "absolute")
            throw new ArgumentException($"The teacher's position_embedding_type is '{t.PositionEmbeddingType}'; DistilBERT has absolute positions only.");
        var config = new DistilBertConfig
        {
            VocabSize = t.VocabSize, MaxPositionEmbeddings = t.MaxPositionEmbeddings, Dim = t.HiddenSize, NLayers = layers.Count,
            NHeads = t.NumAttentionHeads, HiddenDim = t.IntermediateSize, Activation = t.HiddenAct, Dropout = t.HiddenDropoutProb,
            AttentionDropout = t.AttentionProbsDropoutProb, InitializerRange = t.InitializerRange, PadTokenId = t.PadTokenId,
            ProblemType = t.ProblemType,
        };
        config.Id2Label = t.Id2Label;
        config.Validate("the student's config");

        var student = new DistilBertForSequenceClassification(config);
        var from = teacher.state_dict();
        var to = student.state_dict();
        void Copy(string target, Tensor source) => to[target].copy_(source);
        using (no_grad())
        {
            using var words = from["bert.embeddings.word_embeddings.weight"] + from["bert.embeddings.token_type_embeddings.weight"][0];
            Copy("distilbert.embeddings.word_embeddings.weight", words);
            Copy("distilbert.embeddings.position_embeddings.weight", from["bert.embeddings.position_embeddings.weight"]);
            foreach (var p in new[] { "weight", "bias" })
                Copy($"distilbert.embeddings.LayerNorm.{p}", from[$"bert.embeddings.LayerNorm.{p}"]);
            for (var i = 0; i < layers.Count; i++)
            {
                var (s, b) = ($"distilbert.transformer.layer.{i}.", $"bert.encoder.layer.{layers[i]}.");
                foreach (var p in new[] { "weight", "bias" })
                {
                    Copy($"{s}attention.q_lin.{p}", from[$"{b}attention.self.query.{p}"]);
                    Copy($"{s}attention.k_lin.{p}", from[$"{b}attention.self.key.{p}"]);
                    Copy($"{s}attention.v_lin.{p}", from[$"{b}attention.self.value.{p}"]);
                    Copy($"{s}attention.out_lin.{p}", from[$"{b}attention.output.dense.{p}"]);
                    Copy($"{s}sa_layer_norm.{p}", from[$"{b}attention.output.LayerNorm.{p}"]);
                    Copy($"{s}ffn.lin1.{p}", from[$"{b}intermediate.dense.{p}"]);
                    Copy($"{s}ffn.lin2.{p}", from[$"{b}output.dense.{p}"]);
                    Copy($"{s}output_layer_norm.{p}", from[$"{b}output.LayerNorm.{p}"]);
                }
            }
        }
        student.LoadingInfo = new LoadingInfo($"{teacher.LoadingInfo?.Source ?? "a BERT"} (layers {string.Join(", ", layers)})",
            nameof(DistilBertForSequenceClassification),
            ["classifier.bias", "classifier.weight", "pre_classifier.bias", "pre_classifier.weight"], [], [], []);
        return student;
    }
}
