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

    private static string CliDll()
    {
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = framework.Parent!.Name;
        var dll = Path.Combine(SharedFiles.RepoRoot, "src", "BertSharp.Cli", "bin", configuration, framework.Name, "BertSharp.Cli.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"The CLI was not built: {dll} is missing (dotnet build builds it).", dll);
        return dll;
    }
}
