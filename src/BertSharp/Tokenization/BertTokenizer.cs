using System.Runtime.InteropServices;
using System.Text;
using Microsoft.ML.Tokenizers;
using MsBertOptions = Microsoft.ML.Tokenizers.BertOptions;
using MsBertTokenizer = Microsoft.ML.Tokenizers.BertTokenizer;

namespace BertSharp.Tokenization;

/// <summary>
/// A BERT WordPiece tokenizer that produces exactly the ids of Hugging Face's fast <c>BertTokenizer</c>
/// (the <c>tokenizers</c> Rust library with BertNormalizer + BertPreTokenizer + WordPiece).
/// </summary>
/// <remarks>
/// <para>WordPiece itself is Microsoft.ML.Tokenizers' <see cref="MsBertTokenizer"/>; its normalizer and
/// pre-tokenizer are replaced through <see cref="MsBertOptions"/> by <see cref="HfBertNormalizer"/> and
/// <see cref="HfBertPreTokenizer"/>, because Microsoft's defaults split and clean text differently from
/// Hugging Face's (dotnet/machinelearning#7724, #7725, #7728).</para>
/// <para>Immutable and thread-safe: <see cref="Encode"/> may be called from several threads at once.</para>
/// <para>Literal text such as "[CLS]" is tokenized as text ("[", "cl", "##s", "]"), as the Rust tokenizer does with
/// the tokenizer.json that transformers saves for BERT (which lists no added tokens). Splitting on added tokens
/// (the Hub's older bert-base-uncased tokenizer.json lists the five specials) is not implemented.</para>
/// </remarks>
public sealed class BertTokenizer
{
    private readonly MsBertTokenizer _wordPiece;
    private readonly OffsetNormalizer _offsetNormalizer;
    private readonly string[] _idToToken;
    private readonly Dictionary<string, int> _tokenToId;
    private readonly bool[] _isSpecial;
    // Microsoft counts a word's length in UTF-16 units, Hugging Face in code points. They only disagree on
    // words with supplementary-plane characters, which can only match a vocabulary that has such tokens.
    private readonly bool _countCodePoints;

    private BertTokenizer(TokenizerSettings s)
    {
        _idToToken = s.Vocab;
        _tokenToId = new Dictionary<string, int>(s.Vocab.Length, StringComparer.Ordinal);
        for (int id = 0; id < s.Vocab.Length; id++)
            if (!_tokenToId.TryAdd(s.Vocab[id], id))
                throw new InvalidDataException($"{s.Source}: token '{TokenizerFiles.Printable(s.Vocab[id])}' appears twice (ids {_tokenToId[s.Vocab[id]]} and {id}).");

        if (s.ModelMaxLength < 1)
            throw new ArgumentOutOfRangeException(nameof(s.ModelMaxLength), s.ModelMaxLength, "model_max_length must be at least 1.");
        if (string.IsNullOrEmpty(s.ContinuingSubwordPrefix))
            throw new InvalidDataException($"{s.Source}: the continuing-subword prefix must not be empty.");

        TokenizerClass = s.TokenizerClass ?? "BertTokenizer";
        ModelInputNames = s.ModelInputNames ?? DefaultModelInputNames(TokenizerClass);
        ModelInputNamesFromFile = s.ModelInputNames is not null;
        DoLowerCase = s.DoLowerCase;
        StripAccents = s.StripAccents;
        TokenizeChineseChars = s.TokenizeChineseChars;
        CleanText = s.CleanText;
        ModelMaxLength = s.ModelMaxLength;
        ContinuingSubwordPrefix = s.ContinuingSubwordPrefix;
        MaxInputCharsPerWord = s.MaxInputCharsPerWord;
        UnkToken = s.UnkToken;
        SepToken = s.SepToken;
        PadToken = s.PadToken;
        ClsToken = s.ClsToken;
        MaskToken = s.MaskToken;
        UnkTokenId = SpecialId(s, "unk_token", s.UnkToken);
        SepTokenId = SpecialId(s, "sep_token", s.SepToken);
        PadTokenId = SpecialId(s, "pad_token", s.PadToken);
        ClsTokenId = SpecialId(s, "cls_token", s.ClsToken);
        MaskTokenId = SpecialId(s, "mask_token", s.MaskToken);
        _isSpecial = new bool[_idToToken.Length];
        foreach (int id in new[] { UnkTokenId, SepTokenId, PadTokenId, ClsTokenId, MaskTokenId })
            _isSpecial[id] = true;

        _countCodePoints = Array.Exists(_idToToken, t => t.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0);

        var normalizer = new HfBertNormalizer(CleanText, TokenizeChineseChars, StripAccents ?? DoLowerCase, DoLowerCase);
        _offsetNormalizer = new OffsetNormalizer(normalizer);
        var options = new MsBertOptions
        {
            Normalizer = normalizer,
            PreTokenizer = HfBertPreTokenizer.Instance,
            // Hugging Face does not split on special tokens here (tokenizer.json has no added tokens), and with
            // splitting on, Microsoft would also add lowercased copies of them to the vocabulary.
            SplitOnSpecialTokens = false,
            LowerCaseBeforeTokenization = DoLowerCase,
            IndividuallyTokenizeCjk = TokenizeChineseChars,
            RemoveNonSpacingMarks = StripAccents ?? DoLowerCase,
            UnknownToken = UnkToken,
            SeparatorToken = SepToken,
            PaddingToken = PadToken,
            ClassificationToken = ClsToken,
            MaskingToken = MaskToken,
            ContinuingSubwordPrefix = ContinuingSubwordPrefix,
            // With supplementary-plane tokens a 100-code-point word can be 200 UTF-16 units long; the
            // code-point limit is then enforced after encoding (see EncodeWords).
            MaxInputCharsPerWord = _countCodePoints ? 2 * MaxInputCharsPerWord : MaxInputCharsPerWord,
        };
        using var vocabStream = new MemoryStream(Encoding.UTF8.GetBytes(MsVocabText(_idToToken)));
        _wordPiece = MsBertTokenizer.Create(vocabStream, options);
    }

    /// <summary>
    /// transformers' tokenizer class, written back to tokenizer_config.json: "BertTokenizer", or "DistilBertTokenizer"
    /// for a DistilBERT model (the same WordPiece tokenizer, without token_type_ids among the model's inputs).
    /// </summary>
    public string TokenizerClass { get; }

    /// <summary>
    /// The inputs the model takes, transformers' <c>model_input_names</c>: input_ids, token_type_ids and attention_mask
    /// for BERT; input_ids and attention_mask for DistilBERT, which has no token-type embeddings.
    /// </summary>
    public IReadOnlyList<string> ModelInputNames { get; }

    internal bool ModelInputNamesFromFile { get; }

    private static string[] DefaultModelInputNames(string tokenizerClass) =>
        tokenizerClass.StartsWith("DistilBert", StringComparison.Ordinal)
            ? ["input_ids", "attention_mask"]
            : ["input_ids", "token_type_ids", "attention_mask"];

    /// <summary>Number of entries in the WordPiece vocabulary (ids run from 0 to VocabSize - 1).</summary>
    public int VocabSize => _idToToken.Length;
    public int PadTokenId { get; }
    public int ClsTokenId { get; }
    public int SepTokenId { get; }
    public int UnkTokenId { get; }
    public int MaskTokenId { get; }
    public bool DoLowerCase { get; }
    /// <summary>Explicit accent stripping; null means "strip when lowercasing", as in Hugging Face.</summary>
    public bool? StripAccents { get; }
    public bool TokenizeChineseChars { get; }
    /// <summary>The default maximum length (in tokens, specials included) for truncation and MaxLength padding.</summary>
    public int ModelMaxLength { get; }

    internal bool CleanText { get; }
    internal string ContinuingSubwordPrefix { get; }
    internal int MaxInputCharsPerWord { get; }
    internal string UnkToken { get; }
    internal string SepToken { get; }
    internal string PadToken { get; }
    internal string ClsToken { get; }
    internal string MaskToken { get; }

    /// <summary>
    /// Loads a tokenizer saved by transformers' <c>save_pretrained</c> (or <see cref="SavePretrained"/>).
    /// </summary>
    /// <remarks>
    /// The vocabulary comes from vocab.txt, or from tokenizer.json's WordPiece model when vocab.txt is absent.
    /// Settings come from tokenizer_config.json, then special_tokens_map.json (token names), then tokenizer.json's
    /// BertNormalizer, then BERT's defaults, which is the precedence transformers' BertTokenizerFast applies.
    /// tokenizer.json's <c>added_tokens</c> are not read: literal "[CLS]" in text is tokenized as text.
    /// </remarks>
    /// <exception cref="FileNotFoundException">The directory does not exist or has neither vocab.txt nor tokenizer.json.</exception>
    /// <exception cref="InvalidDataException">A file is malformed; the message names the file and the line or field.</exception>
    public static BertTokenizer FromDirectory(string directory) => FromDirectory(directory, defaultTokenizerClass: null);

    /// <param name="directory">The tokenizer folder.</param>
    /// <param name="defaultTokenizerClass">The class when tokenizer_config.json names none (AutoTokenizer takes it from the model's model_type).</param>
    internal static BertTokenizer FromDirectory(string directory, string? defaultTokenizerClass)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string vocabPath = Path.Combine(directory, TokenizerFiles.VocabFile);
        string jsonPath = Path.Combine(directory, TokenizerFiles.TokenizerJsonFile);
        string configPath = Path.Combine(directory, TokenizerFiles.ConfigFile);
        if (!Directory.Exists(directory))
            throw new FileNotFoundException(
                $"Cannot load a BERT tokenizer from '{directory}': the directory does not exist " +
                $"(looked for {TokenizerFiles.VocabFile} or {TokenizerFiles.TokenizerJsonFile}, and {TokenizerFiles.ConfigFile}).", directory);

        bool hasVocab = File.Exists(vocabPath), hasJson = File.Exists(jsonPath);
        if (!hasVocab && !hasJson)
            throw new FileNotFoundException(
                $"Cannot load a BERT tokenizer from '{directory}': neither {TokenizerFiles.VocabFile} nor {TokenizerFiles.TokenizerJsonFile} is there " +
                $"(one of them is needed for the WordPiece vocabulary; {TokenizerFiles.ConfigFile} is optional).", vocabPath);

        var settings = new TokenizerSettings { Vocab = [], Source = directory };
        if (hasVocab)
            settings = settings with { Vocab = TokenizerFiles.ReadVocabTxt(vocabPath), Source = vocabPath };
        if (hasJson)
            settings = TokenizerFiles.ApplyTokenizerJson(settings, jsonPath, takeVocab: !hasVocab);
        string mapPath = Path.Combine(directory, TokenizerFiles.SpecialTokensMapFile);
        if (File.Exists(mapPath))
            settings = TokenizerFiles.ApplySpecialTokensMap(settings, mapPath);
        if (File.Exists(configPath))
            settings = TokenizerFiles.ApplyConfig(settings, configPath);
        return new BertTokenizer(settings with { TokenizerClass = settings.TokenizerClass ?? defaultTokenizerClass });
    }

    /// <summary>Builds a tokenizer from a vocab.txt file and explicit settings (bert-base-uncased's by default).</summary>
    public static BertTokenizer FromVocabFile(string vocabPath, bool doLowerCase = true, bool? stripAccents = null, bool tokenizeChineseChars = true, int modelMaxLength = 512)
    {
        ArgumentException.ThrowIfNullOrEmpty(vocabPath);
        if (!File.Exists(vocabPath))
            throw new FileNotFoundException($"The WordPiece vocabulary '{vocabPath}' does not exist.", vocabPath);
        if (modelMaxLength < 1)
            throw new ArgumentOutOfRangeException(nameof(modelMaxLength), modelMaxLength, "Must be at least 1.");
        return new BertTokenizer(new TokenizerSettings
        {
            Vocab = TokenizerFiles.ReadVocabTxt(vocabPath),
            Source = vocabPath,
            DoLowerCase = doLowerCase,
            StripAccents = stripAccents,
            TokenizeChineseChars = tokenizeChineseChars,
            ModelMaxLength = modelMaxLength,
        });
    }

    /// <summary>The word pieces of <paramref name="text"/>, without special tokens.</summary>
    public IReadOnlyList<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = EncodeWords(text);
        var tokens = new string[ids.Length];
        for (int i = 0; i < ids.Length; i++)
            tokens[i] = _idToToken[ids[i]];
        return tokens;
    }

    /// <summary>Encodes a text or a text pair like Hugging Face's <c>tokenizer(text, text_pair, truncation=..., max_length=...)</c>.</summary>
    /// <param name="text">The first sequence.</param>
    /// <param name="textPair">The optional second sequence (token type 1).</param>
    /// <param name="maxLength">Maximum length in tokens, specials included; defaults to <see cref="ModelMaxLength"/>. A larger value is allowed.</param>
    /// <param name="truncation">Truncate to <paramref name="maxLength"/>; pairs use Hugging Face's longest_first strategy.</param>
    /// <param name="addSpecialTokens">Add [CLS] ... [SEP] (and ... [SEP] for the pair).</param>
    public EncodedInput Encode(string text, string? textPair = null, int? maxLength = null, bool truncation = true, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        int max = ResolveMaxLength(maxLength);
        int[] first = EncodeWords(text);
        int[]? second = textPair is null ? null : EncodeWords(textPair);
        return Assemble(first, second, max, truncation, addSpecialTokens);
    }

    /// <summary>
    /// Encodes one text like <see cref="Encode"/> (the same ids) and also gives each token's span in
    /// <paramref name="text"/> and the word it belongs to, like transformers' <c>return_offsets_mapping=True</c> and
    /// <c>word_ids()</c>. Offsets index the original string, whatever normalisation did to it (lower-casing, accent
    /// stripping, CJK spacing, control characters).
    /// </summary>
    /// <exception cref="NotSupportedException">The text has combining marks whose Unicode reordering makes offsets ambiguous.</exception>
    public EncodingWithOffsets EncodeWithOffsets(string text, int? maxLength = null, bool truncation = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        int max = ResolveMaxLength(maxLength);
        var ids = new List<int>();
        var spans = new List<TextSpan>();
        var wordOf = new List<int>();
        var words = new List<TextSpan>();
        if (text.Length > 0)
        {
            var (normalized, sources) = _offsetNormalizer.Normalize(text);
            TextSpan Original(int start, int end) => new(sources[start].Start, sources[end - 1].End);
            var tokens = normalized.Length == 0 ? [] : _wordPiece.EncodeToTokens(normalized, out _, considerPreTokenization: true, considerNormalization: false);
            int t = 0;
            foreach (var (offset, length) in HfBertPreTokenizer.Split(normalized))
            {
                int end = offset + length;
                bool tooLong = _countCodePoints && CountCodePoints(normalized.AsSpan(offset, length)) > MaxInputCharsPerWord;
                var word = Original(offset, end);
                int first = ids.Count;
                if (tooLong)
                {
                    ids.Add(UnkTokenId);
                    spans.Add(word);
                }
                while (t < tokens.Count && tokens[t].Offset.Start.Value < end)
                {
                    if (!tooLong)
                    {
                        var (s, e) = (tokens[t].Offset.Start.Value, tokens[t].Offset.End.Value);
                        ids.Add(tokens[t].Id);
                        // An [UNK] stands for its whole word; a piece for its own characters.
                        spans.Add(tokens[t].Id == UnkTokenId || s < offset || e > end || e <= s ? word : Original(s, e));
                    }
                    t++;
                }
                for (int k = first; k < ids.Count; k++) wordOf.Add(words.Count);
                if (ids.Count > first) words.Add(word);
            }
        }

        var encoding = Assemble(ids.ToArray(), null, max, truncation, addSpecialTokens: true);
        int kept = encoding.InputIds.Length - 2;
        var offsets = new TextSpan[encoding.InputIds.Length];
        var wordIds = new int?[encoding.InputIds.Length];
        for (int i = 0; i < kept; i++)
        {
            offsets[i + 1] = spans[i];
            wordIds[i + 1] = wordOf[i];
        }
        var keptWords = kept == 0 ? [] : words.Take(wordOf[kept - 1] + 1).ToList();
        if (kept > 0 && kept < ids.Count && wordOf[kept] == wordOf[kept - 1])
            keptWords[^1] = keptWords[^1] with { End = spans[kept - 1].End };
        return new EncodingWithOffsets(encoding, offsets, wordIds, keptWords);
    }

    /// <summary>
    /// Turns ids back into text like Hugging Face's <c>decode</c>: tokens joined by spaces, "##" pieces glued to
    /// the previous one, then the WordPiece decoder's cleanup (" ." → "." and so on). Unknown ids are skipped.
    /// </summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="skipSpecialTokens">Leave out [CLS], [SEP], [PAD], [UNK] and [MASK], as transformers does.</param>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var sb = new StringBuilder();
        bool first = true;
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_idToToken.Length || (skipSpecialTokens && _isSpecial[id]))
                continue;
            string token = _idToToken[id];
            string piece = first ? token
                : token.StartsWith(ContinuingSubwordPrefix, StringComparison.Ordinal) ? token[ContinuingSubwordPrefix.Length..]
                : " " + token;
            first = false;
            sb.Append(Cleanup(piece));
        }
        return sb.ToString();
    }

    // The Rust WordPiece decoder (cleanup: true) cleans each piece, with its leading space, on its own.
    private static readonly (string From, string To)[] Cleanups =
    [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
        (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ];

    private static string Cleanup(string piece)
    {
        if (piece.IndexOf(' ') < 0)
            return piece;
        foreach (var (from, to) in Cleanups)
            piece = piece.Replace(from, to, StringComparison.Ordinal);
        return piece;
    }

    /// <summary>The vocabulary entries of <paramref name="ids"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public IReadOnlyList<string> ConvertIdsToTokens(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var tokens = new List<string>();
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_idToToken.Length)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is outside the vocabulary (0..{_idToToken.Length - 1}).");
            tokens.Add(_idToToken[id]);
        }
        return tokens;
    }

    /// <summary>The id of a vocabulary entry, or <see cref="UnkTokenId"/> for an unknown token (as in Hugging Face).</summary>
    public int ConvertTokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _tokenToId.TryGetValue(token, out int id) ? id : UnkTokenId;
    }

    /// <summary>
    /// Writes vocab.txt, tokenizer_config.json, special_tokens_map.json and tokenizer.json (Hugging Face
    /// <c>tokenizers</c> format) so that <c>AutoTokenizer.from_pretrained(directory)</c> and
    /// <see cref="FromDirectory(string)"/> load the same tokenizer. Each file is written to a temporary name in the
    /// directory and then moved over the target, so a reader never sees a half-written file.
    /// </summary>
    public void SavePretrained(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        TokenizerFiles.WriteAtomically(directory, TokenizerFiles.VocabFile, TokenizerFiles.VocabTxt(_idToToken));
        TokenizerFiles.WriteAtomically(directory, TokenizerFiles.SpecialTokensMapFile, TokenizerFiles.SpecialTokensMapJson(this));
        TokenizerFiles.WriteAtomically(directory, TokenizerFiles.TokenizerJsonFile, TokenizerFiles.TokenizerJson(this, _idToToken));
        // Last, because transformers treats a directory with tokenizer_config.json as a complete tokenizer.
        TokenizerFiles.WriteAtomically(directory, TokenizerFiles.ConfigFile, TokenizerFiles.ConfigJson(this));
    }

    // ---- internals ----

    private int ResolveMaxLength(int? maxLength)
    {
        int max = maxLength ?? ModelMaxLength;
        if (max < 1)
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "max_length must be at least 1.");
        return max;
    }

    /// <summary>Word-piece ids of one sequence, no specials.</summary>
    internal int[] EncodeWords(string text)
    {
        if (text.Length == 0)
            return [];
        if (!_countCodePoints)
            return ToArray(_wordPiece.EncodeToIds(text, addSpecialTokens: false, considerPreTokenization: true, considerNormalization: true));

        var tokens = _wordPiece.EncodeToTokens(text, out string? normalized, considerPreTokenization: true, considerNormalization: true);
        normalized ??= text;
        var ids = new List<int>(tokens.Count);
        int t = 0;
        foreach (var (offset, length) in HfBertPreTokenizer.Split(normalized))
        {
            int end = offset + length;
            bool tooLong = CountCodePoints(normalized.AsSpan(offset, length)) > MaxInputCharsPerWord;
            if (tooLong)
                ids.Add(UnkTokenId);
            while (t < tokens.Count && tokens[t].Offset.Start.Value < end)
            {
                if (!tooLong) ids.Add(tokens[t].Id);
                t++;
            }
        }
        return ids.ToArray();
    }

    private static int CountCodePoints(ReadOnlySpan<char> s)
    {
        int n = s.Length;
        foreach (char c in s)
            if (char.IsLowSurrogate(c)) n--;
        return n;
    }

    private static int[] ToArray(IReadOnlyList<int> ids) =>
        ids is List<int> list ? CollectionsMarshal.AsSpan(list).ToArray() : ids.ToArray();

    private EncodedInput Assemble(int[] first, int[]? second, int maxLength, bool truncation, bool addSpecialTokens)
    {
        int nAdded = addSpecialTokens ? (second is null ? 2 : 3) : 0;
        int n1 = first.Length, n2 = second?.Length ?? 0;
        int original = n1 + n2 + nAdded;
        int keep1 = n1, keep2 = n2;
        if (truncation)
            (keep1, keep2) = TruncatedLengths(n1, n2, second is not null, maxLength, nAdded);

        int length = keep1 + keep2 + nAdded;
        var ids = new int[length];
        var types = new int[length];
        var mask = new int[length];
        mask.AsSpan().Fill(1);
        int w = 0;
        if (addSpecialTokens) ids[w++] = ClsTokenId;
        first.AsSpan(0, keep1).CopyTo(ids.AsSpan(w));
        w += keep1;
        if (addSpecialTokens) ids[w++] = SepTokenId;
        if (second is not null)
        {
            int typeStart = w;
            second.AsSpan(0, keep2).CopyTo(ids.AsSpan(w));
            w += keep2;
            if (addSpecialTokens) ids[w++] = SepTokenId;
            types.AsSpan(typeStart, w - typeStart).Fill(1);
        }
        return new EncodedInput(ids, mask, types, keep1 != n1 || keep2 != n2, original);
    }

    /// <summary>How many tokens of each sequence the Rust tokenizer keeps (longest_first, truncating on the right).</summary>
    internal static (int First, int Second) TruncatedLengths(int n1, int n2, bool isPair, int maxLength, int nAdded)
    {
        // When the special tokens alone exceed max_length, the Rust tokenizer caps each sequence at max_length.
        if (nAdded > maxLength)
            return (Math.Min(n1, maxLength), isPair ? Math.Min(n2, maxLength) : 0);
        int budget = maxLength - nAdded;
        if (n1 + n2 <= budget)
            return (n1, n2);
        if (!isPair)
            return (budget, 0);
        // The shorter sequence (the first one on a tie) keeps at most half the budget; the longer one gets the rest.
        if (n1 > n2)
        {
            int keepShort = Math.Min(n2, budget / 2);
            return (budget - keepShort, keepShort);
        }
        else
        {
            int keepShort = Math.Min(n1, budget / 2);
            return (keepShort, budget - keepShort);
        }
    }

    private int SpecialId(TokenizerSettings s, string name, string token)
    {
        if (_tokenToId.TryGetValue(token, out int id))
            return id;
        throw new InvalidDataException($"{s.Source}: the {name} '{TokenizerFiles.Printable(token)}' is not in the vocabulary.");
    }

    // Microsoft's loader reads one token per line and skips empty lines; tokens with line breaks cannot be
    // written that way, and since no pre-tokenized word contains one they can simply be left out.
    private static string MsVocabText(string[] vocab)
    {
        var sb = new StringBuilder(vocab.Length * 8);
        foreach (var token in vocab)
        {
            if (token.AsSpan().IndexOfAny('\r', '\n') < 0)
                sb.Append(token);
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
