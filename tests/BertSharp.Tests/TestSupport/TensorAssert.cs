using static TorchSharp.torch;

namespace BertSharp.Tests.TestSupport;

public static class TensorAssert
{
    /// <summary>Same dtype, shape and bytes: "bit-identical", NaN payloads included.</summary>
    public static bool BitEqual(Tensor a, Tensor b)
    {
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape)) return false;
        using var ca = a.detach().cpu().contiguous();
        using var cb = b.detach().cpu().contiguous();
        return ca.bytes.SequenceEqual(cb.bytes);
    }
}
