using BertSharp.Tests.TestSupport;
using BertSharp.Tokenization;
using Xunit.Abstractions;

namespace BertSharp.Tests.Tokenization;

public sealed class HfReferenceTokenizerTests(ITestOutputHelper output)
{
    [Fact]
    public void ReferenceHasTheExpectedShape()
    {
        Assert.Equal(318, HfReference.Cases.Count);
        Assert.Equal("", HfReference.Cases[0].Text);
        Assert.True(HfReference.Cases.Count(c => c.InputIds.Length == 512) > 10, "some IMDb reviews should hit the 512 limit");
    }

    [Fact]
    public void AllReferenceCasesGiveHuggingFacesIdsAndTokens()
    {
        var failures = HfReference.Cases.Select(c => HfReference.Compare(HfReference.BaseUncased, c)).Where(f => f.Length > 0).ToList();
        foreach (var f in failures.Take(20)) output.WriteLine(f);
        Assert.True(failures.Count == 0, $"{failures.Count} of {HfReference.Cases.Count} cases differ:\n" + string.Join("\n", failures.Take(20)));
    }

    [Fact]
    public void ModelDirectoryTokenizerJsonAloneAndVocabTxtGiveIdenticalOutput()
    {
        var fromVocab = HfReference.BaseUncased;
        var fromModelDir = BertTokenizer.FromDirectory(SharedFiles.TinyModelDir);
        string jsonOnly = Directory.CreateTempSubdirectory("bertsharp-tok-json-").FullName;
        try
        {
            File.Copy(Path.Combine(SharedFiles.TinyModelDir, "tokenizer.json"), Path.Combine(jsonOnly, "tokenizer.json"));
            File.Copy(Path.Combine(SharedFiles.TinyModelDir, "tokenizer_config.json"), Path.Combine(jsonOnly, "tokenizer_config.json"));
            var fromJson = BertTokenizer.FromDirectory(jsonOnly);

            foreach (var tok in new[] { fromModelDir, fromJson })
            {
                Assert.Equal(fromVocab.VocabSize, tok.VocabSize);
                Assert.Equal((fromVocab.PadTokenId, fromVocab.ClsTokenId, fromVocab.SepTokenId, fromVocab.UnkTokenId, fromVocab.MaskTokenId),
                             (tok.PadTokenId, tok.ClsTokenId, tok.SepTokenId, tok.UnkTokenId, tok.MaskTokenId));
                Assert.Equal((true, (bool?)null, true, 512), (tok.DoLowerCase, tok.StripAccents, tok.TokenizeChineseChars, tok.ModelMaxLength));
                Assert.Equal(fromVocab.ConvertIdsToTokens(Enumerable.Range(0, fromVocab.VocabSize)), tok.ConvertIdsToTokens(Enumerable.Range(0, tok.VocabSize)));
                foreach (var c in HfReference.Cases)
                    Assert.Equal(fromVocab.Encode(c.Text).InputIds, tok.Encode(c.Text).InputIds);
            }
            Assert.All(HfReference.Cases, c => Assert.Equal("", HfReference.Compare(fromJson, c)));
        }
        finally
        {
            Directory.Delete(jsonOnly, recursive: true);
        }
    }
}
