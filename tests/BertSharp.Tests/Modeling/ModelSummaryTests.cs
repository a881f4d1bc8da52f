using BertSharp.Modeling;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Modeling;

public class ModelSummaryTests
{
    [Fact]
    public void CountsEveryParameterOnceAndShowsWhereTheyAre()
    {
        using var model = BertForSequenceClassification.FromPretrained(SharedFiles.TinyModelDir, numLabels: 2, options: new PretrainedOptions { Log = _ => { } });
        var rows = ModelSummary.Count(model);
        var total = rows[^1];
        Assert.Equal("total", total.Module);
        Assert.Equal(model.parameters().Sum(p => p.numel()), total.Parameters);
        Assert.Equal(total.Parameters, rows.SkipLast(1).Sum(r => r.Parameters));
        var words = rows.Single(r => r.Module == "bert.embeddings.word_embeddings");
        Assert.Equal(30522L * 128, words.Parameters);
        Assert.Contains(rows, r => r.Module == "bert.encoder.layer.1");
        Assert.Contains(rows, r => r.Module == "classifier" && r.Parameters == 2 * 128 + 2);
        Assert.Contains("bert.embeddings.word_embeddings", ModelSummary.ToText(rows));
    }
}
