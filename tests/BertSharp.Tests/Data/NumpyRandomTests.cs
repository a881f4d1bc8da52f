using System.Text.Json;
using BertSharp.Data;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Data;

public class NumpyRandomTests
{
    private static readonly Lazy<Dictionary<string, int[]>> Reference = new(() =>
    {
        var path = SharedFiles.Path("fixtures", "hf-reference", "numpy-permutations.json");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        return doc.RootElement.GetProperty("permutations").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(e => e.GetInt32()).ToArray());
    });

    [Theory]
    [InlineData(42UL)]
    [InlineData(7UL)]
    [InlineData(1234UL)]
    public void Permutation_matches_numpy_element_for_element(ulong seed)
    {
        var expected = Reference.Value[seed.ToString()];
        var actual = NumpyRandom.Permutation(seed, expected.Length);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            if (expected[i] != actual[i])
                Assert.Fail($"seed {seed}: element {i} is {actual[i]}, numpy has {expected[i]}");
    }

    [Fact]
    public void Reference_covers_the_three_seeds()
    {
        Assert.Equal(["1234", "42", "7"], Reference.Value.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Small_sizes_are_sane()
    {
        Assert.Empty(NumpyRandom.Permutation(42, 0));
        Assert.Equal([0], NumpyRandom.Permutation(42, 1));
        var two = NumpyRandom.Permutation(42, 2);
        Assert.Equal([0, 1], two.Order());
    }

    [Theory]
    [InlineData(0UL, 10)]
    [InlineData(42UL, 1000)]
    [InlineData(ulong.MaxValue, 777)]
    [InlineData(1UL << 40, 50)]
    public void Result_is_a_permutation(ulong seed, int n)
    {
        var p = NumpyRandom.Permutation(seed, n);
        Assert.Equal(Enumerable.Range(0, n), p.Order());
    }

    [Fact]
    public void Same_seed_same_order_and_different_seeds_differ()
    {
        Assert.Equal(NumpyRandom.Permutation(3, 100), NumpyRandom.Permutation(3, 100));
        Assert.NotEqual(NumpyRandom.Permutation(3, 100), NumpyRandom.Permutation(4, 100));
    }

    [Fact]
    public void Negative_size_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NumpyRandom.Permutation(42, -1));
    }
}
