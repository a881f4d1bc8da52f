using BertSharp.Data;
using BertSharp.Modeling;
using BertSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace BertSharp.Inference;

/// <summary>What <see cref="PredictionLoop.Run"/> returns: every example's logits in the caller's order, the mean loss when all examples had labels, and the number of forward passes.</summary>
public sealed record PredictionLoopOutput(float[][] Logits, double? MeanLoss, int Batches);

/// <summary>
/// The one loop that turns tokenized examples into logits — used by <see cref="Training.Trainer"/>'s evaluation and
/// prediction, by <see cref="TextClassificationPipeline"/> and by <c>bertsharp evaluate</c>. Examples go through the
/// model in length-sorted batches (<see cref="BatchSampler.LengthSortedBatches"/>), without gradients and in
/// evaluation mode (no dropout); the model's mode is restored afterwards, and results come back in the caller's order.
/// </summary>
public static class PredictionLoop
{
    /// <summary>
    /// Freed CPU memory that may pile up between batches; beyond it the heap's free pages go back to the system after
    /// the batch. The CPU heap keeps freed blocks for reuse (<see cref="NativeAllocator"/>), but batches of new shapes
    /// do not fit the old blocks: bert-base's evaluation would peak at its largest batch plus the blocks of every shape
    /// before it, and a long-running process (serve, a notebook kernel) would keep that high-water mark for good. A
    /// small model's batches reuse the same blocks and stay under the bound, so they never pay for faulting pages in
    /// again (that would cost the stand-in a third of its evaluation speed); bert-base's pay ~1% of a batch's time.
    /// </summary>
    internal const long RetainedBetweenBatches = 256L << 20;

    /// <param name="progress">Called after each forward pass with (passes done, passes in all).</param>
    public static PredictionLoopOutput Run(SequenceClassificationModel model, IReadOnlyList<TokenizedExample> examples,
        DataCollatorWithPadding collator, int batchSize, Device device, Action<int, int>? progress = null)
    {
        var numLabels = model.Config.NumLabels;
        var logits = new float[examples.Count][];
        var batches = BatchSampler.LengthSortedBatches(examples.Select(e => e.InputIds.Length).ToArray(), batchSize);
        double lossSum = 0;
        var hasLoss = examples.Count > 0;
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            for (var b = 0; b < batches.Count; b++)
            {
                using var scope = NewDisposeScope();
                var batch = collator.Collate(batches[b].Select(i => examples[i]).ToList(), device);
                var output = model.ForwardWithLoss(batch.InputIds, batch.ModelAttentionMask, null, batch.Labels);
                if (output.Loss is { } loss) lossSum += loss.item<float>() * batch.Size;
                else hasLoss = false;
                var values = output.Logits.to(ScalarType.Float32).cpu().data<float>().ToArray();
                for (var row = 0; row < batches[b].Length; row++)
                    logits[batches[b][row]] = values.AsSpan(row * numLabels, numLabels).ToArray();
                progress?.Invoke(b + 1, batches.Count);
                if (device.type == DeviceType.CPU) NativeAllocator.ReleaseFreeMemoryBeyond(RetainedBetweenBatches);
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        return new PredictionLoopOutput(logits, hasLoss ? lossSum / examples.Count : null, batches.Count);
    }
}
