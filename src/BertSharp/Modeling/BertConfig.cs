using System.Text.Json.Nodes;

namespace BertSharp.Modeling;

/// <summary>
/// The hyper-parameters of a BERT model, read from and written to Hugging Face's <c>config.json</c> with the same
/// field names, so a folder saved here loads in Python <c>transformers</c> and the other way round.
/// Fields this class does not model (e.g. <c>transformers_version</c>, <c>tie_word_embeddings</c>) are kept and
/// written back unchanged.
/// </summary>
public sealed class BertConfig : PretrainedConfig
{
    public override int VocabSize { get; set; } = 30522;
    public int HiddenSize { get; set; } = 768;
    public int NumHiddenLayers { get; set; } = 12;
    public int NumAttentionHeads { get; set; } = 12;
    public int IntermediateSize { get; set; } = 3072;
    public string HiddenAct { get; set; } = "gelu";
    public double HiddenDropoutProb { get; set; } = 0.1;
    public double AttentionProbsDropoutProb { get; set; } = 0.1;
    public override int MaxPositionEmbeddings { get; set; } = 512;
    public int TypeVocabSize { get; set; } = 2;
    public double InitializerRange { get; set; } = 0.02;
    public double LayerNormEps { get; set; } = 1e-12;
    /// <summary>Dropout before the classifier; null falls back to <see cref="HiddenDropoutProb"/> as in transformers.</summary>
    public double? ClassifierDropout { get; set; }
    public string PositionEmbeddingType { get; set; } = "absolute";
    public override string ModelType => "bert";


    public double EffectiveClassifierDropout => ClassifierDropout ?? HiddenDropoutProb;

    /// <summary>
    /// The encoder's parameter count (with the pooler, and a classifier of <see cref="PretrainedConfig.NumLabels"/> when
    /// asked), computed from the sizes alone, so an absurd config is caught before anything is allocated. A double: 10^6
    /// layers of hidden size 10^9 overflow a long.
    /// </summary>
    public double ParameterCount(bool addPoolingLayer, bool withClassifier)
    {
        double h = HiddenSize, i = IntermediateSize;
        var embeddings = ((double)VocabSize + MaxPositionEmbeddings + TypeVocabSize) * h + 2 * h;
        // Query, key, value and output projections (4 h² + 4 h), the feed-forward pair (2 i h + i + h), two LayerNorms (4 h).
        var layer = 4 * h * h + 2 * i * h + 9 * h + i;
        var pooler = addPoolingLayer ? h * h + h : 0;
        var classifier = withClassifier ? h * NumLabels + NumLabels : 0;
        return embeddings + NumHiddenLayers * layer + pooler + classifier;
    }

    public override double ParameterCount(bool withClassifier = false) => ParameterCount(addPoolingLayer: true, withClassifier);

    public override string SizeSummary() =>
        $"vocab_size = {VocabSize}, hidden_size = {HiddenSize}, num_hidden_layers = {NumHiddenLayers}, intermediate_size = {IntermediateSize}, " +
        $"max_position_embeddings = {MaxPositionEmbeddings}, type_vocab_size = {TypeVocabSize}";

    public override IReadOnlyList<ExpectedWeight> ExpectedWeights() =>
    [
        new("embeddings.word_embeddings.weight", [("vocab_size", VocabSize), ("hidden_size", HiddenSize)]),
        new("embeddings.position_embeddings.weight", [("max_position_embeddings", MaxPositionEmbeddings), ("hidden_size", HiddenSize)]),
        new("embeddings.token_type_embeddings.weight", [("type_vocab_size", TypeVocabSize), ("hidden_size", HiddenSize)]),
        new("encoder.layer.0.intermediate.dense.weight", [("intermediate_size", IntermediateSize), ("hidden_size", HiddenSize)]),
    ];

    public override ExpectedLayers ExpectedLayers() => new("encoder.layer.", "num_hidden_layers", NumHiddenLayers);

    public new BertConfig Clone() => (BertConfig)base.Clone();

    protected override void ValidateFields(string source)
    {
        void Positive(int value, string field)
        {
            if (value <= 0) throw new InvalidDataException($"{source}: '{field}' must be positive, got {value}.");
        }
        Positive(VocabSize, "vocab_size");
        Positive(HiddenSize, "hidden_size");
        Positive(NumHiddenLayers, "num_hidden_layers");
        Positive(NumAttentionHeads, "num_attention_heads");
        Positive(IntermediateSize, "intermediate_size");
        Positive(MaxPositionEmbeddings, "max_position_embeddings");
        Positive(TypeVocabSize, "type_vocab_size");
        if (HiddenSize % NumAttentionHeads != 0)
            throw new InvalidDataException(
                $"{source}: 'hidden_size' ({HiddenSize}) must be a multiple of 'num_attention_heads' ({NumAttentionHeads}).");
        foreach (var (field, p) in new[] { ("hidden_dropout_prob", HiddenDropoutProb), ("attention_probs_dropout_prob", AttentionProbsDropoutProb), ("classifier_dropout", EffectiveClassifierDropout) })
            if (!(p >= 0 && p < 1)) throw new InvalidDataException($"{source}: '{field}' must be in [0, 1), got {p}.");
        if (!(LayerNormEps > 0)) throw new InvalidDataException($"{source}: 'layer_norm_eps' must be positive, got {LayerNormEps}.");
        if (!(InitializerRange > 0)) throw new InvalidDataException($"{source}: 'initializer_range' must be positive, got {InitializerRange}.");
        if (PadTokenId < 0 || PadTokenId >= VocabSize)
            throw new InvalidDataException($"{source}: 'pad_token_id' ({PadTokenId}) must be in [0, vocab_size = {VocabSize}).");
        _ = Activations.Get(HiddenAct, source);
        if (PositionEmbeddingType != "absolute")
            throw new InvalidDataException(
                $"{source}: 'position_embedding_type' = '{PositionEmbeddingType}' is not supported; only 'absolute' (BERT's) is.");
    }

    public static BertConfig FromFile(string path) => FromJson(ReadFile(path), path);

    public static BertConfig FromJson(string json, string source = FileName) =>
        FromJsonObject<BertConfig>(ParseObject(json, source), source);

    protected override void ReadFields(ConfigReader reader)
    {
        VocabSize = reader.Int("vocab_size", VocabSize);
        HiddenSize = reader.Int("hidden_size", HiddenSize);
        NumHiddenLayers = reader.Int("num_hidden_layers", NumHiddenLayers);
        NumAttentionHeads = reader.Int("num_attention_heads", NumAttentionHeads);
        IntermediateSize = reader.Int("intermediate_size", IntermediateSize);
        HiddenDropoutProb = reader.Double("hidden_dropout_prob", HiddenDropoutProb);
        AttentionProbsDropoutProb = reader.Double("attention_probs_dropout_prob", AttentionProbsDropoutProb);
        TypeVocabSize = reader.Int("type_vocab_size", TypeVocabSize);
        InitializerRange = reader.Double("initializer_range", InitializerRange);
        LayerNormEps = reader.Double("layer_norm_eps", LayerNormEps);
        HiddenAct = reader.String("hidden_act") ?? HiddenAct;
        ClassifierDropout = reader.NullableDouble("classifier_dropout");
        PositionEmbeddingType = reader.String("position_embedding_type") ?? PositionEmbeddingType;
    }

    protected override void WriteFields(JsonObject json)
    {
        json["attention_probs_dropout_prob"] = AttentionProbsDropoutProb;
        json["classifier_dropout"] = ClassifierDropout;
        json["hidden_act"] = HiddenAct;
        json["hidden_dropout_prob"] = HiddenDropoutProb;
        json["hidden_size"] = HiddenSize;
        json["initializer_range"] = InitializerRange;
        json["intermediate_size"] = IntermediateSize;
        json["layer_norm_eps"] = LayerNormEps;
        json["num_attention_heads"] = NumAttentionHeads;
        json["num_hidden_layers"] = NumHiddenLayers;
        json["position_embedding_type"] = PositionEmbeddingType;
        json["type_vocab_size"] = TypeVocabSize;
        json["vocab_size"] = VocabSize;
    }
}
