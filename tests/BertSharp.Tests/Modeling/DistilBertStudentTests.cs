using BertSharp.Modeling;
using BertSharp.Safetensors;
using BertSharp.Tests.TestSupport;
using static TorchSharp.torch;

namespace BertSharp.Tests.Modeling;

/// <summary>A DistilBERT started from a BERT's layers computes what the BERT computes on those layers.</summary>
public sealed class DistilBertStudentTests
{
    private static readonly PretrainedOptions Quiet = new() { Log = _ => { } };

    private static (Tensor Ids, Tensor Mask) Inputs()
    {
        using var file = SafetensorsFile.Open(Path.Combine(SharedFiles.TinyClsDir, "reference.safetensors"));
        return (file.ReadTensor("input_ids"), file.ReadTensor("attention_mask"));
    }

    [Fact]
    public void AStudentWithEveryLayerHasTheTeachersHiddenStatesForASingleText()
    {
        using var teacher = BertForSequenceClassification.FromPretrained(SharedFiles.TinyClsDir, options: Quiet);
        using var student = DistilBertStudent.FromBert(teacher, layers: [0, 1]);
        teacher.eval();
        student.eval();
        var (ids, mask) = Inputs();
        using var _ = no_grad();
        // Segment 0 everywhere: what a single review uses, and what the folded token-type embedding stands for.
        var expected = teacher.Bert.forward(ids, mask, zeros_like(ids)).LastHiddenState;
        var actual = student.DistilBert.forward(ids, mask);
        // Same kernels in another order (the embedding sum): float32 rounding, far below what a wrong layer would move.
        var difference = (expected - actual).abs().max().item<float>();
        Assert.True(difference < 1e-5, $"max |difference| = {difference}");
    }

    [Fact]
    public void TheDefaultStudentKeepsOneLayerOutOfTwoAndANewHead()
    {
        Assert.Equal([0, 2, 4, 6, 8, 10], DistilBertStudent.EveryOtherLayer(12));
        Assert.Equal([0], DistilBertStudent.EveryOtherLayer(2));
        using var teacher = BertForSequenceClassification.FromPretrained(SharedFiles.TinyModelDir, numLabels: 2,
            options: Quiet with { Id2Label = new Dictionary<int, string> { [0] = "neg", [1] = "pos" } });
        using var student = DistilBertStudent.FromBert(teacher);
        Assert.Equal(1, student.Config.NLayers);
        Assert.Equal((teacher.Config.HiddenSize, teacher.Config.IntermediateSize), (student.Config.Dim, student.Config.HiddenDim));
        Assert.Equal(["neg", "pos"], student.Config.Id2Label.Values);
        Assert.True(TensorAssert.BitEqual(teacher.state_dict()["bert.encoder.layer.0.output.dense.weight"], student.state_dict()["distilbert.transformer.layer.0.ffn.lin2.weight"]));
        Assert.Contains("pre_classifier.weight", student.LoadingInfo!.MissingKeys);
        // The student is a DistilBERT like any other: it saves and loads back through the Auto class.
        using var dir = new TempDirectory();
        student.SavePretrained(dir.Path);
        using var loaded = AutoModelForSequenceClassification.FromPretrained(dir.Path, options: Quiet);
        Assert.IsType<DistilBertForSequenceClassification>(loaded);

        Assert.Throws<ArgumentException>(() => DistilBertStudent.FromBert(teacher, layers: [2]));
        Assert.Throws<ArgumentException>(() => DistilBertStudent.FromBert(teacher, layers: []));
    }
}
