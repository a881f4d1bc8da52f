using BertSharp.Safetensors;
using BertSharp.Tests.TestSupport;
using static BertSharp.Tests.Safetensors.SafetensorsTestSupport;
using static TorchSharp.torch;

namespace BertSharp.Tests.Safetensors;

/// <summary>Files written by Python's safetensors (transformers 5.17, torch 2.11), see ../shared/README.md.</summary>
public sealed class SafetensorsReferenceFileTests
{
    private static string TinyCls(params string[] parts) => SharedFiles.Path(["fixtures", "hf-reference", "tiny-cls", .. parts]);

    [Fact]
    public void ReadsTheTransformersModelFile()
    {
        using var file = SafetensorsFile.Open(TinyCls("model.safetensors"));

        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(41, file.Tensors.Count);
        Assert.All(file.Tensors, t => Assert.Equal(SafetensorsDtype.F32, t.Dtype));

        var info = file.GetInfo("bert.embeddings.word_embeddings.weight");
        Assert.Equal(SafetensorsDtype.F32, info.Dtype);
        Assert.Equal([1000L, 64], info.Shape);

        using var embeddings = file.ReadTensor("bert.embeddings.word_embeddings.weight");
        Assert.Equal(ScalarType.Float32, embeddings.dtype);
        Assert.Equal([1000L, 64], embeddings.shape);
        // Row 0 is the padding token's, zeroed by BertEmbeddings; the last values were read with Python's struct.
        Assert.Equal(0.0, embeddings[0].abs().sum().item<float>());
        var tail = embeddings[999][TensorIndex.Slice(60)].data<float>().ToArray();
        Assert.Equal([-0.016858842223882675f, 0.021487461403012276f, -0.007029752712696791f, 0.01973652094602585f], tail);
    }

    [Fact]
    public void ReadsTheReferenceOutputsFile()
    {
        using var file = SafetensorsFile.Open(TinyCls("reference.safetensors"));

        Assert.Empty(file.Metadata);
        var listing = file.Tensors.ToDictionary(t => t.Name, t => (t.Dtype, Shape: string.Join(",", t.Shape)));
        Assert.Equal(new Dictionary<string, (SafetensorsDtype, string)>
        {
            ["attention_mask"] = (SafetensorsDtype.I64, "3,32"),
            ["input_ids"] = (SafetensorsDtype.I64, "3,32"),
            ["token_type_ids"] = (SafetensorsDtype.I64, "3,32"),
            ["train_labels"] = (SafetensorsDtype.I64, "3"),
            ["last_hidden_state"] = (SafetensorsDtype.F32, "3,32,64"),
            ["logits"] = (SafetensorsDtype.F32, "3,2"),
            ["pooler_output"] = (SafetensorsDtype.F32, "3,64"),
            ["train_grad_norms"] = (SafetensorsDtype.F32, "3"),
            ["train_learning_rates"] = (SafetensorsDtype.F32, "3"),
            ["train_logits_after_3_steps"] = (SafetensorsDtype.F32, "3,2"),
            ["train_losses"] = (SafetensorsDtype.F32, "3"),
        }, listing);

        // Python orders data by alignment before name; Tensors must follow the data regardless.
        for (var i = 1; i < file.Tensors.Count; i++)
            Assert.Equal(file.Tensors[i - 1].End, file.Tensors[i].Begin);

        using var inputIds = file.ReadTensor("input_ids");
        Assert.Equal([2L, 269, 542, 194, 6, 622], inputIds[0][TensorIndex.Slice(0, 6)].data<long>().ToArray());
        using var labels = file.ReadTensor("train_labels");
        Assert.Equal([0L, 1, 1], labels.data<long>().ToArray());
        using var logits = file.ReadTensor("logits");
        Assert.Equal(0.005732698366045952f, logits[0][0].item<float>());
    }

    [Fact]
    public void OpensTheLegacyCheckpoint()
    {
        using var file = SafetensorsFile.Open(TinyCls("legacy", "model.safetensors"));

        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(46, file.Tensors.Count);
        Assert.Contains(file.Tensors, t => t.Name.EndsWith(".gamma", StringComparison.Ordinal));
    }

    [Fact]
    public void RewritingThePythonFileKeepsEveryTensor()
    {
        using var dir = new TempDirectory();
        var copyPath = dir.File("copy.safetensors");
        using var original = SafetensorsFile.Open(TinyCls("model.safetensors"));
        var tensors = original.Tensors.Select(t => new KeyValuePair<string, Tensor>(t.Name, original.ReadTensor(t.Name))).ToList();

        try
        {
            SafetensorsWriter.Save(copyPath, tensors, original.Metadata);

            using var copy = SafetensorsFile.Open(copyPath);
            Assert.Equal(original.Metadata, copy.Metadata);
            Assert.Equal(original.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal), copy.Tensors.Select(t => t.Name));
            foreach (var (name, tensor) in tensors)
            {
                using var read = copy.ReadTensor(name);
                AssertSameTensor(tensor, read);
            }
        }
        finally
        {
            foreach (var (_, tensor) in tensors)
                tensor.Dispose();
        }
    }
}
