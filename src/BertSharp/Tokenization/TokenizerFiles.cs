using BertSharp.IO;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BertSharp.Tokenization;

/// <summary>Everything a <see cref="BertTokenizer"/> is built from, whichever files it came from.</summary>
internal sealed record TokenizerSettings
{
    public required string[] Vocab { get; init; }
    public bool DoLowerCase { get; init; } = true;
    public bool? StripAccents { get; init; }
    public bool TokenizeChineseChars { get; init; } = true;
    public bool CleanText { get; init; } = true;
    public int ModelMaxLength { get; init; } = 512;
    public string UnkToken { get; init; } = "[UNK]";
    public string SepToken { get; init; } = "[SEP]";
    public string PadToken { get; init; } = "[PAD]";
    public string ClsToken { get; init; } = "[CLS]";
    public string MaskToken { get; init; } = "[MASK]";
    public string ContinuingSubwordPrefix { get; init; } = "##";
    public int MaxInputCharsPerWord { get; init; } = 100;
    /// <summary>tokenizer_config.json's tokenizer_class; null when no file named one.</summary>
    public string? TokenizerClass { get; init; }
    /// <summary>tokenizer_config.json's model_input_names; null when the file has none (the class decides).</summary>
    public string[]? ModelInputNames { get; init; }
    /// <summary>Where the vocabulary came from, for error messages.</summary>
    public required string Source { get; init; }
}

/// <summary>Reads and writes the Hugging Face tokenizer files (vocab.txt, tokenizer.json, tokenizer_config.json).</summary>
internal static class TokenizerFiles
{
    public const string VocabFile = "vocab.txt";
    public const string TokenizerJsonFile = "tokenizer.json";
    public const string ConfigFile = "tokenizer_config.json";
    public const string SpecialTokensMapFile = "special_tokens_map.json";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>vocab.txt: one token per line, the line index is the id (Hugging Face trims trailing whitespace).</summary>
    public static string[] ReadVocabTxt(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException ex)
        {
            int line = ex.Index >= 0 ? 1 + bytes.AsSpan(0, Math.Min(ex.Index, bytes.Length)).Count((byte)'\n') : 0;
            throw new InvalidDataException($"{path}:{line}: the vocabulary is not valid UTF-8.", ex);
        }
        if (text.Length > 0 && text[0] == '\uFEFF')
            text = text[1..];

        var tokens = new List<string>(32_000);
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        int start = 0;
        while (start < text.Length)
        {
            int end = text.IndexOf('\n', start);
            if (end < 0) end = text.Length;
            string token = TrimEndRust(text.AsSpan(start, end - start)).ToString();
            int lineNumber = tokens.Count + 1;
            if (!firstLine.TryAdd(token, lineNumber))
                throw new InvalidDataException(
                    $"{path}:{lineNumber}: duplicate token '{Printable(token)}' (already on line {firstLine[token]}); " +
                    "each line's index is its id, so a repeated token makes the ids ambiguous.");
            tokens.Add(token);
            start = end + 1;
        }
        if (tokens.Count == 0)
            throw new InvalidDataException($"{path}: the vocabulary is empty.");
        return tokens.ToArray();
    }

    /// <summary>Rust's <c>str::trim_end</c>, which Hugging Face applies to every vocab.txt line.</summary>
    private static ReadOnlySpan<char> TrimEndRust(ReadOnlySpan<char> s)
    {
        int end = s.Length;
        while (end > 0 && UnicodeTables.IsRustWhitespace(s[end - 1])) end--;
        return s[..end];
    }

    public static JsonDocument ParseJson(string path)
    {
        try
        {
            // JsonText: half a surrogate pair in a token would otherwise throw InvalidOperationException when read.
            return JsonText.ParseDocument(File.ReadAllBytes(path),
                new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException(
                $"{path}: invalid JSON at line {(ex.LineNumber ?? -1) + 1}, byte {(ex.BytePositionInLine ?? -1) + 1}: {ex.Message}", ex);
        }
    }

    /// <summary>Applies tokenizer.json: its WordPiece model (vocab only when <paramref name="takeVocab"/>) and BertNormalizer settings.</summary>
    public static TokenizerSettings ApplyTokenizerJson(TokenizerSettings s, string path, bool takeVocab)
    {
        using var doc = ParseJson(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw Invalid(path, "$", "must be a JSON object");

        var model = Required(root, "model", path, "$", JsonValueKind.Object);
        string modelType = RequiredString(model, "type", path, "model");
        if (modelType != "WordPiece")
            throw new NotSupportedException($"{path}: model.type is '{modelType}'; only WordPiece (BERT) tokenizers are supported.");

        s = s with
        {
            UnkToken = OptionalString(model, "unk_token", path, "model") ?? s.UnkToken,
            ContinuingSubwordPrefix = OptionalString(model, "continuing_subword_prefix", path, "model") ?? s.ContinuingSubwordPrefix,
            MaxInputCharsPerWord = OptionalInt(model, "max_input_chars_per_word", path, "model") ?? s.MaxInputCharsPerWord,
        };
        if (s.MaxInputCharsPerWord < 1)
            throw Invalid(path, "model.max_input_chars_per_word", "must be at least 1");

        if (takeVocab)
            s = s with { Vocab = ReadJsonVocab(Required(model, "vocab", path, "model", JsonValueKind.Object), path), Source = path };

        if (root.TryGetProperty("normalizer", out var norm) && norm.ValueKind != JsonValueKind.Null)
        {
            string type = RequiredString(norm, "type", path, "normalizer");
            if (type != "BertNormalizer")
                throw new NotSupportedException($"{path}: normalizer.type is '{type}'; only BertNormalizer is reproduced.");
            s = s with
            {
                CleanText = OptionalBool(norm, "clean_text", path, "normalizer") ?? s.CleanText,
                TokenizeChineseChars = OptionalBool(norm, "handle_chinese_chars", path, "normalizer") ?? s.TokenizeChineseChars,
                StripAccents = OptionalNullableBool(norm, "strip_accents", path, "normalizer", s.StripAccents),
                DoLowerCase = OptionalBool(norm, "lowercase", path, "normalizer") ?? s.DoLowerCase,
            };
        }
        if (root.TryGetProperty("pre_tokenizer", out var pre) && pre.ValueKind != JsonValueKind.Null)
        {
            string type = RequiredString(pre, "type", path, "pre_tokenizer");
            if (type != "BertPreTokenizer")
                throw new NotSupportedException($"{path}: pre_tokenizer.type is '{type}'; only BertPreTokenizer is reproduced.");
        }
        if (root.TryGetProperty("truncation", out var trunc) && trunc.ValueKind == JsonValueKind.Object)
            s = s with { ModelMaxLength = OptionalInt(trunc, "max_length", path, "truncation") ?? s.ModelMaxLength };
        if (root.TryGetProperty("padding", out var pad) && pad.ValueKind == JsonValueKind.Object)
            s = s with { PadToken = OptionalString(pad, "pad_token", path, "padding") ?? s.PadToken };
        if (root.TryGetProperty("post_processor", out var post) && post.ValueKind == JsonValueKind.Object
            && post.TryGetProperty("single", out var single) && single.ValueKind == JsonValueKind.Array)
        {
            // "[CLS] $A [SEP]": the first and last special tokens of the single template name CLS and SEP.
            var specials = single.EnumerateArray()
                .Where(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("SpecialToken", out _))
                .Select(e => e.GetProperty("SpecialToken").TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString()! : null)
                .Where(x => x is not null)
                .ToList();
            if (specials.Count >= 2)
                s = s with { ClsToken = specials[0]!, SepToken = specials[^1]! };
        }
        return s;
    }

    private static string[] ReadJsonVocab(JsonElement vocab, string path)
    {
        var byId = new Dictionary<int, string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var prop in vocab.EnumerateObject())
        {
            if (prop.Value.ValueKind != JsonValueKind.Number || !prop.Value.TryGetInt32(out int id) || id < 0)
                throw Invalid(path, $"model.vocab[\"{Printable(prop.Name)}\"]", $"must be a non-negative integer id, got {prop.Value.GetRawText()}");
            if (!seen.Add(prop.Name))
                throw Invalid(path, $"model.vocab[\"{Printable(prop.Name)}\"]", "appears twice");
            if (!byId.TryAdd(id, prop.Name))
                throw Invalid(path, $"model.vocab[\"{Printable(prop.Name)}\"]", $"has id {id}, which \"{Printable(byId[id])}\" already has");
        }
        if (byId.Count == 0)
            throw Invalid(path, "model.vocab", "is empty");
        var tokens = new string[byId.Count];
        for (int id = 0; id < tokens.Length; id++)
        {
            if (!byId.TryGetValue(id, out var token))
                throw Invalid(path, "model.vocab", $"has no token with id {id}; ids must run from 0 to {tokens.Length - 1} without gaps");
            tokens[id] = token;
        }
        return tokens;
    }

    /// <summary>Applies tokenizer_config.json (the transformers-level settings, which win over tokenizer.json).</summary>
    public static TokenizerSettings ApplyConfig(TokenizerSettings s, string path)
    {
        using var doc = ParseJson(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw Invalid(path, "$", "must be a JSON object");
        return s with
        {
            DoLowerCase = OptionalBool(root, "do_lower_case", path, "") ?? s.DoLowerCase,
            StripAccents = OptionalNullableBool(root, "strip_accents", path, "", s.StripAccents),
            TokenizeChineseChars = OptionalBool(root, "tokenize_chinese_chars", path, "") ?? s.TokenizeChineseChars,
            ModelMaxLength = OptionalMaxLength(root, "model_max_length", path) ?? s.ModelMaxLength,
            UnkToken = OptionalToken(root, "unk_token", path) ?? s.UnkToken,
            SepToken = OptionalToken(root, "sep_token", path) ?? s.SepToken,
            PadToken = OptionalToken(root, "pad_token", path) ?? s.PadToken,
            ClsToken = OptionalToken(root, "cls_token", path) ?? s.ClsToken,
            MaskToken = OptionalToken(root, "mask_token", path) ?? s.MaskToken,
            TokenizerClass = OptionalString(root, "tokenizer_class", path, "") ?? s.TokenizerClass,
            ModelInputNames = OptionalStringArray(root, "model_input_names", path) ?? s.ModelInputNames,
        };
    }

    /// <summary>tokenizer_config.json's tokenizer_class alone, or null when the file has none.</summary>
    public static string? ReadTokenizerClass(string path)
    {
        using var doc = ParseJson(path);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw Invalid(path, "$", "must be a JSON object");
        return OptionalString(doc.RootElement, "tokenizer_class", path, "");
    }

    private static string[]? OptionalStringArray(JsonElement obj, string name, string path)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            return null;
        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String) || v.GetArrayLength() == 0)
            throw Invalid(path, name, $"must be a non-empty list of strings, got {v.GetRawText()}");
        return v.EnumerateArray().Select(e => e.GetString()!).ToArray();
    }

    /// <summary>Applies special_tokens_map.json, which older transformers versions use instead of the config's token fields.</summary>
    public static TokenizerSettings ApplySpecialTokensMap(TokenizerSettings s, string path)
    {
        using var doc = ParseJson(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw Invalid(path, "$", "must be a JSON object");
        return s with
        {
            UnkToken = OptionalToken(root, "unk_token", path) ?? s.UnkToken,
            SepToken = OptionalToken(root, "sep_token", path) ?? s.SepToken,
            PadToken = OptionalToken(root, "pad_token", path) ?? s.PadToken,
            ClsToken = OptionalToken(root, "cls_token", path) ?? s.ClsToken,
            MaskToken = OptionalToken(root, "mask_token", path) ?? s.MaskToken,
        };
    }

    // transformers writes a huge float (int(1e30)) when a model has no length limit.
    private static int? OptionalMaxLength(JsonElement obj, string name, string path)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || d < 1)
            throw Invalid(path, name, $"must be a positive number, got {v.GetRawText()}");
        return d >= int.MaxValue ? int.MaxValue : (int)d;
    }

    // Special tokens are strings, or AddedToken objects {"content": "[UNK]", ...} in older files.
    private static string? OptionalToken(JsonElement obj, string name, string path)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            return null;
        if (v.ValueKind == JsonValueKind.String)
            return v.GetString();
        if (v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
            return content.GetString();
        throw Invalid(path, name, $"must be a string or an object with \"content\", got {v.GetRawText()}");
    }

    private static JsonElement Required(JsonElement obj, string name, string path, string parent, JsonValueKind kind)
    {
        if (!obj.TryGetProperty(name, out var v))
            throw Invalid(path, Join(parent, name), "is missing");
        if (v.ValueKind != kind)
            throw Invalid(path, Join(parent, name), $"must be a JSON {kind.ToString().ToLowerInvariant()}, got {v.ValueKind.ToString().ToLowerInvariant()}");
        return v;
    }

    private static string RequiredString(JsonElement obj, string name, string path, string parent) =>
        Required(obj, name, path, parent, JsonValueKind.String).GetString()!;

    private static string? OptionalString(JsonElement obj, string name, string path, string parent)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Invalid(path, Join(parent, name), $"must be a string, got {v.GetRawText()}");
    }

    private static int? OptionalInt(JsonElement obj, string name, string path, string parent)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            return null;
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw Invalid(path, Join(parent, name), $"must be an integer, got {v.GetRawText()}");
    }

    private static bool? OptionalBool(JsonElement obj, string name, string path, string parent)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid(path, Join(parent, name), $"must be true or false, got {v.GetRawText()}"),
        };
    }

    // strip_accents is tri-state: an explicit null means "follow lowercase", so it overrides an earlier value.
    private static bool? OptionalNullableBool(JsonElement obj, string name, string path, string parent, bool? current)
    {
        if (!obj.TryGetProperty(name, out var v))
            return current;
        return v.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid(path, Join(parent, name), $"must be true, false or null, got {v.GetRawText()}"),
        };
    }

    private static string Join(string parent, string name) => parent.Length == 0 ? name : parent + "." + name;

    private static InvalidDataException Invalid(string path, string field, string problem) =>
        new($"{path}: field '{field}' {problem}.");

    internal static string Printable(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
            sb.Append(char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:X4}" : c.ToString());
        return sb.ToString();
    }

    // ---- writing ----

    public static void WriteAtomically(string directory, string fileName, string content) =>
        AtomicFile.WriteAllText(Path.Combine(directory, fileName), content);

    public static string VocabTxt(IReadOnlyList<string> vocab)
    {
        var sb = new StringBuilder(vocab.Count * 8);
        foreach (var token in vocab)
            sb.Append(token).Append('\n');
        return sb.ToString();
    }

    /// <summary>tokenizer.json in the layout the Rust library writes (2-space indent, vocab in id order, no final newline).</summary>
    public static string TokenizerJson(BertTokenizer tok, IReadOnlyList<string> vocab)
    {
        JsonNode Special(string id, int typeId) => new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = id, ["type_id"] = typeId } };
        JsonNode Sequence(string id, int typeId) => new JsonObject { ["Sequence"] = new JsonObject { ["id"] = id, ["type_id"] = typeId } };
        JsonNode SpecialEntry(string token, int id) => new JsonObject
        {
            ["id"] = token,
            ["ids"] = new JsonArray(id),
            ["tokens"] = new JsonArray(token),
        };

        var specialTokens = new JsonObject();
        foreach (var (token, id) in new[] { (tok.ClsToken, tok.ClsTokenId), (tok.SepToken, tok.SepTokenId) }.DistinctBy(x => x.Item1).OrderBy(x => x.Item1, StringComparer.Ordinal))
            specialTokens[token] = SpecialEntry(token, id);

        var vocabObj = new JsonObject();
        for (int id = 0; id < vocab.Count; id++)
            vocabObj[vocab[id]] = id;

        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(),
            ["normalizer"] = new JsonObject
            {
                ["type"] = "BertNormalizer",
                ["clean_text"] = tok.CleanText,
                ["handle_chinese_chars"] = tok.TokenizeChineseChars,
                ["strip_accents"] = tok.StripAccents,
                ["lowercase"] = tok.DoLowerCase,
            },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(Special(tok.ClsToken, 0), Sequence("A", 0), Special(tok.SepToken, 0)),
                ["pair"] = new JsonArray(Special(tok.ClsToken, 0), Sequence("A", 0), Special(tok.SepToken, 0), Sequence("B", 1), Special(tok.SepToken, 1)),
                ["special_tokens"] = specialTokens,
            },
            ["decoder"] = new JsonObject { ["type"] = "WordPiece", ["prefix"] = tok.ContinuingSubwordPrefix, ["cleanup"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "WordPiece",
                ["unk_token"] = tok.UnkToken,
                ["continuing_subword_prefix"] = tok.ContinuingSubwordPrefix,
                ["max_input_chars_per_word"] = tok.MaxInputCharsPerWord,
                ["vocab"] = vocabObj,
            },
        };
        return PrettyJson(root, indent: 2);
    }

    /// <summary>tokenizer_config.json as transformers writes it for BertTokenizer (1-space indent).</summary>
    public static string ConfigJson(BertTokenizer tok)
    {
        var config = ConfigFields(tok);
        // Written back only when a file gave them; otherwise the class implies them, as in transformers.
        if (tok.ModelInputNamesFromFile)
            config["model_input_names"] = new JsonArray(tok.ModelInputNames.Select(n => (JsonNode)JsonValue.Create(n)!).ToArray());
        return PrettyJson(config, indent: 1);
    }

    private static JsonObject ConfigFields(BertTokenizer tok) => new()
    {
        // DistilBertTokenizer for a DistilBERT model: transformers then leaves token_type_ids out of the model's inputs.
        ["tokenizer_class"] = tok.TokenizerClass,
        ["do_lower_case"] = tok.DoLowerCase,
        ["model_max_length"] = tok.ModelMaxLength,
        ["strip_accents"] = tok.StripAccents,
        ["tokenize_chinese_chars"] = tok.TokenizeChineseChars,
        ["unk_token"] = tok.UnkToken,
        ["sep_token"] = tok.SepToken,
        ["pad_token"] = tok.PadToken,
        ["cls_token"] = tok.ClsToken,
        ["mask_token"] = tok.MaskToken,
    };

    public static string SpecialTokensMapJson(BertTokenizer tok) => PrettyJson(new JsonObject
    {
        ["cls_token"] = tok.ClsToken,
        ["mask_token"] = tok.MaskToken,
        ["pad_token"] = tok.PadToken,
        ["sep_token"] = tok.SepToken,
        ["unk_token"] = tok.UnkToken,
    }, indent: 1);

    /// <summary>
    /// Pretty JSON the way serde_json and Python's json.dumps(indent=n, ensure_ascii=False) write it, so saved
    /// files are byte-identical to Hugging Face's; System.Text.Json's writer escapes non-ASCII text instead.
    /// </summary>
    internal static string PrettyJson(JsonNode node, int indent)
    {
        var sb = new StringBuilder(1024);
        Write(node, 0);
        return sb.ToString();

        void Write(JsonNode? n, int depth)
        {
            switch (n)
            {
                case null:
                    sb.Append("null");
                    break;
                case JsonObject obj when obj.Count == 0:
                    sb.Append("{}");
                    break;
                case JsonObject obj:
                    sb.Append("{\n");
                    int i = 0;
                    foreach (var (key, value) in obj)
                    {
                        sb.Append(' ', (depth + 1) * indent);
                        WriteString(sb, key);
                        sb.Append(": ");
                        Write(value, depth + 1);
                        sb.Append(++i < obj.Count ? ",\n" : "\n");
                    }
                    sb.Append(' ', depth * indent).Append('}');
                    break;
                case JsonArray arr when arr.Count == 0:
                    sb.Append("[]");
                    break;
                case JsonArray arr:
                    sb.Append("[\n");
                    for (int k = 0; k < arr.Count; k++)
                    {
                        sb.Append(' ', (depth + 1) * indent);
                        Write(arr[k], depth + 1);
                        sb.Append(k + 1 < arr.Count ? ",\n" : "\n");
                    }
                    sb.Append(' ', depth * indent).Append(']');
                    break;
                case JsonValue v when v.TryGetValue(out string? str):
                    WriteString(sb, str);
                    break;
                case JsonValue v when v.TryGetValue(out bool b):
                    sb.Append(b ? "true" : "false");
                    break;
                case JsonValue v when v.TryGetValue(out int i32):
                    sb.Append(i32.ToString(CultureInfo.InvariantCulture));
                    break;
                default:
                    throw new NotSupportedException($"Unexpected JSON value {n.ToJsonString()}.");
            }
        }
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
