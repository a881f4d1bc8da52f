using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using BertSharp.IO;

namespace BertSharp.Modeling;

/// <summary>
/// The hyper-parameters of a BERT model, read from and written to Hugging Face's <c>config.json</c> with the same
/// field names, so a folder saved here loads in Python <c>transformers</c> and the other way round.
/// Fields this class does not model (e.g. <c>transformers_version</c>, <c>tie_word_embeddings</c>) are kept and
/// written back unchanged.
/// </summary>
public sealed class BertConfig
{
    public const string FileName = "config.json";

    public int VocabSize { get; set; } = 30522;
    public int HiddenSize { get; set; } = 768;
    public int NumHiddenLayers { get; set; } = 12;
    public int NumAttentionHeads { get; set; } = 12;
    public int IntermediateSize { get; set; } = 3072;
    public string HiddenAct { get; set; } = "gelu";
    public double HiddenDropoutProb { get; set; } = 0.1;
    public double AttentionProbsDropoutProb { get; set; } = 0.1;
    public int MaxPositionEmbeddings { get; set; } = 512;
    public int TypeVocabSize { get; set; } = 2;
    public double InitializerRange { get; set; } = 0.02;
    public double LayerNormEps { get; set; } = 1e-12;
    public int PadTokenId { get; set; }
    /// <summary>Dropout before the classifier; null falls back to <see cref="HiddenDropoutProb"/> as in transformers.</summary>
    public double? ClassifierDropout { get; set; }
    public string PositionEmbeddingType { get; set; } = "absolute";
    /// <summary>"single_label_classification", "multi_label_classification", "regression", or null (inferred).</summary>
    public string? ProblemType { get; set; }
    public IReadOnlyList<string> Architectures { get; set; } = [];
    public string ModelType => "bert";

    private SortedDictionary<int, string> _id2Label = DefaultLabels(2);

    /// <summary>Label names by class index; setting <see cref="NumLabels"/> resets them to LABEL_0, LABEL_1, ….</summary>
    public IReadOnlyDictionary<int, string> Id2Label
    {
        get => _id2Label;
        set
        {
            // No parameter name: these messages reach users (through config.json) and must read as one sentence.
            if (value.Count == 0) throw new ArgumentException("id2label must name at least one label.");
            var sorted = new SortedDictionary<int, string>(value.ToDictionary(kv => kv.Key, kv => kv.Value));
            if (sorted.Keys.First() != 0 || sorted.Keys.Last() != sorted.Count - 1)
                throw new ArgumentException($"id2label keys must be 0..{sorted.Count - 1}, got [{string.Join(", ", sorted.Keys)}].");
            _id2Label = sorted;
        }
    }

    public IReadOnlyDictionary<string, int> Label2Id => _id2Label.ToDictionary(kv => kv.Value, kv => kv.Key);

    public int NumLabels
    {
        get => _id2Label.Count;
        set
        {
            if (value < 1) throw new ArgumentException($"num_labels must be at least 1, got {value}.");
            if (value > MaxLabels) throw new ArgumentException($"num_labels must be at most {MaxLabels}, got {value}.");
            if (value != _id2Label.Count) _id2Label = DefaultLabels(value);
        }
    }

    /// <summary>The most labels a head may have: each gets a name in id2label, so a config's <c>num_labels</c> of 10^9 would fill memory with names.</summary>
    public const int MaxLabels = 1_000_000;

    public double EffectiveClassifierDropout => ClassifierDropout ?? HiddenDropoutProb;

    /// <summary>
    /// The encoder's parameter count (with the pooler, and a classifier of <see cref="NumLabels"/> when asked), computed
    /// from the sizes alone, so an absurd config is caught before anything is allocated. A double: 10^6 layers of
    /// hidden size 10^9 overflow a long.
    /// </summary>
    public double ParameterCount(bool addPoolingLayer = true, bool withClassifier = false)
    {
        double h = HiddenSize, i = IntermediateSize;
        var embeddings = ((double)VocabSize + MaxPositionEmbeddings + TypeVocabSize) * h + 2 * h;
        // Query, key, value and output projections (4 h² + 4 h), the feed-forward pair (2 i h + i + h), two LayerNorms (4 h).
        var layer = 4 * h * h + 2 * i * h + 9 * h + i;
        var pooler = addPoolingLayer ? h * h + h : 0;
        var classifier = withClassifier ? h * NumLabels + NumLabels : 0;
        return embeddings + NumHiddenLayers * layer + pooler + classifier;
    }

    /// <summary>The size fields as a sentence fragment, for messages about memory.</summary>
    public string SizeSummary() =>
        $"vocab_size = {VocabSize}, hidden_size = {HiddenSize}, num_hidden_layers = {NumHiddenLayers}, intermediate_size = {IntermediateSize}, " +
        $"max_position_embeddings = {MaxPositionEmbeddings}, type_vocab_size = {TypeVocabSize}";

    /// <summary>The weights whose shapes the size fields set, to compare with a checkpoint's before building the model.</summary>
    public IReadOnlyList<ExpectedWeight> ExpectedWeights() =>
    [
        new("embeddings.word_embeddings.weight", [("vocab_size", VocabSize), ("hidden_size", HiddenSize)]),
        new("embeddings.position_embeddings.weight", [("max_position_embeddings", MaxPositionEmbeddings), ("hidden_size", HiddenSize)]),
        new("embeddings.token_type_embeddings.weight", [("type_vocab_size", TypeVocabSize), ("hidden_size", HiddenSize)]),
        new("encoder.layer.0.intermediate.dense.weight", [("intermediate_size", IntermediateSize), ("hidden_size", HiddenSize)]),
    ];

    /// <summary>The encoder layers <see cref="NumHiddenLayers"/> asks for, as a checkpoint names them.</summary>
    public ExpectedLayers ExpectedLayers() => new("encoder.layer.", "num_hidden_layers", NumHiddenLayers);

    /// <summary>Fields of the file that this class does not model, written back as they were.</summary>
    public JsonObject ExtraFields { get; private set; } = new();

    public BertConfig Clone()
    {
        var copy = (BertConfig)MemberwiseClone();
        copy._id2Label = new SortedDictionary<int, string>(_id2Label);
        copy.ExtraFields = (JsonObject)ExtraFields.DeepClone();
        return copy;
    }

    /// <summary>Checks the values that would otherwise fail deep inside a forward pass.</summary>
    public void Validate(string source = "config")
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
        if (ProblemType is not (null or "single_label_classification" or "multi_label_classification" or "regression"))
            throw new InvalidDataException($"{source}: 'problem_type' = '{ProblemType}' is not one of single_label_classification, multi_label_classification, regression.");
    }

    public static BertConfig FromFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Model config '{path}' does not exist.", path);
        string text;
        try { text = File.ReadAllText(path); }
        catch (IOException e) { throw new IOException($"{path}: cannot read the model config: {e.Message}", e); }
        return FromJson(text, path);
    }

    public static BertConfig FromJson(string json, string source = "config.json")
    {
        JsonObject obj;
        try
        {
            obj = JsonText.ParseNode(json) as JsonObject
                  ?? throw new InvalidDataException($"{source}: the model config must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON ({e.Message}).", e);
        }

        var modelType = obj["model_type"];
        if (modelType != null && GetString(obj, "model_type", source) is { } mt && mt != "bert")
            throw new InvalidDataException($"{source}: 'model_type' is '{mt}', but BertSharp loads only BERT models ('bert').");

        var config = new BertConfig();
        var known = new HashSet<string>();
        int Int(string field, int current) { known.Add(field); return obj.ContainsKey(field) ? GetInt(obj, field, source) : current; }
        double Double(string field, double current) { known.Add(field); return obj.ContainsKey(field) ? GetDouble(obj, field, source) : current; }

        config.VocabSize = Int("vocab_size", config.VocabSize);
        config.HiddenSize = Int("hidden_size", config.HiddenSize);
        config.NumHiddenLayers = Int("num_hidden_layers", config.NumHiddenLayers);
        config.NumAttentionHeads = Int("num_attention_heads", config.NumAttentionHeads);
        config.IntermediateSize = Int("intermediate_size", config.IntermediateSize);
        config.HiddenDropoutProb = Double("hidden_dropout_prob", config.HiddenDropoutProb);
        config.AttentionProbsDropoutProb = Double("attention_probs_dropout_prob", config.AttentionProbsDropoutProb);
        config.MaxPositionEmbeddings = Int("max_position_embeddings", config.MaxPositionEmbeddings);
        config.TypeVocabSize = Int("type_vocab_size", config.TypeVocabSize);
        config.InitializerRange = Double("initializer_range", config.InitializerRange);
        config.LayerNormEps = Double("layer_norm_eps", config.LayerNormEps);
        known.Add("pad_token_id");
        if (obj["pad_token_id"] != null) config.PadTokenId = GetInt(obj, "pad_token_id", source);
        known.Add("hidden_act");
        if (obj.ContainsKey("hidden_act")) config.HiddenAct = GetString(obj, "hidden_act", source) ?? config.HiddenAct;
        known.Add("classifier_dropout");
        config.ClassifierDropout = obj["classifier_dropout"] == null ? null : GetDouble(obj, "classifier_dropout", source);
        known.Add("position_embedding_type");
        if (obj["position_embedding_type"] != null) config.PositionEmbeddingType = GetString(obj, "position_embedding_type", source)!;
        known.Add("problem_type");
        config.ProblemType = obj["problem_type"] == null ? null : GetString(obj, "problem_type", source);
        known.Add("architectures");
        if (obj["architectures"] is JsonNode arch)
        {
            if (arch is not JsonArray array || array.Any(a => a is not JsonValue v || v.GetValueKind() != JsonValueKind.String))
                throw new InvalidDataException($"{source}: 'architectures' must be a list of strings.");
            config.Architectures = array.Select(a => a!.GetValue<string>()).ToArray();
        }
        known.Add("model_type");
        known.Add("id2label");
        known.Add("label2id");
        known.Add("num_labels");
        if (obj["id2label"] is JsonNode id2labelNode)
        {
            if (id2labelNode is not JsonObject id2label || id2label.Count == 0)
                throw new InvalidDataException($"{source}: 'id2label' must be a non-empty object of index → label name.");
            var labels = new Dictionary<int, string>();
            foreach (var (key, value) in id2label)
            {
                if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                    throw new InvalidDataException($"{source}: 'id2label' key '{key}' is not a class index.");
                if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
                    throw new InvalidDataException($"{source}: 'id2label[\"{key}\"]' must be a string.");
                labels[id] = v.GetValue<string>();
            }
            try { config.Id2Label = labels; }
            catch (ArgumentException e) { throw new InvalidDataException($"{source}: {e.Message}"); }
        }
        else if (obj["num_labels"] != null)
        {
            try { config.NumLabels = GetInt(obj, "num_labels", source); }
            catch (ArgumentException e) { throw new InvalidDataException($"{source}: {e.Message}"); }
        }

        config.ExtraFields = new JsonObject();
        foreach (var (key, value) in obj)
            if (!known.Contains(key)) config.ExtraFields[key] = value?.DeepClone();

        config.Validate(source);
        return config;
    }

    public string ToJson()
    {
        var obj = new JsonObject();
        foreach (var (key, value) in ExtraFields) obj[key] = value?.DeepClone();
        obj["architectures"] = new JsonArray(Architectures.Select(a => (JsonNode)JsonValue.Create(a)!).ToArray());
        obj["attention_probs_dropout_prob"] = AttentionProbsDropoutProb;
        obj["classifier_dropout"] = ClassifierDropout;
        obj["hidden_act"] = HiddenAct;
        obj["hidden_dropout_prob"] = HiddenDropoutProb;
        obj["hidden_size"] = HiddenSize;
        obj["id2label"] = new JsonObject(_id2Label.Select(kv => KeyValuePair.Create(kv.Key.ToString(CultureInfo.InvariantCulture), (JsonNode?)kv.Value)));
        obj["initializer_range"] = InitializerRange;
        obj["intermediate_size"] = IntermediateSize;
        obj["label2id"] = new JsonObject(_id2Label.Select(kv => KeyValuePair.Create(kv.Value, (JsonNode?)kv.Key)));
        obj["layer_norm_eps"] = LayerNormEps;
        obj["max_position_embeddings"] = MaxPositionEmbeddings;
        obj["model_type"] = ModelType;
        obj["num_attention_heads"] = NumAttentionHeads;
        obj["num_hidden_layers"] = NumHiddenLayers;
        obj["pad_token_id"] = PadTokenId;
        obj["position_embedding_type"] = PositionEmbeddingType;
        if (ProblemType != null) obj["problem_type"] = ProblemType;
        obj["type_vocab_size"] = TypeVocabSize;
        obj["vocab_size"] = VocabSize;
        var sorted = new JsonObject(obj.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())));
        return sorted.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson());

    private static SortedDictionary<int, string> DefaultLabels(int count) =>
        new(Enumerable.Range(0, count).ToDictionary(i => i, i => $"LABEL_{i}"));

    private static int GetInt(JsonObject obj, string field, string source)
    {
        if (obj[field] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var i)) return i;
        if (obj[field] is JsonValue d && d.GetValueKind() == JsonValueKind.Number && d.TryGetValue<double>(out var x) && x == Math.Floor(x) && Math.Abs(x) < int.MaxValue) return (int)x;
        throw new InvalidDataException($"{source}: '{field}' must be an integer, got {Describe(obj[field])}.");
    }

    private static double GetDouble(JsonObject obj, string field, string source)
    {
        if (obj[field] is JsonValue v && v.GetValueKind() == JsonValueKind.Number) return v.GetValue<double>();
        throw new InvalidDataException($"{source}: '{field}' must be a number, got {Describe(obj[field])}.");
    }

    private static string? GetString(JsonObject obj, string field, string source)
    {
        if (obj[field] is null) return null;
        if (obj[field] is JsonValue v && v.GetValueKind() == JsonValueKind.String) return v.GetValue<string>();
        throw new InvalidDataException($"{source}: '{field}' must be a string, got {Describe(obj[field])}.");
    }

    private static string Describe(JsonNode? node) => node == null ? "null" : node.ToJsonString();
}
