using System.Diagnostics;
using System.Threading.Channels;
using BertSharp.Inference;

namespace BertSharp.Web;

/// <summary>What the batcher has done since it started (or since <see cref="PredictionBatcher.ResetStatistics"/>).</summary>
/// <param name="Requests">Requests answered with predictions.</param>
/// <param name="Texts">Texts classified.</param>
/// <param name="Batches">Calls to the model (each one forward pass when it holds at most the maximum batch size).</param>
/// <param name="LargestBatch">The most texts one call held.</param>
/// <param name="LargestBatchRequests">The most requests one call served.</param>
/// <param name="BatchesOfSeveralRequests">Calls that served more than one request.</param>
/// <param name="CancelledRequests">Requests whose caller gave up before their batch ran; they were left out of it.</param>
/// <param name="FailedRequests">Requests that got an exception from the model.</param>
public sealed record BatcherStatistics(
    long Requests,
    long Texts,
    long Batches,
    int LargestBatch,
    int LargestBatchRequests,
    long BatchesOfSeveralRequests,
    long CancelledRequests,
    long FailedRequests)
{
    /// <summary>Texts per call to the model; 0 before the first.</summary>
    public double MeanBatchSize => Batches == 0 ? 0 : (double)Texts / Batches;
}

/// <summary>
/// Dynamic batching for a model that must run one forward pass at a time: callers queue their texts on a
/// <see cref="Channel{T}"/>, and one background worker takes a request, waits up to <c>window</c> (counted from when
/// that request arrived) for others to join it, up to <c>maxBatchSize</c> texts, classifies them all in one call and
/// hands each caller its own predictions. Requests are never split; one larger than the maximum runs alone.
/// A window of zero turns batching off: each request runs alone, still one at a time.
/// A caller whose token is cancelled (a client that disconnected) gets a cancelled task at once and is left out
/// of any batch that has not started; the others in its batch are not affected.
/// If a call with several requests throws, each request is retried alone, so one bad request cannot fail others.
/// </summary>
public sealed class PredictionBatcher : IDisposable
{
    private readonly Func<IReadOnlyList<string>, IReadOnlyList<Prediction>> _predict;
    private readonly Channel<WorkItem> _queue = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _worker;
    private readonly object _statsGate = new();
    private BatcherStatistics _stats = Empty;
    private int _disposed;

    private static readonly BatcherStatistics Empty = new(0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>Batches for <paramref name="pipeline"/>, which splits a call into forward passes of at most <paramref name="maxBatchSize"/> texts.</summary>
    public PredictionBatcher(TextClassificationPipeline pipeline, int maxBatchSize = 32, TimeSpan? window = null)
        : this(texts => pipeline.Predict(texts, maxBatchSize), maxBatchSize, window ?? TimeSpan.FromMilliseconds(5))
    {
    }

    /// <summary>Batches for any function that classifies a list of texts in order (one call at a time, from one thread).</summary>
    public PredictionBatcher(Func<IReadOnlyList<string>, IReadOnlyList<Prediction>> predict, int maxBatchSize, TimeSpan window)
    {
        ArgumentNullException.ThrowIfNull(predict);
        if (maxBatchSize < 1) throw new ArgumentException($"The maximum batch size must be at least 1 (got {maxBatchSize}).", nameof(maxBatchSize));
        if (window < TimeSpan.Zero) throw new ArgumentException($"The batching window cannot be negative (got {window.TotalMilliseconds} ms).", nameof(window));
        _predict = predict;
        MaxBatchSize = maxBatchSize;
        Window = window;
        _worker = Task.Run(RunAsync);
    }

    public int MaxBatchSize { get; }

    public TimeSpan Window { get; }

    /// <summary>False when the window is zero: every request is its own call to the model.</summary>
    public bool BatchingEnabled => Window > TimeSpan.Zero;

    public BatcherStatistics Statistics
    {
        get { lock (_statsGate) return _stats; }
    }

    public void ResetStatistics()
    {
        lock (_statsGate) _stats = Empty;
    }

    /// <summary>Classifies <paramref name="texts"/> as part of the next batch; the predictions come back in order.</summary>
    /// <exception cref="ObjectDisposedException">The batcher was disposed (the server is stopping).</exception>
    public Task<IReadOnlyList<Prediction>> PredictAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0) return Task.FromResult<IReadOnlyList<Prediction>>([]);
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<IReadOnlyList<Prediction>>(cancellationToken);
        var item = new WorkItem(texts.ToArray(), Stopwatch.GetTimestamp());
        if (cancellationToken.CanBeCanceled)
            item.Registration = cancellationToken.Register(static state =>
            {
                var (work, token) = ((WorkItem, CancellationToken))state!;
                work.Completion.TrySetCanceled(token);
            }, (item, cancellationToken));
        if (!_queue.Writer.TryWrite(item))
        {
            item.Registration.Dispose();
            return Task.FromException<IReadOnlyList<Prediction>>(new ObjectDisposedException(nameof(PredictionBatcher), "The prediction batcher is stopping."));
        }
        return item.Completion.Task;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the batcher's worker, alone: after the batch before it and before the next, so
    /// it never overlaps a forward pass of the model the batcher serves (e.g. an explanation's backward passes).
    /// It queues in arrival order with the predictions; a cancelled caller's work is skipped if it has not started.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The batcher was disposed (the server is stopping).</exception>
    public Task<T> RunExclusiveAsync<T>(Func<T> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<T>(cancellationToken);
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var item = new WorkItem([], Stopwatch.GetTimestamp()) { Exclusive = () => result.TrySetResult(work()) };
        // Whatever ends the work item (cancelled, failed, refused at shutdown) ends the caller's task the same way.
        item.Completion.Task.ContinueWith(static (done, state) =>
        {
            var target = (TaskCompletionSource<T>)state!;
            if (done.IsCanceled) target.TrySetCanceled();
            else if (done.Exception is { } e) target.TrySetException(e.InnerExceptions);
        }, result, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        if (cancellationToken.CanBeCanceled)
            item.Registration = cancellationToken.Register(static state =>
            {
                var (work, token) = ((WorkItem, CancellationToken))state!;
                work.Completion.TrySetCanceled(token);
            }, (item, cancellationToken));
        if (!_queue.Writer.TryWrite(item))
        {
            item.Registration.Dispose();
            return Task.FromException<T>(new ObjectDisposedException(nameof(PredictionBatcher), "The prediction batcher is stopping."));
        }
        return result.Task;
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        WorkItem? carried = null;
        try
        {
            while (true)
            {
                WorkItem first;
                if (carried is not null)
                {
                    first = carried;
                    carried = null;
                }
                else
                {
                    if (!await reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false)) break;
                    if (!reader.TryRead(out first!)) continue;
                }
                if (first.Abandoned)
                {
                    Count(cancelled: 1);
                    continue;
                }
                if (first.Exclusive is not null)
                {
                    RunExclusive(first);
                    if (_stopping.IsCancellationRequested) break;
                    continue;
                }

                var batch = new List<WorkItem> { first };
                var texts = first.Texts.Length;
                if (BatchingEnabled && texts < MaxBatchSize)
                {
                    // The window counts from the first request's arrival: under load, requests that already waited
                    // while the previous batch ran go straight in, without waiting again.
                    var deadline = first.Arrived + (long)(Window.TotalSeconds * Stopwatch.Frequency);
                    while (texts < MaxBatchSize)
                    {
                        if (reader.TryRead(out var next))
                        {
                            if (next.Abandoned)
                            {
                                Count(cancelled: 1);
                                continue;
                            }
                            if (next.Exclusive is not null || texts + next.Texts.Length > MaxBatchSize)
                            {
                                carried = next;
                                break;
                            }
                            batch.Add(next);
                            texts += next.Texts.Length;
                            continue;
                        }
                        var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                        if (remaining <= TimeSpan.Zero) break;
                        using var wait = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                        wait.CancelAfter(remaining);
                        try
                        {
                            if (!await reader.WaitToReadAsync(wait.Token).ConfigureAwait(false)) break;
                        }
                        catch (OperationCanceledException)
                        {
                            break;
                        }
                    }
                }
                Run(batch);
                if (_stopping.IsCancellationRequested) break;
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        finally
        {
            // Whatever ended the loop, later callers must be refused rather than wait for a worker that is gone.
            _queue.Writer.TryComplete();
            var stopped = new ObjectDisposedException(nameof(PredictionBatcher), "The prediction batcher stopped before this request ran.");
            carried?.Completion.TrySetException(stopped);
            while (reader.TryRead(out var left)) left.Completion.TrySetException(stopped);
        }
    }

    private void Run(List<WorkItem> batch)
    {
        // A caller may have left while the batch was being collected.
        var live = batch.Where(i => !i.Abandoned).ToList();
        if (live.Count < batch.Count) Count(cancelled: batch.Count - live.Count);
        if (live.Count == 0) return;
        var texts = live.Count == 1 ? live[0].Texts : live.SelectMany(i => i.Texts).ToArray();
        try
        {
            var predictions = Call(texts);
            var offset = 0;
            foreach (var item in live)
            {
                item.Complete(predictions.Skip(offset).Take(item.Texts.Length).ToArray());
                offset += item.Texts.Length;
            }
            CountBatch(live.Count, texts.Length);
        }
        catch (Exception) when (live.Count > 1)
        {
            // Find the culprit: each request alone, so only the one that fails gets the error.
            foreach (var item in live)
            {
                if (item.Abandoned)
                {
                    Count(cancelled: 1);
                    continue;
                }
                try
                {
                    item.Complete(Call(item.Texts));
                    CountBatch(1, item.Texts.Length);
                }
                catch (Exception e)
                {
                    item.Fail(e);
                    Count(failed: 1);
                }
            }
        }
        catch (Exception e)
        {
            live[0].Fail(e);
            Count(failed: 1);
        }
    }

    private void RunExclusive(WorkItem item)
    {
        try
        {
            item.Exclusive!();
            item.Complete([]);
        }
        catch (Exception e)
        {
            item.Fail(e);
            Count(failed: 1);
        }
    }

    private IReadOnlyList<Prediction> Call(IReadOnlyList<string> texts)
    {
        var predictions = _predict(texts);
        if (predictions is null || predictions.Count != texts.Count)
            throw new InvalidOperationException($"The model returned {predictions?.Count ?? 0} predictions for {texts.Count} texts.");
        return predictions;
    }

    private void CountBatch(int requests, int texts)
    {
        lock (_statsGate)
            _stats = _stats with
            {
                Requests = _stats.Requests + requests,
                Texts = _stats.Texts + texts,
                Batches = _stats.Batches + 1,
                LargestBatch = Math.Max(_stats.LargestBatch, texts),
                LargestBatchRequests = Math.Max(_stats.LargestBatchRequests, requests),
                BatchesOfSeveralRequests = _stats.BatchesOfSeveralRequests + (requests > 1 ? 1 : 0),
            };
    }

    private void Count(int cancelled = 0, int failed = 0)
    {
        lock (_statsGate)
            _stats = _stats with { CancelledRequests = _stats.CancelledRequests + cancelled, FailedRequests = _stats.FailedRequests + failed };
    }

    /// <summary>Stops taking requests, lets the batch in progress finish, and fails the requests still queued.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        // Cancel before refusing new requests: once a caller sees a refusal, the worker is sure to stop after the
        // batch in progress instead of running what is queued. (Writes that slip in between are drained by the worker.)
        _stopping.Cancel();
        _queue.Writer.TryComplete();
        try
        {
            _worker.Wait(TimeSpan.FromMinutes(1));
        }
        catch (AggregateException)
        {
        }
        _stopping.Dispose();
    }

    private sealed class WorkItem(string[] texts, long arrived)
    {
        public string[] Texts { get; } = texts;
        public long Arrived { get; } = arrived;
        public TaskCompletionSource<IReadOnlyList<Prediction>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationTokenRegistration Registration { get; set; }

        /// <summary>Work that runs alone instead of texts to classify (<see cref="RunExclusiveAsync"/>).</summary>
        public Action? Exclusive { get; init; }

        /// <summary>Its caller cancelled (the task is already complete).</summary>
        public bool Abandoned => Completion.Task.IsCompleted;

        public void Complete(IReadOnlyList<Prediction> predictions)
        {
            Registration.Dispose();
            Completion.TrySetResult(predictions);
        }

        public void Fail(Exception e)
        {
            Registration.Dispose();
            Completion.TrySetException(e);
        }
    }
}
