using System.Diagnostics;

namespace BertSharp.Tests.TestSupport;

/// <summary>
/// Runs the real <c>bertsharp</c> program as a child process, from the CLI's own output folder for the same
/// configuration and framework as the tests, so each test sees exactly what a user's shell would.
/// </summary>
public static class CliProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(IEnumerable<string> args, IDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        var dll = CliDll();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        // Tests must never reach the real Hub or a developer's cache.
        start.Environment["HF_HUB_OFFLINE"] = "1";
        start.Environment["HF_HUB_CACHE"] = Path.Combine(Path.GetTempPath(), "bertsharp-test-empty-cache");
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>()) start.Environment[k] = v;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bertsharp {string.Join(' ', args)} did not finish");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Starts the program and returns at once (e.g. <c>serve</c>); disposing the handle kills it.</summary>
    public static Running Start(IEnumerable<string> args, IDictionary<string, string?>? environment = null) =>
        new(Process.Start(StartInfo(args, environment))!);

    /// <summary>A running <c>bertsharp</c>: its output so far, and Dispose kills it (and anything it started).</summary>
    public sealed class Running : IDisposable
    {
        private readonly System.Text.StringBuilder _stdout = new();
        private readonly System.Text.StringBuilder _stderr = new();

        internal Running(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }

        public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

        public bool HasExited => Process.HasExited;

        public void Dispose()
        {
            try
            {
                if (!Process.HasExited)
                {
                    Process.Kill(entireProcessTree: true);
                    Process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
            }
            Process.Dispose();
        }
    }

    // As in Run.
    private static ProcessStartInfo StartInfo(IEnumerable<string> args, IDictionary<string, string?>? environment)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(CliDll());
        foreach (var a in args) start.ArgumentList.Add(a);
        // Tests must never reach the real Hub or a developer's cache.
        start.Environment["HF_HUB_OFFLINE"] = "1";
        start.Environment["HF_HUB_CACHE"] = Path.Combine(Path.GetTempPath(), "bertsharp-test-empty-cache");
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>()) start.Environment[k] = v;
        return start;
    }

    private static string CliDll()
    {
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = framework.Parent!.Name;
        var dll = Path.Combine(SharedFiles.RepoRoot, "src", "BertSharp.Cli", "bin", configuration, framework.Name, "BertSharp.Cli.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"The CLI was not built: {dll} is missing (dotnet build builds it).", dll);
        return dll;
    }
}
