namespace BertSharp.Tests.TestSupport;

/// <summary>
/// Finds the read-only stand-ins in <c>../shared</c> (beside the checkout), or in <c>BERTSHARP_SHARED</c>.
/// A missing folder fails the test with a message: a test that skips itself proves nothing.
/// </summary>
public static class SharedFiles
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string RootDirectory => Root.Value;

    public static string Path(params string[] parts)
    {
        var path = System.IO.Path.Combine([Root.Value, .. parts]);
        if (!File.Exists(path) && !Directory.Exists(path))
            throw new FileNotFoundException($"The shared stand-in '{path}' is missing; see ../shared/README.md.", path);
        return path;
    }

    public static string TinyModelDir => Path("models", "bert-tiny-imdb-mlm");
    public static string TinyClsDir => Path("fixtures", "hf-reference", "tiny-cls");
    public static string TinyDistilBertClsDir => Path("fixtures", "hf-reference", "tiny-distilbert-cls");
    public static string HubMirror => Path("hub");

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir != null && !File.Exists(System.IO.Path.Combine(dir.FullName, "global.json")))
                dir = dir.Parent;
            return dir?.FullName ?? throw new DirectoryNotFoundException(
                $"No global.json above {AppContext.BaseDirectory}: cannot find the repository root.");
        }
    }

    private static string FindRoot()
    {
        var fromEnv = Environment.GetEnvironmentVariable("BERTSHARP_SHARED");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            if (!Directory.Exists(fromEnv))
                throw new DirectoryNotFoundException($"BERTSHARP_SHARED='{fromEnv}' is not a directory.");
            return fromEnv;
        }
        var candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(RepoRoot, "..", "shared"));
        if (!Directory.Exists(candidate))
            throw new DirectoryNotFoundException(
                $"The shared stand-ins are not at '{candidate}'. Put the shared/ folder beside the checkout or set BERTSHARP_SHARED.");
        return candidate;
    }
}
