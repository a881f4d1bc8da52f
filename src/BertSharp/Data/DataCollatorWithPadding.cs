using static TorchSharp.torch;

namespace BertSharp.Data;

/// <summary>A batch of tensors on the training device: [batch, seq] ids, mask and segment ids, and [batch] labels.</summary>
public sealed record Batch(Tensor InputIds, Tensor AttentionMask, Tensor TokenTypeIds, Tensor Labels)
{
    public int Size => (int)InputIds.shape[0];
    public int SequenceLength => (int)InputIds.shape[1];
}

/// <summary>
/// transformers' <c>DataCollatorWithPadding</c>: pads every example to the longest in its batch (dynamic padding)
/// with the [PAD] id, a 0 in the attention mask, and segment id 0.
/// </summary>
public sealed class DataCollatorWithPadding(int padTokenId)
{
    public int PadTokenId { get; } = padTokenId;

    public Batch Collate(IReadOnlyList<TokenizedExample> examples, Device device)
    {
        if (examples.Count == 0) throw new ArgumentException("Cannot collate an empty batch.", nameof(examples));
        var length = examples.Max(e => e.InputIds.Length);
        var ids = new long[examples.Count * length];
        var mask = new long[ids.Length];
        var labels = new long[examples.Count];
        for (var row = 0; row < examples.Count; row++)
        {
            var source = examples[row].InputIds;
            var offset = row * length;
            for (var i = 0; i < length; i++)
            {
                var real = i < source.Length;
                ids[offset + i] = real ? source[i] : PadTokenId;
                mask[offset + i] = real ? 1 : 0;
            }
            labels[row] = examples[row].Label;
        }
        var shape = new long[] { examples.Count, length };
        return new Batch(
            tensor(ids, shape, device: device),
            tensor(mask, shape, device: device),
            zeros(shape, ScalarType.Int64, device: device),
            tensor(labels, device: device));
    }
}
