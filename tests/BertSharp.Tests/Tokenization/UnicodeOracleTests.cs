using System.Text.Json;
using BertSharp.Tests.TestSupport;
using BertSharp.Tokenization;

namespace BertSharp.Tests.Tokenization;

/// <summary>
/// Compares the normalizer, pre-tokenizer and ids with Hugging Face tokenizers' own output on text built to hit
/// every boundary of the Unicode tables (Oracle/unicode-oracle.json, made by Oracle/generate-unicode-oracle.js).
/// </summary>
public sealed class UnicodeOracleTests
{
    private sealed record OracleCase(string Text, Dictionary<string, string> Normalized, string[] Words, int[] Ids);

    private static readonly Lazy<(Dictionary<string, HfBertNormalizer> Configs, List<OracleCase> Cases)> Oracle = new(Load);

    private static (Dictionary<string, HfBertNormalizer>, List<OracleCase>) Load()
    {
        string path = Path.Combine(SharedFiles.RepoRoot, "tests", "BertSharp.Tests", "Tokenization", "Oracle", "unicode-oracle.json");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var configs = new Dictionary<string, HfBertNormalizer>();
        foreach (var c in doc.RootElement.GetProperty("configs").EnumerateObject())
            configs[c.Name] = new HfBertNormalizer(
                c.Value.GetProperty("cleanText").GetBoolean(), c.Value.GetProperty("handleChineseChars").GetBoolean(),
                c.Value.GetProperty("stripAccents").GetBoolean(), c.Value.GetProperty("lowercase").GetBoolean());
        var cases = doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => new OracleCase(
            c.GetProperty("text").GetString()!,
            c.GetProperty("normalized").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
            c.GetProperty("words").EnumerateArray().Select(w => w.GetString()!).ToArray(),
            c.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray())).ToList();
        return (configs, cases);
    }

    private static string Show(string s) => string.Join(" ", s.EnumerateRunes().Select(r => $"U+{r.Value:X4}"));

    [Fact]
    public void OracleCoversTheTables()
    {
        var (configs, cases) = Oracle.Value;
        Assert.Equal(["default", "lower_only", "strip_only", "raw"], configs.Keys);
        Assert.True(cases.Count > 1000, $"only {cases.Count} oracle cases");
    }

    [Fact]
    public void NormalizerMatchesHuggingFaceInEveryConfiguration()
    {
        var (configs, cases) = Oracle.Value;
        var failures = new List<string>();
        foreach (var c in cases)
            foreach (var (name, normalizer) in configs)
            {
                string got = normalizer.Normalize(c.Text), want = c.Normalized[name];
                if (got != want)
                    failures.Add($"{name}: text [{Show(c.Text)}]\n  got  [{Show(got)}]\n  want [{Show(want)}]");
            }
        Assert.True(failures.Count == 0, $"{failures.Count} differences, first ones:\n" + string.Join("\n", failures.Take(10)));
    }

    [Fact]
    public void PreTokenizerMatchesHuggingFace()
    {
        var failures = new List<string>();
        foreach (var c in Oracle.Value.Cases)
        {
            var got = HfBertPreTokenizer.Split(c.Text).Select(w => c.Text.Substring(w.Offset, w.Length)).ToArray();
            if (!got.SequenceEqual(c.Words))
                failures.Add($"text [{Show(c.Text)}]: got {got.Length} words, want {c.Words.Length}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} differences:\n" + string.Join("\n", failures.Take(10)));
    }

    [Fact]
    public void IdsMatchHuggingFace()
    {
        var tok = HfReference.BaseUncased;
        var failures = new List<string>();
        foreach (var c in Oracle.Value.Cases)
        {
            var got = tok.Encode(c.Text, addSpecialTokens: false, truncation: false).InputIds;
            if (!got.SequenceEqual(c.Ids))
                failures.Add($"text [{Show(c.Text)}]: got [{string.Join(",", got)}], want [{string.Join(",", c.Ids)}]");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} differences:\n" + string.Join("\n", failures.Take(10)));
    }
}
