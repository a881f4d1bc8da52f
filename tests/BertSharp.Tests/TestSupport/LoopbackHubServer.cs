using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace BertSharp.Tests.TestSupport;

/// <summary>How <see cref="LoopbackHubServer"/> answers.</summary>
public enum LoopbackHubMode
{
    /// <summary>Like <c>python3 -m http.server</c>: Content-Type and Content-Length only, 404 for missing files.</summary>
    Plain,

    /// <summary>
    /// Like huggingface.co's resolve endpoint: X-Repo-Commit, ETag (git blob SHA-1) for small files, and for
    /// files over <see cref="LoopbackHubServer.LfsThreshold"/> X-Linked-Etag/X-Linked-Size (SHA-256) with a 302
    /// to an absolute <c>/cdn/{sha256}</c> URL, as the Hub does for LFS files.
    /// </summary>
    Hub,
}

/// <summary>One request the server received, recorded before it was answered.</summary>
public sealed record LoopbackRequest(string Method, string Path, string? Authorization);

/// <summary>
/// A Hub stand-in on <c>http://127.0.0.1:{free port}</c> serving a directory laid out as the Hub's URLs
/// (<c>{repo}/resolve/{revision}/{file}</c>, <c>datasets/{repo}/resolve/...</c>), e.g. <see cref="SharedFiles.HubMirror"/>.
/// Links are followed, both real symlinks and the one-line "link files" git writes where symlinks are off.
/// Every knob can be changed while the server runs; each test should own its server.
/// </summary>
public sealed class LoopbackHubServer : IDisposable
{
    /// <summary>The commit every resolve answer names in <see cref="LoopbackHubMode.Hub"/> mode (unless <see cref="Commit"/> is changed).</summary>
    public const string DefaultCommit = "4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b";

    /// <summary>A renamed-repo alias present in Hub mode: its resolve URLs answer a relative 307 to <see cref="RenamedModelTarget"/>.</summary>
    public const string RenamedModelAlias = "standin/old-bert-tiny";

    public const string RenamedModelTarget = "standin/bert-tiny-imdb-mlm";

    private readonly HttpListener _listener;
    private readonly Task _acceptLoop;
    private readonly ConcurrentQueue<LoopbackRequest> _requests = new();
    private readonly ConcurrentDictionary<string, (long Length, DateTime Modified, string Sha1, string Sha256)> _hashes = new();
    private readonly ConcurrentDictionary<string, string> _cdn = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _renamed = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;

    public LoopbackHubServer(string rootDirectory, LoopbackHubMode mode = LoopbackHubMode.Plain)
    {
        if (!Directory.Exists(rootDirectory))
            throw new DirectoryNotFoundException($"The directory to serve, '{rootDirectory}', does not exist.");
        RootDirectory = Path.GetFullPath(rootDirectory);
        Mode = mode;
        if (mode == LoopbackHubMode.Hub)
            AddRenamedRepo(RenamedModelAlias, RenamedModelTarget);

        (_listener, Endpoint) = StartListener();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The base URL to use as HF_ENDPOINT / <c>HubOptions.Endpoint</c>, without a trailing slash.</summary>
    public string Endpoint { get; }

    public string RootDirectory { get; }

    public LoopbackHubMode Mode { get; }

    /// <summary>The X-Repo-Commit sent in Hub mode.</summary>
    public string Commit { get; set; } = DefaultCommit;

    /// <summary>In Hub mode, files larger than this are served like LFS files (302 to <c>/cdn/{sha256}</c>).</summary>
    public long LfsThreshold { get; set; } = 1024 * 1024;

    /// <summary>When set, resolve requests without <c>Authorization: Bearer {token}</c> get 401 (CDN URLs stay open, as pre-signed ones are).</summary>
    public string? RequiredToken { get; set; }

    /// <summary>When true, every GET body announces Content-Length 1000, sends 10 bytes and drops the connection.</summary>
    public bool TruncateDownloads { get; set; }

    /// <summary>When set, every request is answered with this status and no body (e.g. 500).</summary>
    public int? ForcedStatusCode { get; set; }

    /// <summary>When positive, every answer waits this long first (for timeout tests); disposing the server ends the wait.</summary>
    public TimeSpan ResponseDelay { get; set; }

    /// <summary>Every request so far, in arrival order.</summary>
    public IReadOnlyList<LoopbackRequest> Requests => _requests.ToArray();

    /// <summary>Requests for exactly this URL path (unescaped, e.g. <c>/bert-base-uncased/resolve/main/vocab.txt</c>), optionally of one method.</summary>
    public int RequestCount(string path, string? method = null) =>
        _requests.Count(r => r.Path == path && (method is null || r.Method.Equals(method, StringComparison.OrdinalIgnoreCase)));

    /// <summary>All requests, optionally of one method ("GET", "HEAD").</summary>
    public int TotalRequests(string? method = null) =>
        _requests.Count(r => method is null || r.Method.Equals(method, StringComparison.OrdinalIgnoreCase));

    public void ClearRequests() => _requests.Clear();

    /// <summary>
    /// Makes <c>/{oldRepoPath}/resolve/...</c> answer a relative 307 to <c>/{newRepoPath}/resolve/...</c>, as the Hub
    /// does for renamed repos. Paths are repo ids, prefixed with <c>datasets/</c> for datasets.
    /// </summary>
    public void AddRenamedRepo(string oldRepoPath, string newRepoPath) =>
        _renamed[oldRepoPath.Trim('/')] = newRepoPath.Trim('/');

    /// <summary>The resolve URL path of a file, for <see cref="RequestCount"/>.</summary>
    public static string ResolvePath(string repoId, string filename, bool dataset = false, string revision = "main") =>
        $"/{(dataset ? "datasets/" : "")}{repoId}/resolve/{revision}/{filename}";

    /// <summary>An http://127.0.0.1 endpoint nobody listens on, for "network down" tests.</summary>
    public static string UnusedEndpoint()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return $"http://127.0.0.1:{port}";
    }

    /// <summary>The git blob id (SHA-1 of "blob {size}\0" + content): the Hub's ETag for files kept in git.</summary>
    public static string GitBlobSha1(string path)
    {
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(Encoding.ASCII.GetBytes($"blob {new FileInfo(path).Length}\0"));
        using (var stream = File.OpenRead(path))
        {
            var buffer = new byte[81920];
            int read;
            while ((read = stream.Read(buffer)) > 0)
                sha1.AppendData(buffer, 0, read);
        }
        return Convert.ToHexStringLower(sha1.GetHashAndReset());
    }

    /// <summary>The SHA-256 of a file: the Hub's X-Linked-Etag for LFS files.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>
    /// The file a served path stands for, following links (real symlinks are followed by the OS; one-line link
    /// files holding a relative path, as git checks symlinks out where they are off, are followed here).
    /// </summary>
    public static string? FollowLinks(string path)
    {
        for (var hop = 0; hop < 16; hop++)
        {
            if (!File.Exists(path))
                return null;
            var info = new FileInfo(path);
            if (info.Length is > 0 and < 1024)
            {
                var text = File.ReadAllText(path).Trim();
                if (text.Length > 0 && text.IndexOfAny(['\n', '\r', '\0', '{', '[']) < 0)
                {
                    var target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, text));
                    if (File.Exists(target))
                    {
                        path = target;
                        continue;
                    }
                }
            }
            return Path.GetFullPath(path);
        }
        return null;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _stopping.Cancel();
        try
        {
            _listener.Stop();
            _listener.Close();
        }
        catch (ObjectDisposedException)
        {
        }
        try
        {
            _acceptLoop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _stopping.Dispose();
    }

    private static (HttpListener Listener, string Endpoint) StartListener()
    {
        // The free port is found by binding port 0, then handed to HttpListener; another process can take it in
        // between, so a few tries.
        HttpListenerException? last = null;
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var endpoint = UnusedEndpoint();
            var listener = new HttpListener();
            listener.Prefixes.Add(endpoint + "/");
            try
            {
                listener.Start();
                return (listener, endpoint);
            }
            catch (HttpListenerException e)
            {
                last = e;
                listener.Close();
            }
        }
        throw new InvalidOperationException("Could not start the loopback Hub server on a free port.", last);
    }

    private async Task AcceptLoopAsync()
    {
        while (Volatile.Read(ref _disposed) == 0)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception) when (Volatile.Read(ref _disposed) != 0)
            {
                return;
            }
            catch (HttpListenerException)
            {
                continue;
            }
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        try
        {
            var rawPath = (request.RawUrl ?? "/").Split('?', 2)[0];
            var path = string.Join('/', rawPath.Split('/').Select(Uri.UnescapeDataString));
            _requests.Enqueue(new LoopbackRequest(request.HttpMethod, path, request.Headers["Authorization"]));
            if (ResponseDelay > TimeSpan.Zero)
                await Task.Delay(ResponseDelay, _stopping.Token).ConfigureAwait(false);
            await AnswerAsync(request, response, path).ConfigureAwait(false);
            response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // The client went away or the server is shutting down; nothing to answer.
            try { response.Abort(); } catch (ObjectDisposedException) { }
        }
    }

    private async Task AnswerAsync(HttpListenerRequest request, HttpListenerResponse response, string path)
    {
        var isHead = request.HttpMethod == "HEAD";
        if (request.HttpMethod is not ("GET" or "HEAD"))
        {
            Empty(response, 405);
            return;
        }
        if (ForcedStatusCode is { } forced)
        {
            Empty(response, forced);
            return;
        }

        if (path.StartsWith("/cdn/", StringComparison.Ordinal))
        {
            if (_cdn.TryGetValue(path["/cdn/".Length..], out var blob))
                await SendFileAsync(response, blob, isHead).ConfigureAwait(false);
            else
                Empty(response, 404);
            return;
        }

        if (RequiredToken is { } token && request.Headers["Authorization"] != $"Bearer {token}")
        {
            response.Headers["X-Error-Code"] = "GatedRepo";
            response.Headers["X-Error-Message"] = "Access to this repo is restricted; a valid token is required.";
            Empty(response, 401);
            return;
        }

        foreach (var (from, to) in _renamed)
        {
            var prefix = "/" + from + "/resolve/";
            if (path.StartsWith(prefix, StringComparison.Ordinal))
            {
                // Relative on purpose: the Hub's renamed-repo redirects are, and clients must follow only those.
                var rest = (request.RawUrl ?? "/")[prefix.Length..];
                response.Headers["Location"] = "/" + to + "/resolve/" + rest;
                Empty(response, 307);
                return;
            }
        }

        var relative = path.TrimStart('/');
        var segments = relative.Split('/');
        var file = segments.Any(s => s is "" or "." or "..")
            ? null
            : FollowLinks(Path.Combine([RootDirectory, .. segments]));
        if (file is null)
        {
            if (Mode == LoopbackHubMode.Hub)
            {
                var resolveAt = Array.IndexOf(segments, "resolve");
                var repoExists = resolveAt > 0 && Directory.Exists(Path.Combine([RootDirectory, .. segments[..resolveAt]]));
                if (repoExists)
                    response.Headers["X-Repo-Commit"] = Commit;
                response.Headers["X-Error-Code"] = repoExists ? "EntryNotFound" : "RepoNotFound";
                response.Headers["X-Error-Message"] = repoExists ? "Entry not found" : "Repository not found";
            }
            Empty(response, 404);
            return;
        }

        if (Mode == LoopbackHubMode.Hub)
        {
            var (length, _, sha1, sha256) = Hashes(file);
            response.Headers["X-Repo-Commit"] = Commit;
            if (length > LfsThreshold)
            {
                _cdn[sha256] = file;
                response.Headers["ETag"] = $"\"{sha256}\"";
                response.Headers["X-Linked-Etag"] = $"\"{sha256}\"";
                response.Headers["X-Linked-Size"] = length.ToString();
                response.Headers["Location"] = $"{Endpoint}/cdn/{sha256}";
                Empty(response, 302);
                return;
            }
            // Weak and quoted, so clients have to strip both as huggingface_hub does.
            response.Headers["ETag"] = $"W/\"{sha1}\"";
        }
        await SendFileAsync(response, file, isHead).ConfigureAwait(false);
    }

    private async Task SendFileAsync(HttpListenerResponse response, string file, bool isHead)
    {
        response.StatusCode = 200;
        response.ContentType = file.EndsWith(".json", StringComparison.Ordinal) ? "application/json"
            : file.EndsWith(".txt", StringComparison.Ordinal) ? "text/plain" : "application/octet-stream";
        if (!isHead && TruncateDownloads)
        {
            response.ContentLength64 = 1000;
            await response.OutputStream.WriteAsync(new byte[10]).ConfigureAwait(false);
            await response.OutputStream.FlushAsync().ConfigureAwait(false);
            response.Abort();
            throw new IOException("Truncated on purpose.");
        }
        response.ContentLength64 = new FileInfo(file).Length;
        if (isHead)
            return;
        await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        await stream.CopyToAsync(response.OutputStream).ConfigureAwait(false);
    }

    private static void Empty(HttpListenerResponse response, int status)
    {
        response.StatusCode = status;
        response.ContentLength64 = 0;
    }

    private (long Length, DateTime Modified, string Sha1, string Sha256) Hashes(string file)
    {
        var info = new FileInfo(file);
        if (_hashes.TryGetValue(file, out var known) && known.Length == info.Length && known.Modified == info.LastWriteTimeUtc)
            return known;
        var fresh = (info.Length, info.LastWriteTimeUtc, GitBlobSha1(file), Sha256(file));
        _hashes[file] = fresh;
        return fresh;
    }
}
