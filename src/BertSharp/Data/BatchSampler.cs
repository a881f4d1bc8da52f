namespace BertSharp.Data;

/// <summary>
/// The one place examples are grouped into batches, by index. Training: a fresh shuffle every epoch that depends only
/// on the seed and the epoch number (so a resumed run sees exactly the batches an uninterrupted run would), optionally
/// grouped by length. Evaluation and prediction: sorted by length, so a batch pads little.
/// </summary>
public static class BatchSampler
{
    /// <param name="lengths">Every example's token count (only used when grouping by length).</param>
    public static IReadOnlyList<int[]> TrainingBatches(IReadOnlyList<int> lengths, int batchSize, int seed, int epoch, bool groupByLength)
    {
        var order = NumpyRandom.Permutation((ulong)(uint)seed + (ulong)epoch, lengths.Count);
        if (groupByLength) order = GroupByLength(order, lengths, batchSize);
        return order.Chunk(batchSize).ToList();
    }

    /// <summary>
    /// Batches for a pass without gradients: longest examples first, at most <paramref name="batchSize"/> each, and a
    /// batch cut early where padding would exceed <paramref name="maxPaddingShare"/> of its tokens. A batch pads every
    /// example to its longest; with IMDb's long tail (15% of reviews pass 512 tokens) plain batches would spend much of
    /// their compute on padding. Longest first makes the first pass allocate the largest buffers, which the following,
    /// smaller passes then reuse instead of asking the allocator for ever larger blocks.
    /// </summary>
    public static IReadOnlyList<int[]> LengthSortedBatches(IReadOnlyList<int> lengths, int batchSize, double maxPaddingShare = 0.2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var batches = new List<int[]>();
        var current = new List<int>();
        long realTokens = 0;
        // A stable sort keeps equal lengths in the caller's order, so the batches do not depend on the sort algorithm.
        foreach (var index in Enumerable.Range(0, lengths.Count).OrderByDescending(i => lengths[i]))
        {
            // Sorted descending, so the batch's first example sets the padded length of the whole pass.
            var padded = current.Count == 0 ? lengths[index] : (long)(current.Count + 1) * lengths[current[0]];
            var wouldWaste = 1.0 - (double)(realTokens + lengths[index]) / padded;
            if (current.Count > 0 && (current.Count == batchSize || wouldWaste > maxPaddingShare))
            {
                batches.Add([.. current]);
                (current, realTokens) = ([], 0);
            }
            current.Add(index);
            realTokens += lengths[index];
        }
        if (current.Count > 0) batches.Add([.. current]);
        return batches;
    }

    /// <summary>
    /// transformers' LengthGroupedSampler: cut the shuffled order into mega-batches of 50 batches, sort each by length
    /// (longest first) so a batch holds similar lengths and wastes little on padding, and put the longest batch first
    /// so an out-of-memory error shows up at once rather than hours in.
    /// </summary>
    private static int[] GroupByLength(int[] shuffled, IReadOnlyList<int> lengths, int batchSize)
    {
        var megaBatches = shuffled.Chunk(batchSize * 50)
            .Select(m => m.OrderByDescending(i => lengths[i]).ToArray()).ToList();
        var result = megaBatches.SelectMany(m => m).ToArray();
        var longest = Array.IndexOf(result, result.MaxBy(i => lengths[i]));
        var longestBatchStart = longest / batchSize * batchSize;
        for (var k = 0; k < Math.Min(batchSize, result.Length - longestBatchStart); k++)
            (result[k], result[longestBatchStart + k]) = (result[longestBatchStart + k], result[k]);
        return result;
    }
}
