using BertSharp.Inference;
using BertSharp.Web;

namespace BertSharp.Tests.Web;

/// <summary>The batcher on its own, with a fake model whose answers name the text they came from.</summary>
public class PredictionBatcherTests
{
    /// <summary>A fake model: records each call, can be held at a gate, fails on texts starting with "fail".</summary>
    private sealed class FakeModel
    {
        private int _inFlight;
        public readonly List<string[]> Calls = [];
        public readonly SemaphoreSlim Entered = new(0);
        public SemaphoreSlim? Gate;
        public int MostInFlight;

        public IReadOnlyList<Prediction> Predict(IReadOnlyList<string> texts)
        {
            var now = Interlocked.Increment(ref _inFlight);
            lock (Calls)
            {
                MostInFlight = Math.Max(MostInFlight, now);
                Calls.Add(texts.ToArray());
            }
            Entered.Release();
            try
            {
                Gate?.Wait(TimeSpan.FromSeconds(30));
                if (texts.Any(t => t.StartsWith("fail", StringComparison.Ordinal))) throw new InvalidOperationException("boom");
                return texts.Select(t => new Prediction(t, 0, 1f, [1f], [0f], t.Length, false)).ToArray();
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }

    private static async Task HoldFirstCall(FakeModel fake, PredictionBatcher batcher, List<Task<IReadOnlyList<Prediction>>> tasks)
    {
        fake.Gate = new SemaphoreSlim(0);
        tasks.Add(batcher.PredictAsync(["first"]));
        Assert.True(await fake.Entered.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task RequestsThatQueueWhileTheModelIsBusyShareOneCallUpToTheMaximumWithoutBeingSplit()
    {
        var fake = new FakeModel();
        using var batcher = new PredictionBatcher(fake.Predict, maxBatchSize: 5, window: TimeSpan.FromMilliseconds(50));
        var tasks = new List<Task<IReadOnlyList<Prediction>>>();
        await HoldFirstCall(fake, batcher, tasks);
        tasks.Add(batcher.PredictAsync(["a1", "a2"]));
        tasks.Add(batcher.PredictAsync(["b1"]));
        tasks.Add(batcher.PredictAsync(["c1", "c2", "c3"])); // would make 6 > 5: waits for the next call
        tasks.Add(batcher.PredictAsync(["d1"]));
        fake.Gate!.Release(10);
        var results = await Task.WhenAll(tasks);

        Assert.Equal(["first"], fake.Calls[0]);
        Assert.Equal(["a1", "a2", "b1"], fake.Calls[1]);
        Assert.Equal(["c1", "c2", "c3", "d1"], fake.Calls[2]);
        Assert.Equal(3, fake.Calls.Count);
        // Each caller gets its own texts' predictions, in its order.
        Assert.Equal(["a1", "a2"], results[1].Select(p => p.Label));
        Assert.Equal(["b1"], results[2].Select(p => p.Label));
        Assert.Equal(["c1", "c2", "c3"], results[3].Select(p => p.Label));
        Assert.Equal(["d1"], results[4].Select(p => p.Label));
        var stats = batcher.Statistics;
        Assert.Equal((5L, 8L, 3L, 4, 2L), (stats.Requests, stats.Texts, stats.Batches, stats.LargestBatch, stats.BatchesOfSeveralRequests));
        Assert.Equal(8.0 / 3, stats.MeanBatchSize, 1e-15); // (double)8 / 3: the same single division
        Assert.Equal(1, fake.MostInFlight);
    }

    [Fact]
    public async Task ARequestLargerThanTheMaximumRunsAlone()
    {
        var fake = new FakeModel();
        using var batcher = new PredictionBatcher(fake.Predict, maxBatchSize: 2, window: TimeSpan.FromMilliseconds(20));
        var result = await batcher.PredictAsync(["x", "y", "z"]);
        Assert.Equal(["x", "y", "z"], result.Select(p => p.Label));
        Assert.Equal(["x", "y", "z"], Assert.Single(fake.Calls));
    }

    [Fact]
    public async Task TheWindowGathersRequestsThatArriveShortlyAfterTheFirst()
    {
        var fake = new FakeModel();
        // A window far longer than any scheduling delay on a loaded machine, and a maximum the two requests fill, so
        // the batch runs as soon as the second joins it: the outcome cannot depend on how long Task.Delay takes.
        using var batcher = new PredictionBatcher(fake.Predict, maxBatchSize: 2, window: TimeSpan.FromSeconds(60));
        var first = batcher.PredictAsync(["one"]);
        await Task.Delay(50);
        Assert.Empty(fake.Calls); // the first request is waiting in the window, not run alone
        var second = batcher.PredictAsync(["two"]);
        await Task.WhenAll(first, second);
        Assert.Equal(["one", "two"], Assert.Single(fake.Calls));
    }

    [Fact]
    public async Task AZeroWindowRunsEveryRequestAloneAndNeverTwoAtOnce()
    {
        var fake = new FakeModel();
        using var batcher = new PredictionBatcher(fake.Predict, maxBatchSize: 32, window: TimeSpan.Zero);
        Assert.False(batcher.BatchingEnabled);
        var tasks = Enumerable.Range(0, 40).Select(i => Task.Run(() => batcher.PredictAsync([$"t{i}"]))).ToArray();
        var results = await Task.WhenAll(tasks);
        for (var i = 0; i < 40; i++) Assert.Equal($"t{i}", Assert.Single(results[i]).Label);
        Assert.Equal(40, fake.Calls.Count);
        Assert.All(fake.Calls, c => Assert.Single(c));
        Assert.Equal(1, fake.MostInFlight);
        Assert.Equal(1, batcher.Statistics.LargestBatch);
    }

    [Fact]
    public async Task ACancelledCallerIsLeftOutAndDoesNotDisturbItsBatch()
    {
        var fake = new FakeModel();
        using var batcher = new PredictionBatcher(fake.Predict, maxBatchSize: 8, window: TimeSpan.FromMilliseconds(20));
        var tasks = new List<Task<IReadOnlyList<Prediction>>>();
        await HoldFirstCall(fake, batcher, tasks);
        using var leave = new CancellationTokenSource();
        var before = batcher.PredictAsync(["before"]);
        var leaver = batcher.PredictAsync(["leaver"], leave.Token);
        var after = batcher.PredictAsync(["after"]);
        leave.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaver); // at once, not when its batch would run
        fake.Gate!.Release(10);
        Assert.Equal("before", Assert.Single(await before).Label);
        Assert.Equal("after", Assert.Single(await after).Label);
        Assert.Equal(["before", "after"], fake.Calls[1]);
        Assert.Equal(1, batcher.Statistics.CancelledRequests);
        await Task.WhenAll(tasks);
    }

    [Fact]
    public async Task AnAlreadyCancelledTokenNeverReachesTheModel()
    {
        var fake = new FakeModel();
        using var batcher = new PredictionBatcher(fake.Predict, maxBatchSize: 8, window: TimeSpan.FromMilliseconds(1));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => batcher.PredictAsync(["x"], new CancellationToken(canceled: true)));
        Assert.Equal("y", Assert.Single(await batcher.PredictAsync(["y"])).Label);
        Assert.Equal(["y"], Assert.Single(fake.Calls));
    }

    [Fact]
    public async Task WhenABatchFailsEachRequestIsRetriedAloneSoOnlyTheBadOneFails()
    {
        var fake = new FakeModel();
        using var batcher = new PredictionBatcher(fake.Predict, maxBatchSize: 8, window: TimeSpan.FromMilliseconds(20));
        var tasks = new List<Task<IReadOnlyList<Prediction>>>();
        await HoldFirstCall(fake, batcher, tasks);
        var good1 = batcher.PredictAsync(["good1"]);
        var bad = batcher.PredictAsync(["fail-me"]);
        var good2 = batcher.PredictAsync(["good2"]);
        fake.Gate!.Release(10);
        Assert.Equal("good1", Assert.Single(await good1).Label);
        Assert.Equal("good2", Assert.Single(await good2).Label);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => bad);
        Assert.Equal("boom", error.Message);
        Assert.Equal(1, batcher.Statistics.FailedRequests);
        // The batcher keeps working.
        Assert.Equal("later", Assert.Single(await batcher.PredictAsync(["later"])).Label);
    }

    [Fact]
    public async Task DisposingFailsQueuedRequestsAndRefusesNewOnes()
    {
        var fake = new FakeModel();
        var batcher = new PredictionBatcher(fake.Predict, maxBatchSize: 1, window: TimeSpan.FromMilliseconds(1));
        var tasks = new List<Task<IReadOnlyList<Prediction>>>();
        await HoldFirstCall(fake, batcher, tasks);
        var queued = batcher.PredictAsync(["queued"]);
        var disposing = Task.Run(batcher.Dispose);
        // Release the model only once Dispose has begun (it refuses new requests first): a fixed sleep here let the
        // worker run "queued" normally whenever the thread pool started Dispose late on a loaded machine.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!batcher.PredictAsync(["probe"]).IsFaulted && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        fake.Gate!.Release(10);
        await disposing;
        Assert.Equal("first", Assert.Single(await tasks[0]).Label); // the call in progress finished
        await Assert.ThrowsAsync<ObjectDisposedException>(() => queued);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => batcher.PredictAsync(["late"]));
    }

    [Fact]
    public void BadSettingsAreRefused()
    {
        var fake = new FakeModel();
        Assert.Contains("at least 1", Assert.Throws<ArgumentException>(() => new PredictionBatcher(fake.Predict, 0, TimeSpan.Zero)).Message);
        Assert.Contains("cannot be negative", Assert.Throws<ArgumentException>(() => new PredictionBatcher(fake.Predict, 1, TimeSpan.FromMilliseconds(-1))).Message);
    }
}
