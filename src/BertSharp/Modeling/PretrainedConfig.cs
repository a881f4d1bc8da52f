using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using BertSharp.IO;

namespace BertSharp.Modeling;

/// <summary>
/// What every model family's <c>config.json</c> shares, as in transformers' <c>PretrainedConfig</c>: the labels
/// (<c>id2label</c>, <c>label2id</c>, <c>num_labels</c>), <c>problem_type</c>, <c>architectures</c>, <c>model_type</c>,
/// <c>pad_token_id</c> and <c>max_position_embeddings</c>, plus the JSON reading and writing. A family's own fields
/// (<see cref="BertConfig"/>, <see cref="DistilBertConfig"/>) keep Hugging Face's names, so a folder saved here loads in
/// Python and the other way round. Fields no class models (e.g. <c>transformers_version</c>) are kept and written back
/// unchanged.
/// </summary>
public abstract class PretrainedConfig
{
    public const string FileName = "config.json";

    // Only the families AutoConfig knows derive from this class.
    private protected PretrainedConfig() { }

    /// <summary>The <c>model_type</c> written to config.json, e.g. "bert" or "distilbert".</summary>
    public abstract string ModelType { get; }

    /// <summary>The longest input, in tokens, the model has position embeddings for.</summary>
    public abstract int MaxPositionEmbeddings { get; set; }

    public int PadTokenId { get; set; }

    /// <summary>"single_label_classification", "multi_label_classification", "regression", or null (inferred).</summary>
    public string? ProblemType { get; set; }

    public IReadOnlyList<string> Architectures { get; set; } = [];

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

    /// <summary>Rows of the word-embedding table: the largest token id the model can read, plus one.</summary>
    public abstract int VocabSize { get; set; }

    /// <summary>
    /// The model's parameter count from the sizes alone (a double: absurd configs overflow a long), so a model that
    /// cannot fit is refused before anything is allocated; with the classification head when asked.
    /// </summary>
    public abstract double ParameterCount(bool withClassifier = false);

    /// <summary>The size fields as a sentence fragment, for messages about memory.</summary>
    public abstract string SizeSummary();

    /// <summary>The weights whose shapes the size fields set, to compare with a checkpoint's before building the model.</summary>
    public abstract IReadOnlyList<ExpectedWeight> ExpectedWeights();

    /// <summary>The repeated layers the config asks for, as a checkpoint names them.</summary>
    public abstract ExpectedLayers ExpectedLayers();

    /// <summary>Fields of the file that this class does not model, written back as they were.</summary>
    public JsonObject ExtraFields { get; private set; } = new();

    public PretrainedConfig Clone()
    {
        var copy = (PretrainedConfig)MemberwiseClone();
        copy._id2Label = new SortedDictionary<int, string>(_id2Label);
        copy.ExtraFields = (JsonObject)ExtraFields.DeepClone();
        return copy;
    }

    /// <summary>Checks the values that would otherwise fail deep inside a forward pass; messages name the field.</summary>
    public void Validate(string source = "config")
    {
        ValidateFields(source);
        if (ProblemType is not (null or "single_label_classification" or "multi_label_classification" or "regression"))
            throw new InvalidDataException($"{source}: 'problem_type' = '{ProblemType}' is not one of single_label_classification, multi_label_classification, regression.");
    }

    /// <summary>The family's own checks (sizes, dropouts, activation, pad id within the vocabulary).</summary>
    protected abstract void ValidateFields(string source);

    /// <summary>Reads the family's own fields; every field read is marked known, the rest go to <see cref="ExtraFields"/>.</summary>
    protected abstract void ReadFields(ConfigReader reader);

    /// <summary>Writes the family's own fields (the shared ones and the extra fields are written by the caller).</summary>
    protected abstract void WriteFields(JsonObject json);

    public string ToJson()
    {
        var obj = new JsonObject();
        foreach (var (key, value) in ExtraFields) obj[key] = value?.DeepClone();
        obj["architectures"] = new JsonArray(Architectures.Select(a => (JsonNode)JsonValue.Create(a)!).ToArray());
        obj["id2label"] = new JsonObject(_id2Label.Select(kv => KeyValuePair.Create(kv.Key.ToString(CultureInfo.InvariantCulture), (JsonNode?)kv.Value)));
        obj["label2id"] = new JsonObject(_id2Label.Select(kv => KeyValuePair.Create(kv.Value, (JsonNode?)kv.Key)));
        obj["max_position_embeddings"] = MaxPositionEmbeddings;
        obj["model_type"] = ModelType;
        obj["pad_token_id"] = PadTokenId;
        if (ProblemType != null) obj["problem_type"] = ProblemType;
        WriteFields(obj);
        // Sorted keys, as transformers' to_json_string(sort_keys=True) writes them.
        var sorted = new JsonObject(obj.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())));
        return sorted.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson());

    /// <summary>config.json's text as a JSON object, or an error naming the file.</summary>
    internal static JsonObject ParseObject(string json, string source)
    {
        try
        {
            return JsonText.ParseNode(json) as JsonObject
                   ?? throw new InvalidDataException($"{source}: the model config must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON ({e.Message}).", e);
        }
    }

    internal static string ReadFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Model config '{path}' does not exist.", path);
        try { return File.ReadAllText(path); }
        catch (IOException e) { throw new IOException($"{path}: cannot read the model config: {e.Message}", e); }
    }

    /// <summary>
    /// Builds a <typeparamref name="TConfig"/> from config.json's object: the shared fields, then the family's, then
    /// whatever is left as <see cref="ExtraFields"/>; validated before it is returned.
    /// </summary>
    internal static TConfig FromJsonObject<TConfig>(JsonObject obj, string source) where TConfig : PretrainedConfig, new()
    {
        var config = new TConfig();
        var reader = new ConfigReader(obj, source);
        if (reader.String("model_type") is { } modelType && modelType != config.ModelType)
            throw new InvalidDataException(
                $"{source}: 'model_type' is '{modelType}', but a {typeof(TConfig).Name} is for '{config.ModelType}'; " +
                "AutoConfig and AutoModelForSequenceClassification pick the class from model_type.");
        config.MaxPositionEmbeddings = reader.Int("max_position_embeddings", config.MaxPositionEmbeddings);
        // pad_token_id may be null in a file (a model without padding); the default 0 is what transformers pads with.
        config.PadTokenId = reader.NullableInt("pad_token_id") ?? config.PadTokenId;
        config.ProblemType = reader.String("problem_type");
        if (reader.StringList("architectures") is { } architectures) config.Architectures = architectures;
        ReadLabels(config, reader);
        config.ReadFields(reader);
        config.ExtraFields = reader.UnreadFields();
        config.Validate(source);
        return config;
    }

    private static void ReadLabels(PretrainedConfig config, ConfigReader reader)
    {
        // label2id is derived from id2label; it is read (so not kept as an extra field) and written back from id2label.
        reader.MarkKnown("label2id");
        var numLabels = reader.NullableInt("num_labels");
        if (reader.Node("id2label") is { } id2labelNode)
        {
            if (id2labelNode is not JsonObject id2label || id2label.Count == 0)
                throw new InvalidDataException($"{reader.Source}: 'id2label' must be a non-empty object of index → label name.");
            var labels = new Dictionary<int, string>();
            foreach (var (key, value) in id2label)
            {
                if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                    throw new InvalidDataException($"{reader.Source}: 'id2label' key '{key}' is not a class index.");
                if (value is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
                    throw new InvalidDataException($"{reader.Source}: 'id2label[\"{key}\"]' must be a string.");
                labels[id] = v.GetValue<string>();
            }
            try { config.Id2Label = labels; }
            catch (ArgumentException e) { throw new InvalidDataException($"{reader.Source}: {e.Message}"); }
        }
        else if (numLabels is { } n)
        {
            try { config.NumLabels = n; }
            catch (ArgumentException e) { throw new InvalidDataException($"{reader.Source}: {e.Message}"); }
        }
    }

    private static SortedDictionary<int, string> DefaultLabels(int count) =>
        new(Enumerable.Range(0, count).ToDictionary(i => i, i => $"LABEL_{i}"));

    /// <summary>
    /// Typed reads of config.json's fields with errors that name the file and the field; remembers which fields were
    /// read so the others can be kept as extra fields.
    /// </summary>
    protected sealed class ConfigReader(JsonObject obj, string source)
    {
        private readonly HashSet<string> _known = [];

        public string Source { get; } = source;

        public void MarkKnown(string field) => _known.Add(field);

        public JsonNode? Node(string field)
        {
            _known.Add(field);
            return obj[field];
        }

        public int Int(string field, int current) => NullableInt(field) ?? current;

        public int? NullableInt(string field)
        {
            var node = Node(field);
            if (node is null) return null;
            if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out var i)) return i;
            if (node is JsonValue d && d.GetValueKind() == JsonValueKind.Number && d.TryGetValue<double>(out var x) && x == Math.Floor(x) && Math.Abs(x) < int.MaxValue) return (int)x;
            throw new InvalidDataException($"{Source}: '{field}' must be an integer, got {Describe(node)}.");
        }

        public double Double(string field, double current) => NullableDouble(field) ?? current;

        public double? NullableDouble(string field)
        {
            var node = Node(field);
            if (node is null) return null;
            if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number) return v.GetValue<double>();
            throw new InvalidDataException($"{Source}: '{field}' must be a number, got {Describe(node)}.");
        }

        public bool Bool(string field, bool current)
        {
            var node = Node(field);
            if (node is null) return current;
            if (node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False) return v.GetValue<bool>();
            throw new InvalidDataException($"{Source}: '{field}' must be true or false, got {Describe(node)}.");
        }

        public string? String(string field)
        {
            var node = Node(field);
            if (node is null) return null;
            if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String) return v.GetValue<string>();
            throw new InvalidDataException($"{Source}: '{field}' must be a string, got {Describe(node)}.");
        }

        public IReadOnlyList<string>? StringList(string field)
        {
            var node = Node(field);
            if (node is null) return null;
            if (node is not JsonArray array || array.Any(a => a is not JsonValue v || v.GetValueKind() != JsonValueKind.String))
                throw new InvalidDataException($"{Source}: '{field}' must be a list of strings.");
            return array.Select(a => a!.GetValue<string>()).ToArray();
        }

        public JsonObject UnreadFields()
        {
            var extra = new JsonObject();
            foreach (var (key, value) in obj)
                if (!_known.Contains(key)) extra[key] = value?.DeepClone();
            return extra;
        }

        private static string Describe(JsonNode? node) => node == null ? "null" : node.ToJsonString();
    }
}
