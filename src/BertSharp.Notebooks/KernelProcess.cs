using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace BertSharp.Notebooks;

/// <summary>How a submission ended.</summary>
internal enum SubmissionOutcome
{
    Succeeded,
    Failed,
    TimedOut,
    KernelExited,
}

/// <summary>The end of one submission: the kernel's failure message, or why there is no answer.</summary>
internal sealed record SubmissionResult(SubmissionOutcome Outcome, string? Message);

/// <summary>
/// A <c>dotnet-interactive stdio</c> process, the kernel VS Code's Polyglot Notebooks extension starts, driven
/// through its protocol: one JSON command envelope per line on stdin (<c>SubmitCode</c>), one JSON event envelope
/// per line on stdout (<c>DisplayedValueProduced</c>, <c>ReturnValueProduced</c>, <c>StandardOutputValueProduced</c>,
/// <c>CommandFailed</c>, ...), matched to the command by its token.
/// </summary>
internal sealed class KernelProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<JsonObject> _events = Channel.CreateUnbounded<JsonObject>();
    private readonly Queue<string> _stderrTail = new();
    private readonly Task _stdoutPump, _stderrPump;
    private int _tokens;

    private KernelProcess(Process process)
    {
        _process = process;
        _stdoutPump = Task.Run(PumpStdoutAsync);
        _stderrPump = Task.Run(PumpStderrAsync);
    }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts the kernel in <paramref name="workingDirectory"/> and waits until it says it is ready.</summary>
    public static async Task<KernelProcess> StartAsync(InteractiveTool tool, string workingDirectory, TimeSpan startTimeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(tool.FileName)
        {
            // dotnet tool run finds the manifest from where it starts; the kernel then moves to the notebook's folder.
            WorkingDirectory = tool.LaunchDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            StandardInputEncoding = new UTF8Encoding(false),
        };
        foreach (var argument in tool.Arguments) start.ArgumentList.Add(argument);
        foreach (var argument in new[] { "stdio", "--default-kernel", "csharp", "--working-dir", workingDirectory }) start.ArgumentList.Add(argument);
        start.Environment["DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new KernelStartException($"could not start {tool.Description}: {e.Message}");
        }
        var kernel = new KernelProcess(process);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(startTimeout);
            while (true)
            {
                JsonObject envelope;
                try
                {
                    if (!await kernel._events.Reader.WaitToReadAsync(deadline.Token).ConfigureAwait(false)) break;
                    envelope = await kernel._events.Reader.ReadAsync(deadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new KernelStartException($"{tool.Description} did not become ready within {startTimeout.TotalSeconds:0} s{kernel.StderrTail()}");
                }
                if (EventType(envelope) == "KernelReady") return kernel;
            }
            await kernel.WaitForExitAsync().ConfigureAwait(false);
            throw new KernelStartException($"{tool.Description} exited with code {process.ExitCode} before it was ready{kernel.StderrTail()}");
        }
        catch
        {
            await kernel.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="code"/> in the kernel named <paramref name="kernelName"/> and hands every event of that
    /// submission to <paramref name="onEvent"/> (type, event object) until the kernel says it succeeded or failed.
    /// On a timeout the kernel is killed: a cell cannot be stopped inside it, and it must not go on running.
    /// </summary>
    public async Task<SubmissionResult> SubmitAsync(string code, string kernelName, Action<string, JsonObject> onEvent, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var token = $"bertsharp-{Environment.ProcessId}-{Interlocked.Increment(ref _tokens)}";
        var envelope = new JsonObject
        {
            ["token"] = token,
            ["commandType"] = "SubmitCode",
            ["command"] = new JsonObject { ["code"] = code, ["targetKernelName"] = kernelName },
        };
        try
        {
            await _process.StandardInput.WriteLineAsync(envelope.ToJsonString().AsMemory(), cancellationToken).ConfigureAwait(false);
            await _process.StandardInput.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            return await ExitedAsync().ConfigureAwait(false);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            JsonObject received;
            try
            {
                if (!await _events.Reader.WaitToReadAsync(deadline.Token).ConfigureAwait(false)) return await ExitedAsync().ConfigureAwait(false);
                received = await _events.Reader.ReadAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                Kill();
                return new SubmissionResult(SubmissionOutcome.TimedOut, $"the cell ran longer than {timeout.TotalSeconds:0.###} s (--cell-timeout); the kernel was stopped");
            }
            var commandToken = received["command"]?["token"]?.GetValue<string>();
            if (commandToken is null || !(commandToken == token || commandToken.StartsWith(token + ".", StringComparison.Ordinal))) continue;
            var type = EventType(received);
            var body = received["event"] as JsonObject ?? [];
            if (commandToken == token && type == "CommandSucceeded") return new SubmissionResult(SubmissionOutcome.Succeeded, null);
            if (commandToken == token && type == "CommandFailed")
                return new SubmissionResult(SubmissionOutcome.Failed, body["message"]?.GetValue<string>() ?? "the kernel reported a failure without a message");
            onEvent(type, body);
        }
    }

    private async Task<SubmissionResult> ExitedAsync()
    {
        await WaitForExitAsync().ConfigureAwait(false);
        await Task.WhenAny(_stderrPump, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        return new SubmissionResult(SubmissionOutcome.KernelExited,
            $"the kernel process exited (code {_process.ExitCode}) before the cell finished, e.g. through Environment.Exit{StderrTail()}");
    }

    private async Task WaitForExitAsync()
    {
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { await _process.WaitForExitAsync(grace.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { Kill(); }
    }

    private void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { }
        _process.WaitForExit();
    }

    /// <summary>Stops the kernel and everything it started (a server a notebook left running, a cell still looping).</summary>
    public async ValueTask DisposeAsync()
    {
        try { _process.StandardInput.Close(); } catch (IOException) { }
        Kill();
        await Task.WhenAll(_stdoutPump, _stderrPump).ConfigureAwait(false);
        _process.Dispose();
    }

    private static string EventType(JsonObject envelope) => envelope["eventType"]?.GetValue<string>() ?? "";

    private async Task PumpStdoutAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                // The tool prints a welcome banner before the protocol starts: anything not a JSON object is not an event.
                if (!line.StartsWith('{')) continue;
                try
                {
                    if (JsonNode.Parse(line) is JsonObject envelope) _events.Writer.TryWrite(envelope);
                }
                catch (JsonException) { }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { }
        finally
        {
            _events.Writer.TryComplete();
        }
    }

    private async Task PumpStderrAsync()
    {
        try
        {
            while (await _process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                lock (_stderrTail)
                {
                    _stderrTail.Enqueue(line);
                    if (_stderrTail.Count > 20) _stderrTail.Dequeue();
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { }
    }

    private string StderrTail()
    {
        lock (_stderrTail)
        {
            var lines = _stderrTail.Where(l => l.Trim().Length > 0).ToList();
            return lines.Count == 0 ? "" : "; its stderr ended with: " + string.Join(" | ", lines.TakeLast(5));
        }
    }
}

/// <summary>The kernel did not start (not restored, crashed, too slow).</summary>
internal sealed class KernelStartException(string message) : Exception(message);
