using System.Text.Json;
using BertSharp.Tests.TestSupport;
using BertSharp.Tokenization;

namespace BertSharp.Tests.Tokenization;

/// <summary>The shared Hugging Face reference (318 texts with bert-base-uncased ids) and tokenizers built from the shared files.</summary>
internal static class HfReference
{
    internal sealed record Case(int Index, string Text, int[] InputIds, string[] Tokens);

    private static readonly Lazy<IReadOnlyList<Case>> LazyCases = new(Load);
    private static readonly Lazy<BertTokenizer> LazyBaseUncased = new(() =>
        BertTokenizer.FromVocabFile(SharedFiles.Path("data", "bert-base-uncased", "vocab.txt")));

    public static IReadOnlyList<Case> Cases => LazyCases.Value;

    /// <summary>bert-base-uncased from vocab.txt with its defaults (lowercase, accents stripped, 512).</summary>
    public static BertTokenizer BaseUncased => LazyBaseUncased.Value;

    public static string VocabPath => SharedFiles.Path("data", "bert-base-uncased", "vocab.txt");

    public static IReadOnlyList<string> ImdbTexts => Cases.Skip(18).Select(c => c.Text).ToList();

    private static IReadOnlyList<Case> Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(SharedFiles.Path("fixtures", "hf-reference", "tokenizer-reference.json")));
        var cases = new List<Case>();
        int i = 0;
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            cases.Add(new Case(
                i++,
                c.GetProperty("text").GetString()!,
                c.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                c.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()!).ToArray()));
        }
        return cases;
    }

    /// <summary>Empty when the ids and tokens match; otherwise a description of the first difference.</summary>
    public static string Compare(BertTokenizer tok, Case c)
    {
        var enc = tok.Encode(c.Text);
        var tokens = tok.ConvertIdsToTokens(enc.InputIds);
        int n = Math.Max(enc.InputIds.Length, c.InputIds.Length);
        for (int i = 0; i < n; i++)
        {
            bool idOk = i < enc.InputIds.Length && i < c.InputIds.Length && enc.InputIds[i] == c.InputIds[i];
            bool tokOk = i < tokens.Count && i < c.Tokens.Length && tokens[i] == c.Tokens[i];
            if (!idOk || !tokOk)
            {
                string Got(int k) => k < tokens.Count ? $"{enc.InputIds[k]} '{tokens[k]}'" : "<end>";
                string Want(int k) => k < c.InputIds.Length ? $"{c.InputIds[k]} '{c.Tokens[k]}'" : "<end>";
                string text = c.Text.Length > 300 ? c.Text[..300] + "..." : c.Text;
                return $"case {c.Index}: first difference at position {i}: got {Got(i)}, expected {Want(i)} " +
                       $"(lengths {enc.InputIds.Length} vs {c.InputIds.Length}); text: {JsonSerializer.Serialize(text)}";
            }
        }
        return "";
    }
}
