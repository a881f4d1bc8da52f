using System.Runtime.InteropServices;

namespace BertSharp.Training;

/// <summary>
/// libtorch's CPU tensors come from glibc malloc, which serves large blocks (activations, attention scores, the
/// embedding gradient: megabytes each) with fresh mmap calls and returns them on free. Every training step then
/// page-faults its whole working set in again, which measured here at 2.4× the step time of the tiny model.
/// Keeping freed memory in the heap for reuse removes that; memory stays flat at the peak of one step.
/// </summary>
/// <remarks>
/// What that costs: freed blocks stay resident, and blocks of one batch's sizes do not always fit the next batch's
/// (longer sequences, or small long-lived allocations between them), so resident memory can climb well above what is
/// in use: bert-base evaluating 16 × 512 tokens on the CPU holds ~270 MiB of tensors at its peak but grew by ~240 MiB a
/// pass without ever returning any. <see cref="ReleaseFreeMemory()"/> gives the free pages back (malloc_trim) at a
/// boundary the caller chooses — after an evaluation batch, after an evaluation, when a server goes idle — at the cost
/// of faulting them in again on the next use, which for bert-base-sized batches is about 1% of the batch's time.
/// </remarks>
public static class NativeAllocator
{
    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_MAX = -4;
    private static int _tuned;

    /// <summary>Tunes glibc malloc once per process on Linux; elsewhere (or with another libc) does nothing.</summary>
    public static bool KeepFreedMemoryForReuse()
    {
        if (!OperatingSystem.IsLinux()) return false;
        if (Interlocked.Exchange(ref _tuned, 1) == 1) return true;
        try
        {
            // No mmap for big blocks (they come from the heap and are reused), and never trim the heap back to the OS.
            var tuned = mallopt(M_MMAP_MAX, 0) == 1 & mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
            // Freed blocks pile up from here on: this is where ReleaseFreeMemoryBeyond starts counting.
            Interlocked.CompareExchange(ref _unaccountedAtRelease, Unaccounted() ?? -1, -1);
            return tuned;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // musl or another libc: nothing to tune
        }
    }

    /// <summary>
    /// Bytes the C heap has handed out and not yet freed (glibc's mallinfo2: in-use heap plus mmapped blocks), or null
    /// where that is not available. Unlike resident memory it does not include freed memory kept for reuse, so it
    /// shows a leak of native tensors directly.
    /// </summary>
    public static long? BytesInUse() => Info() is { } info ? (long)(info.uordblks + info.hblkhd) : null;

    /// <summary>Freed bytes the C heap keeps for reuse (mallinfo2's fordblks), or null where that is not available.</summary>
    public static long? FreeBytesRetained() => Info() is { } info ? (long)info.fordblks : null;

    /// <summary>
    /// Returns the heap's free pages to the operating system (glibc's malloc_trim); true when it ran. Call it between
    /// units of work (after training, after an evaluation batch), never inside one: what it releases is faulted in again
    /// on the next allocation.
    /// </summary>
    public static bool ReleaseFreeMemory()
    {
        try
        {
            malloc_trim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
        Volatile.Write(ref _unaccountedAtRelease, Unaccounted() ?? -1);
        return true;
    }

    /// <summary>
    /// <see cref="ReleaseFreeMemory()"/>, but only when resident memory has grown by more than <paramref name="bytes"/>
    /// beyond the heap's live blocks since the last release: when freed blocks are piling up, not when the same ones
    /// are being reused. (The heap's own free-byte count cannot tell: it also counts free pages already released.)
    /// </summary>
    public static bool ReleaseFreeMemoryBeyond(long bytes)
    {
        if (Volatile.Read(ref _holds) > 0 || Unaccounted() is not { } now) return false;
        var before = Volatile.Read(ref _unaccountedAtRelease);
        return (before < 0 || now - before > bytes) && ReleaseFreeMemory();
    }

    /// <summary>
    /// Until the returned object is disposed, <see cref="ReleaseFreeMemoryBeyond"/> releases nothing. A training loop
    /// holds it: its steps reuse the blocks that its evaluations free, so giving them back in between would only make
    /// the next steps fault them in again. (The heap is the process's, so the hold is too.)
    /// </summary>
    public static IDisposable HoldFreedMemory()
    {
        Interlocked.Increment(ref _holds);
        return new Hold();
    }

    private static int _holds;

    private sealed class Hold : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) Interlocked.Decrement(ref _holds);
        }
    }

    // Resident bytes that are not live C-heap blocks (free heap pages kept, the managed heap, code) right after the
    // last release, or when the heap was tuned; -1 before either.
    private static long _unaccountedAtRelease = -1;

    private static long? Unaccounted() =>
        ResidentMemory.Read() is { } resident && BytesInUse() is { } inUse ? resident.CurrentBytes - inUse : null;

    private static MallInfo2? Info()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            return mallinfo2();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 mallinfo2();

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);
}
