using static TorchSharp.torch;

namespace BertSharp.Modeling;

/// <summary>
/// Turns the 0/1 padding mask of the inputs into the <c>attn_mask</c> argument of scaled_dot_product_attention, once
/// per forward pass for every layer, the way transformers' <c>create_bidirectional_mask</c> does for SDPA.
/// </summary>
internal static class AttentionMask
{
    /// <summary>
    /// Null when no token is padding: SDPA then runs without a mask, which on a GPU lets PyTorch use flash attention
    /// (it takes no mask), and everywhere saves building and reading one. Otherwise a [batch, 1, 1, seq] bias added to the scores, in the dtype of the
    /// queries and keys (a mask of another dtype makes SDPA fall back to its unfused path): 0 keeps a key, the dtype's
    /// most negative finite value removes it after softmax (transformers' choice; -inf would give NaN rows for a fully
    /// padded sequence). Only keys are masked, so padded positions still get outputs, as in transformers.
    /// </summary>
    /// <param name="attentionMask">[batch, seq], 1 for real tokens and 0 for padding; null means no padding.</param>
    /// <param name="dtype">The dtype attention computes in.</param>
    /// <param name="inputShape">[batch, seq] of the inputs, which the mask must match.</param>
    public static Tensor? ForScores(Tensor? attentionMask, ScalarType dtype, ReadOnlySpan<long> inputShape)
    {
        if (attentionMask is null) return null;
        if (!attentionMask.shape.AsSpan().SequenceEqual(inputShape))
            throw new ArgumentException(
                $"attention_mask has shape [{string.Join(", ", attentionMask.shape)}] but input_ids has [{string.Join(", ", inputShape.ToArray())}].");
        // One host sync per forward pass, as transformers pays for the same check; on padded batches the mask is needed anyway.
        if (attentionMask.all().item<bool>()) return null;
        var min = dtype switch
        {
            ScalarType.Float16 => -65504.0,
            ScalarType.BFloat16 => -3.3895313892515355e38,
            ScalarType.Float64 => double.MinValue,
            _ => float.MinValue,
        };
        using var keep = attentionMask.to(dtype).unsqueeze(1).unsqueeze(1);
        return (1.0 - keep) * min;
    }
}
