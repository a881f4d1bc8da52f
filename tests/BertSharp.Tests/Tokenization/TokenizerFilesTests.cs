using System.Text.Json;
using BertSharp.Tests.TestSupport;
using BertSharp.Tokenization;

namespace BertSharp.Tests.Tokenization;

public sealed class TokenizerFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bertsharp-tokfiles-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Sub(string name) => Directory.CreateDirectory(Path.Combine(_dir, name)).FullName;

    [Fact]
    public void SavePretrainedRoundTripsToIdenticalIds()
    {
        var source = BertTokenizer.FromDirectory(SharedFiles.TinyModelDir);
        string saved = Sub("saved");
        source.SavePretrained(saved);
        var reloaded = BertTokenizer.FromDirectory(saved);
        Assert.All(HfReference.Cases, c => Assert.Equal(source.Encode(c.Text).InputIds, reloaded.Encode(c.Text).InputIds));

        // tokenizer.json alone (as a Python fast tokenizer would read it) gives the same ids too.
        string jsonOnly = Sub("json-only");
        File.Copy(Path.Combine(saved, "tokenizer.json"), Path.Combine(jsonOnly, "tokenizer.json"));
        var fromJson = BertTokenizer.FromDirectory(jsonOnly);
        Assert.All(HfReference.Cases, c => Assert.Equal("", HfReference.Compare(fromJson, c)));
        Assert.Empty(Directory.GetFiles(saved, "*.tmp", SearchOption.AllDirectories).Concat(Directory.GetFiles(saved, ".*")));
    }

    [Fact]
    public void SavedFilesAreByteIdenticalToTransformersOutput()
    {
        // The model directory was written by transformers 5.17; the same tokenizer must save the same bytes.
        string saved = Sub("bytes");
        BertTokenizer.FromDirectory(SharedFiles.TinyModelDir).SavePretrained(saved);
        foreach (var file in new[] { "tokenizer.json", "vocab.txt", "tokenizer_config.json" })
            Assert.True(File.ReadAllBytes(Path.Combine(SharedFiles.TinyModelDir, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(saved, file))),
                $"{file} differs from the transformers-written copy");
        Assert.True(File.ReadAllBytes(HfReference.VocabPath).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(saved, "vocab.txt"))));
    }

    [Fact]
    public void TokenizerJsonHasTheHuggingFaceFields()
    {
        var tok = HfReference.BaseUncased;
        string saved = Sub("fields");
        tok.SavePretrained(saved);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(saved, "tokenizer.json")));
        var root = doc.RootElement;
        Assert.Equal("1.0", root.GetProperty("version").GetString());
        var norm = root.GetProperty("normalizer");
        Assert.Equal("BertNormalizer", norm.GetProperty("type").GetString());
        Assert.True(norm.GetProperty("clean_text").GetBoolean());
        Assert.True(norm.GetProperty("handle_chinese_chars").GetBoolean());
        Assert.Equal(JsonValueKind.Null, norm.GetProperty("strip_accents").ValueKind);
        Assert.True(norm.GetProperty("lowercase").GetBoolean());
        Assert.Equal("BertPreTokenizer", root.GetProperty("pre_tokenizer").GetProperty("type").GetString());

        var post = root.GetProperty("post_processor");
        Assert.Equal("TemplateProcessing", post.GetProperty("type").GetString());
        string Template(string name) => string.Join(" ", post.GetProperty(name).EnumerateArray().Select(e =>
            e.TryGetProperty("SpecialToken", out var s) ? $"{s.GetProperty("id").GetString()}:{s.GetProperty("type_id").GetInt32()}"
                : $"${e.GetProperty("Sequence").GetProperty("id").GetString()}:{e.GetProperty("Sequence").GetProperty("type_id").GetInt32()}"));
        Assert.Equal("[CLS]:0 $A:0 [SEP]:0", Template("single"));
        Assert.Equal("[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1", Template("pair"));
        Assert.Equal(101, post.GetProperty("special_tokens").GetProperty("[CLS]").GetProperty("ids")[0].GetInt32());
        Assert.Equal(102, post.GetProperty("special_tokens").GetProperty("[SEP]").GetProperty("ids")[0].GetInt32());

        var decoder = root.GetProperty("decoder");
        Assert.Equal(("WordPiece", "##", true), (decoder.GetProperty("type").GetString(), decoder.GetProperty("prefix").GetString(), decoder.GetProperty("cleanup").GetBoolean()));

        var model = root.GetProperty("model");
        Assert.Equal("WordPiece", model.GetProperty("type").GetString());
        Assert.Equal("[UNK]", model.GetProperty("unk_token").GetString());
        Assert.Equal("##", model.GetProperty("continuing_subword_prefix").GetString());
        Assert.Equal(100, model.GetProperty("max_input_chars_per_word").GetInt32());
        var vocab = model.GetProperty("vocab").EnumerateObject().Select(p => (p.Name, p.Value.GetInt32())).ToList();
        var expected = File.ReadAllText(HfReference.VocabPath).TrimEnd('\n').Split('\n').Select((t, i) => (t, i)).ToList();
        Assert.Equal(30522, vocab.Count);
        Assert.Equal(expected, vocab);
    }

    [Fact]
    public void NonDefaultSettingsRoundTrip()
    {
        var tok = BertTokenizer.FromVocabFile(HfReference.VocabPath, doLowerCase: false, stripAccents: true, tokenizeChineseChars: false, modelMaxLength: 128);
        string saved = Sub("settings");
        tok.SavePretrained(saved);
        tok.SavePretrained(saved); // overwriting an existing save works
        foreach (var dir in new[] { saved, CopyOnly(saved, "tokenizer.json") })
        {
            var back = BertTokenizer.FromDirectory(dir);
            Assert.Equal((false, (bool?)true, false), (back.DoLowerCase, back.StripAccents, back.TokenizeChineseChars));
            Assert.Equal(["[UNK]", "北", "##京", "cafe"], back.Tokenize("Hello 北京 café"));
        }
        Assert.Equal(128, BertTokenizer.FromDirectory(saved).ModelMaxLength);
        using var config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(saved, "tokenizer_config.json")));
        Assert.Equal(128, config.RootElement.GetProperty("model_max_length").GetInt32());
        Assert.False(config.RootElement.GetProperty("do_lower_case").GetBoolean());
        using var map = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(saved, "special_tokens_map.json")));
        Assert.Equal("[MASK]", map.RootElement.GetProperty("mask_token").GetString());
    }

    private string CopyOnly(string from, string file)
    {
        string to = Sub(Guid.NewGuid().ToString("N"));
        File.Copy(Path.Combine(from, file), Path.Combine(to, file));
        return to;
    }

    [Fact]
    public void MissingDirectoryNamesThePathAndFiles()
    {
        string missing = Path.Combine(_dir, "does-not-exist");
        var ex = Assert.Throws<FileNotFoundException>(() => BertTokenizer.FromDirectory(missing));
        Assert.Contains(missing, ex.Message);
        Assert.Contains("vocab.txt", ex.Message);
        Assert.Contains("tokenizer.json", ex.Message);
    }

    [Fact]
    public void DirectoryWithoutVocabularyNamesThePathAndFiles()
    {
        string empty = Sub("empty");
        File.WriteAllText(Path.Combine(empty, "tokenizer_config.json"), "{}");
        var ex = Assert.Throws<FileNotFoundException>(() => BertTokenizer.FromDirectory(empty));
        Assert.Contains(empty, ex.Message);
        Assert.Contains("vocab.txt", ex.Message);
        Assert.Contains("tokenizer.json", ex.Message);
        Assert.Throws<FileNotFoundException>(() => BertTokenizer.FromVocabFile(Path.Combine(empty, "vocab.txt")));
    }

    private string WriteVocab(string name, string content)
    {
        string dir = Sub(name);
        File.WriteAllText(Path.Combine(dir, "vocab.txt"), content);
        return dir;
    }

    [Fact]
    public void DuplicateVocabularyTokenNamesTheLine()
    {
        string dir = WriteVocab("dup", "[PAD]\n[UNK]\nhello\n[CLS]\nhello\n[SEP]\n[MASK]\n");
        var ex = Assert.Throws<InvalidDataException>(() => BertTokenizer.FromDirectory(dir));
        Assert.Contains(Path.Combine(dir, "vocab.txt") + ":5", ex.Message);
        Assert.Contains("'hello'", ex.Message);
        Assert.Contains("line 3", ex.Message);
    }

    [Fact]
    public void VocabularyWithoutASpecialTokenNamesIt()
    {
        string dir = WriteVocab("nomask", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n");
        var ex = Assert.Throws<InvalidDataException>(() => BertTokenizer.FromDirectory(dir));
        Assert.Contains("mask_token", ex.Message);
        Assert.Contains("[MASK]", ex.Message);
    }

    [Fact]
    public void VocabularyLinesAreTrimmedLikeHuggingFace()
    {
        string dir = WriteVocab("crlf", "[PAD]\r\n[UNK]\r\n[CLS] \r\n[SEP]\t\r\n[MASK]\r\nhello\r\n");
        var tok = BertTokenizer.FromDirectory(dir);
        Assert.Equal((2, 3, 5), (tok.ClsTokenId, tok.SepTokenId, tok.ConvertTokenToId("hello")));
        Assert.Equal([2, 5, 3], tok.Encode("Hello").InputIds);
    }

    [Fact]
    public void MalformedJsonNamesFileAndLine()
    {
        string dir = Sub("badjson");
        File.Copy(HfReference.VocabPath, Path.Combine(dir, "vocab.txt"));
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{\n \"do_lower_case\": true,\n \"model_max_length\": 512,,\n}");
        var ex = Assert.Throws<InvalidDataException>(() => BertTokenizer.FromDirectory(dir));
        Assert.Contains("tokenizer_config.json", ex.Message);
        Assert.Contains("line 3", ex.Message);

        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), "{\"do_lower_case\": \"yes\"}");
        ex = Assert.Throws<InvalidDataException>(() => BertTokenizer.FromDirectory(dir));
        Assert.Contains("tokenizer_config.json", ex.Message);
        Assert.Contains("'do_lower_case'", ex.Message);
    }

    [Fact]
    public void TokenizerJsonWithBadVocabularyNamesTheField()
    {
        string dir = Sub("badvocab");
        string json = File.ReadAllText(Path.Combine(SharedFiles.TinyModelDir, "tokenizer.json")).Replace("\"[unused0]\": 1,", "\"[unused0]\": 0,");
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json);
        var ex = Assert.Throws<InvalidDataException>(() => BertTokenizer.FromDirectory(dir));
        Assert.Contains("tokenizer.json", ex.Message);
        Assert.Contains("model.vocab[\"[unused0]\"]", ex.Message);

        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.Replace("\"type\": \"BertPreTokenizer\"", "\"type\": \"Whitespace\"").Replace("\"[unused0]\": 0,", "\"[unused0]\": 1,"));
        Assert.Contains("pre_tokenizer", Assert.Throws<NotSupportedException>(() => BertTokenizer.FromDirectory(dir)).Message);
    }

    [Fact]
    public void SpecialTokensMapNamesTheSpecialTokens()
    {
        string dir = WriteVocab("map", "<pad>\n<unk>\n<s>\n</s>\n<mask>\nhello\n");
        File.WriteAllText(Path.Combine(dir, "special_tokens_map.json"),
            "{\"pad_token\": \"<pad>\", \"unk_token\": \"<unk>\", \"cls_token\": \"<s>\", \"sep_token\": \"</s>\", \"mask_token\": {\"content\": \"<mask>\"}}");
        var tok = BertTokenizer.FromDirectory(dir);
        Assert.Equal((0, 1, 2, 3, 4), (tok.PadTokenId, tok.UnkTokenId, tok.ClsTokenId, tok.SepTokenId, tok.MaskTokenId));
        Assert.Equal([2, 5, 1, 3], tok.Encode("hello world").InputIds);
    }

    [Fact]
    public void ConfigSettingsWinOverTokenizerJson()
    {
        string dir = Sub("precedence");
        File.Copy(Path.Combine(SharedFiles.TinyModelDir, "tokenizer.json"), Path.Combine(dir, "tokenizer.json"));
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"),
            "{\"do_lower_case\": false, \"model_max_length\": 1000000000000000019884624838656, \"cls_token\": {\"content\": \"[CLS]\", \"lstrip\": false}}");
        var tok = BertTokenizer.FromDirectory(dir);
        Assert.False(tok.DoLowerCase);
        Assert.Equal(int.MaxValue, tok.ModelMaxLength);
        Assert.Equal(101, tok.ClsTokenId);
        Assert.Equal(["[UNK]", "world"], tok.Tokenize("Hello world"));
    }
}
