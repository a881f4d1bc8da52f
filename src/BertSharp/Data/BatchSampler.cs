namespace BertSharp.Data;

/// <summary>
/// The order in which training examples are visited: a fresh shuffle every epoch that depends only on the seed
/// and the epoch number, so a run resumed from a checkpoint sees exactly the batches an uninterrupted run would.
/// </summary>
public static class BatchSampler
{
    public static IReadOnlyList<int[]> TrainingBatches(IReadOnlyList<TokenizedExample> examples, int batchSize, int seed, int epoch, bool groupByLength)
    {
        var order = Data.NumpyRandom.Permutation((ulong)(uint)seed + (ulong)epoch, examples.Count);
        if (groupByLength) order = GroupByLength(order, examples, batchSize);
        return order.Chunk(batchSize).ToList();
    }

    public static IReadOnlyList<int[]> SequentialBatches(int count, int batchSize) =>
        Enumerable.Range(0, count).Chunk(batchSize).ToList();

    /// <summary>
    /// transformers' LengthGroupedSampler: cut the shuffled order into mega-batches of 50 batches, sort each by length
    /// (longest first) so a batch holds similar lengths and wastes little on padding, and put the longest batch first
    /// so an out-of-memory error shows up at once rather than hours in.
    /// </summary>
    private static int[] GroupByLength(int[] shuffled, IReadOnlyList<TokenizedExample> examples, int batchSize)
    {
        var megaBatches = shuffled.Chunk(batchSize * 50)
            .Select(m => m.OrderByDescending(i => examples[i].InputIds.Length).ToArray()).ToList();
        var result = megaBatches.SelectMany(m => m).ToArray();
        var longest = Array.IndexOf(result, result.MaxBy(i => examples[i].InputIds.Length));
        var longestBatchStart = longest / batchSize * batchSize;
        for (var k = 0; k < Math.Min(batchSize, result.Length - longestBatchStart); k++)
            (result[k], result[longestBatchStart + k]) = (result[longestBatchStart + k], result[k]);
        return result;
    }
}
