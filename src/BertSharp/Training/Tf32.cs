using static TorchSharp.torch;

namespace BertSharp.Training;

/// <summary>
/// TensorFloat-32 for float32 matrix multiplications and convolutions on NVIDIA GPUs from Ampere on: inputs rounded
/// to 10 mantissa bits inside the tensor cores, float32 range and accumulation, several times float32's speed.
/// transformers' <c>tf32</c> argument sets <c>torch.backends.cuda.matmul.allow_tf32</c> and
/// <c>torch.backends.cudnn.allow_tf32</c>; TorchSharp 0.107 exposes exactly those two process-wide switches
/// (its <c>set_float32_matmul_precision</c> is declared but throws NotImplementedException), so this sets both.
/// </summary>
public static class Tf32
{
    /// <summary>Turns TF32 on or off for every later CUDA matmul and convolution in this process.</summary>
    public static void Apply(bool enabled)
    {
        backends.cuda.matmul.allow_tf32 = enabled;
        backends.cudnn.allow_tf32 = enabled;
    }

    /// <summary>Whether float32 matmuls may use TF32 now (libtorch's default is false; cuDNN's is true).</summary>
    public static bool MatmulEnabled => backends.cuda.matmul.allow_tf32;

    /// <summary>Whether cuDNN convolutions may use TF32 now.</summary>
    public static bool CudnnEnabled => backends.cudnn.allow_tf32;
}
