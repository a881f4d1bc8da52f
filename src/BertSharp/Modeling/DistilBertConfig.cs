using System.Text.Json.Nodes;

namespace BertSharp.Modeling;

/// <summary>
/// The hyper-parameters of a DistilBERT model under the Hub's own field names (<c>dim</c>, <c>n_layers</c>,
/// <c>n_heads</c>, <c>hidden_dim</c>, …), so <c>distilbert-base-uncased</c>'s config.json reads as it is and a saved
/// folder loads in Python. Defaults are transformers' <c>DistilBertConfig</c> defaults (distilbert-base's shape).
/// </summary>
public sealed class DistilBertConfig : PretrainedConfig
{
    public override int VocabSize { get; set; } = 30522;
    public override int MaxPositionEmbeddings { get; set; } = 512;

    /// <summary>
    /// Initialise new position embeddings with transformers' sinusoidal table instead of N(0, initializer_range). As in
    /// transformers 5 it only changes the initial values: a checkpoint's position embeddings still load over them, and
    /// they are trained like any weight.
    /// </summary>
    public bool SinusoidalPosEmbds { get; set; }

    /// <summary>Transformer blocks (BERT's num_hidden_layers).</summary>
    public int NLayers { get; set; } = 6;

    /// <summary>Attention heads (BERT's num_attention_heads).</summary>
    public int NHeads { get; set; } = 12;

    /// <summary>Hidden size (BERT's hidden_size).</summary>
    public int Dim { get; set; } = 768;

    /// <summary>Width of the feed-forward layer (BERT's intermediate_size).</summary>
    public int HiddenDim { get; set; } = 4 * 768;

    /// <summary>Dropout after the embeddings and the feed-forward network (BERT's hidden_dropout_prob).</summary>
    public double Dropout { get; set; } = 0.1;

    public double AttentionDropout { get; set; } = 0.1;

    /// <summary>The feed-forward activation, an ACT2FN name ("gelu" is the exact erf form).</summary>
    public string Activation { get; set; } = "gelu";

    public double InitializerRange { get; set; } = 0.02;

    /// <summary>Dropout of the question-answering head; BertSharp has none, the value is kept for the round trip.</summary>
    public double QaDropout { get; set; } = 0.1;

    /// <summary>Dropout between pre_classifier and classifier in the sequence-classification head.</summary>
    public double SeqClassifDropout { get; set; } = 0.2;

    /// <summary>
    /// The legacy <c>tie_weights_</c> key of the Hub's DistilBERT configs (the masked-LM head's projection shares the word
    /// embeddings). The classifier has no such head; the value is kept so a saved config reads as the original.
    /// </summary>
    public bool TieWeights { get; set; } = true;

    public override string ModelType => "distilbert";

    public override double ParameterCount(bool withClassifier = false)
    {
        double d = Dim, h = HiddenDim;
        var embeddings = ((double)VocabSize + MaxPositionEmbeddings) * d + 2 * d;
        // q, k, v and out projections (4 d² + 4 d), lin1 and lin2 (2 h d + h + d), sa_layer_norm and output_layer_norm (4 d).
        var layer = 4 * d * d + 2 * h * d + 9 * d + h;
        // pre_classifier (d² + d) and classifier.
        var head = withClassifier ? d * d + d + d * NumLabels + NumLabels : 0;
        return embeddings + NLayers * layer + head;
    }

    public override string SizeSummary() =>
        $"vocab_size = {VocabSize}, dim = {Dim}, n_layers = {NLayers}, hidden_dim = {HiddenDim}, max_position_embeddings = {MaxPositionEmbeddings}";

    public override IReadOnlyList<ExpectedWeight> ExpectedWeights() =>
    [
        new("embeddings.word_embeddings.weight", [("vocab_size", VocabSize), ("dim", Dim)]),
        new("embeddings.position_embeddings.weight", [("max_position_embeddings", MaxPositionEmbeddings), ("dim", Dim)]),
        new("transformer.layer.0.ffn.lin1.weight", [("hidden_dim", HiddenDim), ("dim", Dim)]),
    ];

    public override ExpectedLayers ExpectedLayers() => new("transformer.layer.", "n_layers", NLayers);

    public new DistilBertConfig Clone() => (DistilBertConfig)base.Clone();

    protected override void ValidateFields(string source)
    {
        void Positive(int value, string field)
        {
            if (value <= 0) throw new InvalidDataException($"{source}: '{field}' must be positive, got {value}.");
        }
        Positive(VocabSize, "vocab_size");
        Positive(MaxPositionEmbeddings, "max_position_embeddings");
        Positive(NLayers, "n_layers");
        Positive(NHeads, "n_heads");
        Positive(Dim, "dim");
        Positive(HiddenDim, "hidden_dim");
        if (Dim % NHeads != 0)
            throw new InvalidDataException($"{source}: 'dim' ({Dim}) must be a multiple of 'n_heads' ({NHeads}).");
        foreach (var (field, p) in new[] { ("dropout", Dropout), ("attention_dropout", AttentionDropout), ("qa_dropout", QaDropout), ("seq_classif_dropout", SeqClassifDropout) })
            if (!(p >= 0 && p < 1)) throw new InvalidDataException($"{source}: '{field}' must be in [0, 1), got {p}.");
        if (!(InitializerRange > 0)) throw new InvalidDataException($"{source}: 'initializer_range' must be positive, got {InitializerRange}.");
        if (PadTokenId < 0 || PadTokenId >= VocabSize)
            throw new InvalidDataException($"{source}: 'pad_token_id' ({PadTokenId}) must be in [0, vocab_size = {VocabSize}).");
        _ = Activations.Get(Activation, source, "activation");
    }

    public static DistilBertConfig FromFile(string path) => FromJson(ReadFile(path), path);

    public static DistilBertConfig FromJson(string json, string source = FileName) =>
        FromJsonObject<DistilBertConfig>(ParseObject(json, source), source);

    protected override void ReadFields(ConfigReader reader)
    {
        VocabSize = reader.Int("vocab_size", VocabSize);
        SinusoidalPosEmbds = reader.Bool("sinusoidal_pos_embds", SinusoidalPosEmbds);
        NLayers = reader.Int("n_layers", NLayers);
        NHeads = reader.Int("n_heads", NHeads);
        Dim = reader.Int("dim", Dim);
        HiddenDim = reader.Int("hidden_dim", HiddenDim);
        Dropout = reader.Double("dropout", Dropout);
        AttentionDropout = reader.Double("attention_dropout", AttentionDropout);
        Activation = reader.String("activation") ?? Activation;
        InitializerRange = reader.Double("initializer_range", InitializerRange);
        QaDropout = reader.Double("qa_dropout", QaDropout);
        SeqClassifDropout = reader.Double("seq_classif_dropout", SeqClassifDropout);
        TieWeights = reader.Bool("tie_weights_", TieWeights);
    }

    protected override void WriteFields(JsonObject json)
    {
        json["activation"] = Activation;
        json["attention_dropout"] = AttentionDropout;
        json["dim"] = Dim;
        json["dropout"] = Dropout;
        json["hidden_dim"] = HiddenDim;
        json["initializer_range"] = InitializerRange;
        json["n_heads"] = NHeads;
        json["n_layers"] = NLayers;
        json["qa_dropout"] = QaDropout;
        json["seq_classif_dropout"] = SeqClassifDropout;
        json["sinusoidal_pos_embds"] = SinusoidalPosEmbds;
        json["tie_weights_"] = TieWeights;
        json["vocab_size"] = VocabSize;
    }
}
