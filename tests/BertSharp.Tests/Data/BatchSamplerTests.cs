using BertSharp.Data;

namespace BertSharp.Tests.Data;

public sealed class BatchSamplerTests
{
    [Fact]
    public void LengthSortedBatchesPutLongestFirstCapAndCutWherePaddingWouldDominate()
    {
        int[] lengths = [500, 20, 22, 21, 510, 19, 512, 23];
        var batches = BatchSampler.LengthSortedBatches(lengths, batchSize: 3);
        Assert.Equal(Enumerable.Range(0, lengths.Length), batches.SelectMany(b => b).Order());
        Assert.All(batches, b => Assert.InRange(b.Length, 1, 3));
        // Longest first: the first pass allocates the largest buffers, which the later, shorter passes reuse.
        Assert.Equal(512, lengths[batches[0][0]]);
        Assert.Equal(lengths.OrderByDescending(l => l), batches.SelectMany(b => b).Select(i => lengths[i]));
        // The short reviews never share a pass with the long ones.
        Assert.All(batches, b => Assert.True(b.All(i => lengths[i] < 100) || b.All(i => lengths[i] >= 500)));
        Assert.All(batches, b => Assert.True(b.Sum(i => lengths[i]) >= 0.8 * b.Length * b.Max(i => lengths[i])));
        // Without the padding cut only the batch size splits.
        Assert.Equal([3, 3, 2], BatchSampler.LengthSortedBatches(lengths, 3, maxPaddingShare: 1.0).Select(b => b.Length));
        Assert.Empty(BatchSampler.LengthSortedBatches([], 3));
    }

    [Fact]
    public void TrainingBatchesAreASeededPermutationPerEpochAndGroupByLengthKeepsTheSameExamples()
    {
        var lengths = Enumerable.Range(0, 100).Select(i => 10 + i * 37 % 90).ToArray();
        var epoch0 = BatchSampler.TrainingBatches(lengths, 8, seed: 42, epoch: 0, groupByLength: false);
        Assert.Equal(epoch0.SelectMany(b => b), BatchSampler.TrainingBatches(lengths, 8, 42, 0, false).SelectMany(b => b));
        Assert.NotEqual(epoch0.SelectMany(b => b), BatchSampler.TrainingBatches(lengths, 8, 42, 1, false).SelectMany(b => b));
        Assert.Equal(Enumerable.Range(0, 100), epoch0.SelectMany(b => b).Order());
        Assert.Equal(13, epoch0.Count);

        var grouped = BatchSampler.TrainingBatches(lengths, 8, 42, 0, groupByLength: true);
        Assert.Equal(Enumerable.Range(0, 100), grouped.SelectMany(b => b).Order());
        Assert.Equal(lengths.Max(), grouped[0].Max(i => lengths[i])); // the longest batch first
        var spread = (IReadOnlyList<int[]> batches) => batches.Sum(b => b.Max(i => lengths[i]) - b.Min(i => lengths[i]));
        Assert.True(spread(grouped) < spread(epoch0) / 2, "grouping should put similar lengths together");
    }
}
