using BertSharp.Training;

namespace BertSharp.Tests.Training;

/// <summary>
/// TF32 is a process-wide libtorch setting; on a CPU-only machine it changes no result, but the switches it sets are the
/// ones CUDA matmuls and cuDNN read, so the test checks they are really set and read back.
/// </summary>
public class Tf32Tests
{
    [Fact]
    public void ApplySetsAndClearsBothLibtorchSwitches()
    {
        var (matmul, cudnn) = (Tf32.MatmulEnabled, Tf32.CudnnEnabled);
        try
        {
            Tf32.Apply(true);
            Assert.True(Tf32.MatmulEnabled);
            Assert.True(TorchSharp.torch.backends.cuda.matmul.allow_tf32);
            Assert.True(TorchSharp.torch.backends.cudnn.allow_tf32);
            Tf32.Apply(false);
            Assert.False(Tf32.MatmulEnabled);
            Assert.False(Tf32.CudnnEnabled);
        }
        finally
        {
            TorchSharp.torch.backends.cuda.matmul.allow_tf32 = matmul;
            TorchSharp.torch.backends.cudnn.allow_tf32 = cudnn;
        }
    }
}
