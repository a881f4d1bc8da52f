using TorchSharp;
using static TorchSharp.torch;

namespace BertSharp.Training;

/// <summary>
/// Turns <see cref="DeviceChoice"/> and the precision arguments (<see cref="TrainingArguments.Bf16"/>,
/// <see cref="TrainingArguments.Fp16"/>, <see cref="TrainingArguments.Tf32"/>) into a device, or says why it can't.
/// </summary>
public static class TrainingDevice
{
    /// <summary>The device for <paramref name="args"/>, checked against its precision settings.</summary>
    public static Device Resolve(TrainingArguments args) => Resolve(args.Device, args.Bf16, args.Fp16, args.Tf32 == true);

    public static Device Resolve(DeviceChoice choice, bool bf16 = false, bool fp16 = false, bool tf32 = false)
    {
        var cudaAvailable = cuda.is_available();
        var device = choice switch
        {
            DeviceChoice.Cpu => CPU,
            DeviceChoice.Cuda when cudaAvailable => CUDA,
            DeviceChoice.Cuda => throw new NotSupportedException(
                "Device = cuda, but TorchSharp sees no CUDA GPU. Build with -p:TorchBackend=cuda (TorchSharp-cuda-linux) or " +
                "-p:TorchBackend=system with a CUDA libtorch on the library path, or use Device = cpu."),
            _ => cudaAvailable ? CUDA : CPU,
        };
        if (bf16 && device.type != TorchSharp.DeviceType.CUDA)
            throw new NotSupportedException(
                "Bf16 = true needs a CUDA GPU: on the CPU bfloat16 matrix multiplications are slower than float32, so BertSharp " +
                "refuses rather than silently slowing training down. Set Bf16 = false (--bf16 false) on this machine.");
        if (fp16 && device.type != TorchSharp.DeviceType.CUDA)
            throw new NotSupportedException(
                "Fp16 = true needs a CUDA GPU: float16 with loss scaling is a GPU speed-up (for GPUs without bfloat16, such as the T4 " +
                "and V100); on the CPU it would only be slower and less exact. Set Fp16 = false (--fp16 false) on this machine.");
        if (tf32 && device.type != TorchSharp.DeviceType.CUDA)
            throw new NotSupportedException(
                "Tf32 = true needs a CUDA GPU (Ampere or newer): TensorFloat-32 is a mode of NVIDIA tensor cores. " +
                "Leave Tf32 unset (or --tf32 false) on this machine.");
        return device;
    }

    /// <summary>
    /// Resolves the device, moves <paramref name="model"/> there and sets its compute precision — what every command that
    /// runs a model does first. On the CPU, glibc malloc is tuned to keep freed blocks (see <see cref="NativeAllocator"/>).
    /// </summary>
    public static Device Prepare(Modeling.SequenceClassificationModel model, DeviceChoice choice, bool bf16 = false) =>
        Prepare(model, new TrainingArguments { Device = choice, Bf16 = bf16 });

    /// <summary>
    /// Moves <paramref name="model"/> to the device for <paramref name="args"/> and sets its compute dtype (bf16, fp16
    /// or float32) and, where asked, TF32 for the whole process (libtorch's switch is global, as in PyTorch).
    /// </summary>
    public static Device Prepare(Modeling.SequenceClassificationModel model, TrainingArguments args)
    {
        var device = Resolve(args);
        if (device.type == TorchSharp.DeviceType.CPU) NativeAllocator.KeepFreedMemoryForReuse();
        if (device.type == TorchSharp.DeviceType.CUDA && args.Tf32 is { } tf32) Training.Tf32.Apply(tf32);
        model.to(device);
        model.Precision.ComputeDtype = args.Bf16 ? ScalarType.BFloat16 : args.Fp16 ? ScalarType.Float16 : ScalarType.Float32;
        return device;
    }
}
