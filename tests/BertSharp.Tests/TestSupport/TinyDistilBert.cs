using BertSharp.Modeling;
using static TorchSharp.torch;

namespace BertSharp.Tests.TestSupport;

/// <summary>
/// A small random DistilBERT classifier saved as a Hub-style model folder, for the tests of what users run on one
/// (Trainer, pipeline, predict, serve, train): the reference fixture's shape (dim 64, 2 layers, 4 heads, hidden_dim 256)
/// with bert-base-uncased's vocabulary (the stand-in's tokenizer files, as distilbert-base-uncased uses BERT's),
/// labels neg/pos, and a tokenizer_config.json without tokenizer_class, like distilbert-base-uncased's, so the class
/// comes from config.json's model_type. Its classifier is untrained: tests check behaviour, not accuracy.
/// </summary>
public static class TinyDistilBert
{
    private static readonly Lazy<TempDirectory> Shared = new(() =>
    {
        var dir = new TempDirectory("bertsharp-tiny-distilbert");
        Create(dir.Path);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => dir.Dispose();
        return dir;
    });

    /// <summary>One folder per test run, created on first use; treat it as read-only.</summary>
    public static string Directory => Shared.Value.Path;

    public static DistilBertConfig Config()
    {
        var config = DistilBertConfig.FromFile(System.IO.Path.Combine(SharedFiles.TinyDistilBertClsDir, "config.json"));
        config.VocabSize = 30522;
        config.Id2Label = new Dictionary<int, string> { [0] = "neg", [1] = "pos" };
        return config;
    }

    public static void Create(string directory, int seed = 3)
    {
        manual_seed(seed);
        using (var model = new DistilBertForSequenceClassification(Config()))
            model.SavePretrained(directory);
        foreach (var file in new[] { "vocab.txt", "tokenizer.json" })
            File.Copy(System.IO.Path.Combine(SharedFiles.TinyModelDir, file), System.IO.Path.Combine(directory, file), overwrite: true);
        File.WriteAllText(System.IO.Path.Combine(directory, "tokenizer_config.json"), "{\"do_lower_case\": true, \"model_max_length\": 512}\n");
    }
}
