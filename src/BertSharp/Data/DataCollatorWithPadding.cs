using static TorchSharp.torch;

namespace BertSharp.Data;

/// <summary>How <see cref="DataCollatorWithPadding"/> pads a batch, as in transformers' <c>padding=</c> argument.</summary>
public enum PaddingStrategy
{
    /// <summary>Pad to the longest example of the batch (dynamic padding; transformers' <c>padding=True</c>).</summary>
    Longest,
    /// <summary>Pad every example to a fixed length (<c>padding="max_length"</c>, what the Python tutorial's tokenize step does).</summary>
    MaxLength,
    /// <summary>No padding: every example must already have the same length, since a batch is a rectangle.</summary>
    DoNotPad,
}

/// <summary>A batch of model inputs on a device: [batch, seq] ids and attention mask, and the [batch] labels when the examples have them.</summary>
/// <param name="HasPadding">Whether any example was padded, known on the host when the batch was built.</param>
public sealed record Batch(Tensor InputIds, Tensor AttentionMask, Tensor? Labels, bool HasPadding = true)
{
    public int Size => (int)InputIds.shape[0];
    public int SequenceLength => (int)InputIds.shape[1];

    /// <summary>
    /// The mask to hand the model: null when nothing is padded. The model would find that out itself, but only by
    /// reading the mask back from the device — a wait for the GPU on every forward pass that the host can spare it.
    /// </summary>
    public Tensor? ModelAttentionMask => HasPadding ? AttentionMask : null;
}

/// <summary>
/// transformers' <c>DataCollatorWithPadding</c>, the one place examples are padded: ids padded on the right with the
/// [PAD] id and a 0 in the attention mask. Labels are collated when every example has one and left out when none has
/// (prediction); a mix is a mistake.
/// </summary>
public sealed class DataCollatorWithPadding
{
    public DataCollatorWithPadding(int padTokenId, PaddingStrategy padding = PaddingStrategy.Longest, int? maxLength = null)
    {
        if (padding == PaddingStrategy.MaxLength && maxLength is not >= 1)
            throw new ArgumentException("Padding to MaxLength needs a maxLength of at least 1.");
        PadTokenId = padTokenId;
        Padding = padding;
        MaxLength = maxLength;
    }

    public int PadTokenId { get; }
    public PaddingStrategy Padding { get; }
    public int? MaxLength { get; }

    public Batch Collate(IReadOnlyList<TokenizedExample> examples, Device device)
    {
        if (examples.Count == 0) throw new ArgumentException("Cannot collate an empty batch.");
        var length = PaddedLength(examples);
        var labeled = examples.Count(e => e.Label is not null);
        if (labeled != 0 && labeled != examples.Count)
            throw new ArgumentException($"{labeled} of the batch's {examples.Count} examples have labels: a batch is either all labelled (training, evaluation) or not at all (prediction).");

        var ids = new long[examples.Count * length];
        var mask = new long[ids.Length];
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
        }
        var shape = new long[] { examples.Count, length };
        return new Batch(
            ToDevice(tensor(ids, shape), device),
            ToDevice(tensor(mask, shape), device),
            labeled == 0 ? null : ToDevice(tensor(examples.Select(e => (long)e.Label!.Value).ToArray()), device),
            HasPadding: examples.Any(e => e.InputIds.Length < length));
    }

    /// <summary>
    /// To a GPU, through pinned (page-locked) host memory and an asynchronous copy, so the host goes on queueing the
    /// step's kernels instead of waiting for the transfer (PyTorch's <c>pin_memory=True</c> plus <c>non_blocking=True</c>).
    /// libtorch's caching host allocator keeps the pinned block alive until the copy is done.
    /// </summary>
    private static Tensor ToDevice(Tensor host, Device device)
    {
        if (device.type != TorchSharp.DeviceType.CUDA) return host;
        using (host)
        using (var pinned = host.pin_memory())
            return pinned.to(device, non_blocking: true);
    }

    private int PaddedLength(IReadOnlyList<TokenizedExample> examples)
    {
        var longest = examples.Max(e => e.InputIds.Length);
        switch (Padding)
        {
            case PaddingStrategy.Longest:
                return longest;
            case PaddingStrategy.MaxLength:
                if (longest > MaxLength)
                    throw new ArgumentException($"An example has {longest} tokens, more than the padding length {MaxLength}: padding does not truncate; tokenize with maxLength: {MaxLength}.");
                return MaxLength!.Value;
            default:
                if (examples.Any(e => e.InputIds.Length != longest))
                    throw new ArgumentException("The examples have different lengths and padding is DoNotPad, so they cannot form a [batch, seq] rectangle; use Longest or MaxLength padding.");
                return longest;
        }
    }
}
