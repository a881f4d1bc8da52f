using System.Text;

namespace BertSharp.Hub;

/// <summary>
/// Where <see cref="HubClient"/> downloads from and caches to. <c>new HubOptions()</c> gives fixed defaults that
/// never read the process environment; <see cref="FromEnvironment"/> reads the same variables as
/// <c>huggingface_hub</c>, so both tools share one cache and one configuration.
/// </summary>
public sealed record HubOptions
{
    public const string DefaultEndpoint = "https://huggingface.co";

    private readonly string _endpoint = DefaultEndpoint;

    /// <summary>The Hub (or mirror) base URL, without a trailing slash.</summary>
    public string Endpoint
    {
        get => _endpoint;
        init => _endpoint = string.IsNullOrWhiteSpace(value) ? DefaultEndpoint : value.Trim().TrimEnd('/');
    }

    /// <summary>Bearer token for private or gated repositories; never printed by <see cref="ToString"/>.</summary>
    public string? Token { get; init; }

    /// <summary>The hub cache folder (the one holding <c>models--org--name</c> folders).</summary>
    public string CacheDir { get; init; } = DefaultCacheDirectory(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    /// <summary>No network at all: files come from the cache or not at all.</summary>
    public bool Offline { get; init; }

    /// <summary>
    /// Limit for one request to answer, and for a download to stall between two reads; a large file may take
    /// longer than this in total as long as bytes keep arriving.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Receives human-readable notes, such as falling back to the cache when the network fails. Never given the token.
    /// </summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// Reads <c>HF_ENDPOINT</c>, <c>HF_TOKEN</c> (or the older <c>HUGGING_FACE_HUB_TOKEN</c>), <c>HF_HUB_CACHE</c>
    /// (or the older <c>HUGGINGFACE_HUB_CACHE</c>), <c>HF_HOME</c>, <c>XDG_CACHE_HOME</c> and <c>HF_HUB_OFFLINE</c>
    /// (or <c>TRANSFORMERS_OFFLINE</c>) with huggingface_hub's precedence.
    /// </summary>
    /// <param name="getVariable">Variable lookup; defaults to the process environment. Tests pass a dictionary lookup.</param>
    public static HubOptions FromEnvironment(Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        string? Get(string name)
        {
            var value = getVariable(name);
            return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
        }

        var home = Get("HOME") ?? Get("USERPROFILE") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string? cacheDir = Get("HF_HUB_CACHE") ?? Get("HUGGINGFACE_HUB_CACHE");
        if (cacheDir is null)
        {
            var hfHome = Get("HF_HOME") ?? Path.Combine(Get("XDG_CACHE_HOME") ?? Path.Combine(home, ".cache"), "huggingface");
            cacheDir = Path.Combine(ExpandHome(hfHome, home), "hub");
        }

        return new HubOptions
        {
            Endpoint = Get("HF_ENDPOINT") ?? DefaultEndpoint,
            Token = Get("HF_TOKEN") ?? Get("HUGGING_FACE_HUB_TOKEN"),
            CacheDir = Path.GetFullPath(ExpandHome(cacheDir, home)),
            Offline = IsTrue(Get("HF_HUB_OFFLINE") ?? Get("TRANSFORMERS_OFFLINE")),
        };
    }

    /// <summary>huggingface_hub's default when no variable is set: <c>~/.cache/huggingface/hub</c>.</summary>
    public static string DefaultCacheDirectory(string homeDirectory) =>
        Path.Combine(homeDirectory, ".cache", "huggingface", "hub");

    // The same words huggingface_hub's _is_true accepts, so one HF_HUB_OFFLINE value means the same to both.
    internal static bool IsTrue(string? value) =>
        value is not null && value.Trim().ToUpperInvariant() is "1" or "TRUE" or "YES" or "ON";

    private static string ExpandHome(string path, string home)
    {
        if (path == "~")
            return home;
        if (path.StartsWith("~/", StringComparison.Ordinal) || path.StartsWith("~\\", StringComparison.Ordinal))
            return Path.Combine(home, path[2..]);
        return path;
    }

    // Records print every property by default; a token in a log line is a leaked credential.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("Endpoint = ").Append(Endpoint)
            .Append(", Token = ").Append(Token is null ? "null" : "***")
            .Append(", CacheDir = ").Append(CacheDir)
            .Append(", Offline = ").Append(Offline)
            .Append(", Timeout = ").Append(Timeout);
        return true;
    }
}
