using BertSharp.Hub;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Hub;

/// <summary>A cache folder of its own per test, so no test reads or writes ~/.cache or another test's files.</summary>
internal sealed class TempCache : IDisposable
{
    public TempCache()
    {
        Directory = Path.Combine(Path.GetTempPath(), "bertsharp-hub-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public HubOptions Options(string endpoint, bool offline = false, string? token = null, Action<string>? log = null) => new()
    {
        Endpoint = endpoint,
        CacheDir = Directory,
        Offline = offline,
        Token = token,
        Timeout = TimeSpan.FromSeconds(20),
        Log = log,
    };

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Collects reports on the reporting thread; <see cref="Progress{T}"/> would post them later, out of order.</summary>
internal sealed class ListProgress(Action<DownloadProgress>? onReport = null) : IProgress<DownloadProgress>
{
    private readonly List<DownloadProgress> _reports = [];

    public IReadOnlyList<DownloadProgress> Reports
    {
        get
        {
            lock (_reports)
                return [.. _reports];
        }
    }

    public void Report(DownloadProgress value)
    {
        lock (_reports)
            _reports.Add(value);
        onReport?.Invoke(value);
    }
}

internal static class Sources
{
    public const string TinyRepo = "standin/bert-tiny-imdb-mlm";
    public const string ImdbRepo = "stanfordnlp/imdb";
    public const string ImdbTestFile = "plain_text/test-00000-of-00001.parquet";

    public static string Tiny(string file) => SharedFiles.Path("models", "bert-tiny-imdb-mlm", file);

    public static string ImdbTest => SharedFiles.Path("data", "imdb", "plain_text", "test-00000-of-00001.parquet");
}
