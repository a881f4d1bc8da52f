using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace BertSharp.Hub;

/// <summary>
/// Downloads files from the Hugging Face Hub (or any mirror, or a plain static file server) into
/// huggingface_hub's own cache layout, so a file fetched by Python is reused here and the other way round.
/// </summary>
public sealed class HubClient : IDisposable
{
    private const int MaxRedirects = 10;
    private const long ProgressInterval = 256 * 1024;

    private readonly HttpClient _http;
    private readonly Uri _endpointUri;

    /// <param name="options">Where to download from and cache to; null reads the environment like huggingface_hub.</param>
    /// <param name="handler">
    /// A transport for tests or proxies. It must not follow redirects itself: the Hub's metadata lives on the
    /// redirect answer. The caller keeps ownership of it.
    /// </param>
    public HubClient(HubOptions? options = null, HttpMessageHandler? handler = null)
    {
        Options = options ?? HubOptions.FromEnvironment();
        if (!Uri.TryCreate(Options.Endpoint, UriKind.Absolute, out var endpoint) ||
            (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"The Hub endpoint '{Options.Endpoint}' is not an http(s) URL; check HF_ENDPOINT.");
        _endpointUri = endpoint;

        _http = handler is null
            ? new HttpClient(new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.None,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            }, disposeHandler: true)
            : new HttpClient(handler, disposeHandler: false);
        // Timeouts are applied per request and per read instead, so a large file is not cut off while still flowing.
        _http.Timeout = System.Threading.Timeout.InfiniteTimeSpan;
        var version = typeof(HubClient).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("BertSharp", version));
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("dotnet", Environment.Version.ToString()));
    }

    public HubOptions Options { get; }

    /// <summary>
    /// Returns the absolute path of <paramref name="filename"/> under the cache's <c>snapshots/</c>, downloading it
    /// first unless it is already cached for the commit that <paramref name="revision"/> names now.
    /// </summary>
    /// <exception cref="HubFileNotFoundException">The server answered 404.</exception>
    /// <exception cref="HubAuthenticationException">The server answered 401 or 403.</exception>
    /// <exception cref="HubException">Any other failure, including offline mode with nothing cached.</exception>
    public async Task<string> DownloadFileAsync(string repoId, string filename, RepoType repoType = RepoType.Model,
        string revision = "main", IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
        => (await DownloadCoreAsync(repoId, filename, repoType, revision, progress, optional: false, cancellationToken).ConfigureAwait(false))!;

    /// <summary>Blocking form of <see cref="DownloadFileAsync"/> for callers without an async context.</summary>
    public string DownloadFile(string repoId, string filename, RepoType repoType = RepoType.Model,
        string revision = "main", IProgress<DownloadProgress>? progress = null)
        // Task.Run keeps a caller's synchronization context from deadlocking on the continuations.
        => Task.Run(() => DownloadFileAsync(repoId, filename, repoType, revision, progress)).GetAwaiter().GetResult();

    /// <summary>
    /// Like <see cref="DownloadFileAsync"/>, but null when the file does not exist in the repo (404), for optional
    /// files such as <c>tokenizer.json</c>. A missing repo or revision still throws. Offline, null means the
    /// revision is cached but this file was never downloaded for it (what transformers does for optional files);
    /// a revision that is not cached at all still throws, because nothing is known about it.
    /// </summary>
    public Task<string?> TryDownloadFileAsync(string repoId, string filename, RepoType repoType = RepoType.Model,
        string revision = "main", IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
        => DownloadCoreAsync(repoId, filename, repoType, revision, progress, optional: true, cancellationToken);

    /// <summary>The cached path for the revision, without any network access; null when not cached.</summary>
    public string? TryGetCachedFile(string repoId, string filename, RepoType repoType = RepoType.Model, string revision = "main")
    {
        ValidateArguments(repoId, filename, revision);
        var (state, path) = HubCache.Find(GetRepoCacheDirectory(repoId, repoType), filename, revision);
        return state == HubCache.Lookup.Found ? path : null;
    }

    /// <summary>The repo's folder in the cache, e.g. <c>{CacheDir}/models--org--name</c>.</summary>
    public string GetRepoCacheDirectory(string repoId, RepoType repoType)
    {
        if (!IsValidRepoId(repoId))
            throw new ArgumentException($"'{repoId}' is not a valid Hub repo id (expected 'name' or 'org/name').");
        return Path.GetFullPath(Path.Combine(Options.CacheDir, HubCache.RepoFolderName(repoId, repoType)));
    }

    /// <summary>
    /// huggingface_hub's repo id rules: "name" or "org/name", each part of [A-Za-z0-9._-], at most 96 characters,
    /// not starting or ending with '-' or '.', no "--" or "..", not ending with ".git".
    /// </summary>
    public static bool IsValidRepoId(string value)
    {
        if (string.IsNullOrEmpty(value) || value.Contains("--", StringComparison.Ordinal) ||
            value.Contains("..", StringComparison.Ordinal) || value.EndsWith(".git", StringComparison.Ordinal))
            return false;
        var parts = value.Split('/');
        if (parts.Length > 2)
            return false;
        foreach (var part in parts)
        {
            if (part.Length is 0 or > 96 || part[0] is '-' or '.' || part[^1] is '-' or '.')
                return false;
            foreach (var c in part)
                if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                    return false;
        }
        return true;
    }

    public void Dispose() => _http.Dispose();

    private sealed record FileRequest(string RepoId, string FileName, RepoType RepoType, string Revision)
    {
        public string Describe() => $"'{FileName}' of {(RepoType == RepoType.Dataset ? "dataset" : "model")} '{RepoId}' at revision '{Revision}'";
    }

    // Location is where the bytes are (a CDN for LFS files); Commit and Etag are null from servers that are not the Hub.
    private sealed record RemoteFile(Uri Location, string? Commit, string? Etag, long? Size);

    private async Task<string?> DownloadCoreAsync(string repoId, string filename, RepoType repoType, string revision,
        IProgress<DownloadProgress>? progress, bool optional, CancellationToken cancellationToken)
    {
        ValidateArguments(repoId, filename, revision);
        cancellationToken.ThrowIfCancellationRequested();
        var request = new FileRequest(repoId, filename, repoType, revision);
        var repoDir = GetRepoCacheDirectory(repoId, repoType);

        if (Options.Offline)
            return FromCacheOffline(request, repoDir, progress, optional);

        // A commit hash names immutable content: a cached copy cannot be stale, so no request is needed.
        if (HubCache.IsCommitHash(revision))
        {
            var pointer = HubCache.SnapshotPath(repoDir, revision, filename);
            if (File.Exists(pointer))
                return ReportCached(request, pointer, progress);
        }

        var url = ResolveUrl(request);
        RemoteFile remote;
        try
        {
            remote = await GetMetadataAsync(request, url, repoDir, cancellationToken).ConfigureAwait(false);
        }
        catch (HubFileNotFoundException e) when (optional && e.IsMissingEntry)
        {
            return null;
        }
        catch (Exception e) when (IsUnreachable(e, cancellationToken))
        {
            // Like huggingface_hub: a Hub that cannot be reached must not stop work on files already cached.
            var (state, cached) = HubCache.Find(repoDir, filename, revision);
            if (state == HubCache.Lookup.Found)
            {
                Options.Log?.Invoke($"Could not reach {url} ({Reason(e)}); using the cached {request.Describe()} at {cached}.");
                return ReportCached(request, cached!, progress);
            }
            if (e is HubException { StatusCode: not null })
                throw;
            throw new HubException(
                $"Could not reach {url} ({Reason(e)}), and {request.Describe()} is not in the cache {repoDir}. " +
                "Check the network connection and HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to work only from the cache.",
                e, null, url.AbsoluteUri);
        }

        return await FetchIntoCacheAsync(request, remote, repoDir, progress, cancellationToken).ConfigureAwait(false);
    }

    private string? FromCacheOffline(FileRequest request, string repoDir, IProgress<DownloadProgress>? progress, bool optional)
    {
        var (state, path) = HubCache.Find(repoDir, request.FileName, request.Revision);
        switch (state)
        {
            case HubCache.Lookup.Found:
                return ReportCached(request, path!, progress);
            case HubCache.Lookup.KnownMissing when optional:
            case HubCache.Lookup.RevisionCachedFileMissing when optional:
                return null;
            case HubCache.Lookup.KnownMissing:
                throw new HubFileNotFoundException(
                    $"{Capitalize(request.Describe())} does not exist: the cache {repoDir} recorded a 404 for it, and offline mode is on (HF_HUB_OFFLINE).",
                    request.RepoId, request.FileName, request.Revision, null, "EntryNotFound");
            default:
                throw new HubException(
                    $"{Capitalize(request.Describe())} is not in the cache {repoDir}, and offline mode is on (HF_HUB_OFFLINE), " +
                    "so it cannot be downloaded. Download it once with network access, or unset HF_HUB_OFFLINE.");
        }
    }

    private Uri ResolveUrl(FileRequest request)
    {
        var path = string.Join('/', request.FileName.Split('/').Select(Uri.EscapeDataString));
        var prefix = request.RepoType == RepoType.Dataset ? "datasets/" : "";
        // The revision is escaped whole ("refs/pr/1" → "refs%2Fpr%2F1") because the Hub reads it as one segment.
        return new Uri($"{Options.Endpoint}/{prefix}{request.RepoId}/resolve/{Uri.EscapeDataString(request.Revision)}/{path}");
    }

    /// <summary>
    /// HEAD without following redirects, as huggingface_hub does: the commit, etag and size are on the first
    /// answer, and an LFS file's 302 points at the CDN. Only relative redirects (renamed repos) are followed.
    /// </summary>
    private async Task<RemoteFile> GetMetadataAsync(FileRequest request, Uri url, string repoDir, CancellationToken cancellationToken)
    {
        var uri = url;
        for (var redirects = 0; ; redirects++)
        {
            using var message = new HttpRequestMessage(HttpMethod.Head, uri);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.Timeout);
            using var response = await SendAsync(message, timeout.Token, cancellationToken).ConfigureAwait(false);

            var status = (int)response.StatusCode;
            if (status is >= 300 and < 400)
            {
                var location = response.Headers.Location
                    ?? throw new HubException($"The server answered {status} without a Location for {uri}.", null, response.StatusCode, uri.AbsoluteUri);
                var target = new Uri(uri, location);
                var isRelative = !location.IsAbsoluteUri && !location.OriginalString.StartsWith("//", StringComparison.Ordinal);
                if (isRelative)
                {
                    if (redirects >= MaxRedirects)
                        throw new HubException($"Too many redirects resolving {url}.", null, response.StatusCode, uri.AbsoluteUri);
                    uri = target;
                    continue;
                }
                return ReadMetadata(response, target);
            }

            if (!response.IsSuccessStatusCode)
            {
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    // The Hub names the commit even for a missing file; remembering the miss lets offline lookups
                    // of optional files answer "absent" instead of "unknown", as huggingface_hub's .no_exist does.
                    var commit = Header(response, "X-Repo-Commit");
                    if (HubCache.IsSafeName(commit) && Header(response, "X-Error-Code") is null or "EntryNotFound")
                        HubCache.MarkMissing(repoDir, request.Revision, commit!, request.FileName);
                }
                throw StatusError(request, response, uri);
            }
            return ReadMetadata(response, uri);
        }
    }

    private static RemoteFile ReadMetadata(HttpResponseMessage response, Uri location)
    {
        var etag = NormalizeEtag(Header(response, "X-Linked-Etag")) ?? NormalizeEtag(Header(response, "ETag"));
        long? size = long.TryParse(Header(response, "X-Linked-Size"), out var linked) ? linked : response.Content.Headers.ContentLength;
        return new RemoteFile(location, Header(response, "X-Repo-Commit")?.Trim(), etag, size);
    }

    private static string? NormalizeEtag(string? etag)
    {
        if (string.IsNullOrWhiteSpace(etag))
            return null;
        etag = etag.Trim();
        if (etag.StartsWith("W/", StringComparison.Ordinal))
            etag = etag[2..];
        etag = etag.Trim('"');
        return etag.Length == 0 ? null : etag;
    }

    private async Task<string> FetchIntoCacheAsync(FileRequest request, RemoteFile remote, string repoDir,
        IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        // Only a server that names a commit is trusted to give content-addressed etags: a static server's etag
        // (often mtime-size) could name two different files alike. Without one, the revision names the snapshot
        // (Python offline resolves refs/main → snapshots/main just the same) and the content's SHA-256 names the blob.
        var commit = HubCache.IsSafeName(remote.Commit) ? remote.Commit! : request.Revision;
        var blobName = HubCache.IsSafeName(remote.Commit) && HubCache.IsSafeName(remote.Etag) ? remote.Etag : null;

        if (!(commit == request.Revision && HubCache.IsCommitHash(commit)))
            HubCache.WriteRef(repoDir, request.Revision, commit);

        var pointer = HubCache.SnapshotPath(repoDir, commit, request.FileName);
        if (File.Exists(pointer))
        {
            // Under a real commit the content is fixed. Under a plain server's "main" it may have changed: the
            // size is the only hint such a server gives without sending the whole file.
            if (blobName is not null || remote.Size is null || FileLength(pointer) == remote.Size)
                return ReportCached(request, pointer, progress);
        }

        string blob;
        if (blobName is not null)
        {
            blob = HubCache.BlobPath(repoDir, blobName);
            if (File.Exists(blob))
            {
                HubCache.LinkSnapshot(blob, pointer);
                return ReportCached(request, pointer, progress);
            }
        }

        var blobsDir = Path.Combine(repoDir, "blobs");
        Directory.CreateDirectory(blobsDir);
        // A unique name, not huggingface_hub's "{etag}.incomplete": two downloads of one file (threads or processes)
        // then never write into each other's bytes, and the rename below is atomic.
        var temp = Path.Combine(blobsDir, $"{blobName ?? "download"}.{Guid.NewGuid().ToString("N")[..12]}.incomplete");
        try
        {
            var sha256 = await DownloadToFileAsync(request, remote, temp, blobName is null ? null : remote.Size, progress, cancellationToken)
                .ConfigureAwait(false);
            blob = HubCache.BlobPath(repoDir, blobName ?? sha256);
            File.Move(temp, blob, overwrite: true);
        }
        finally
        {
            HubCache.TryDelete(temp);
        }
        HubCache.LinkSnapshot(blob, pointer);
        return pointer;
    }

    /// <summary>Streams the file into <paramref name="path"/> and returns the hex SHA-256 of what was written.</summary>
    private async Task<string> DownloadToFileAsync(FileRequest request, RemoteFile remote, string path, long? expectedSize,
        IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.Timeout);
        HttpResponseMessage response;
        try
        {
            response = await GetFollowingRedirectsAsync(request, remote.Location, timeout.Token, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException)
        {
            throw new HubException($"Download of {request.Describe()} from {remote.Location} failed: {e.Message}", e, null, remote.Location.AbsoluteUri);
        }
        using var _ = response;

        var contentLength = response.Content.Headers.ContentLength;
        var total = contentLength ?? expectedSize;
        progress?.Report(new DownloadProgress(request.RepoId, request.FileName, 0, total, false));

        long written = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(128 * 1024);
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            long lastReport = 0;
            while (true)
            {
                // Reset per read: the limit is on a stalled connection, not on the whole transfer.
                timeout.CancelAfter(Options.Timeout);
                var read = await body.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
                if (read == 0)
                    break;
                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                written += read;
                if (written - lastReport >= ProgressInterval)
                {
                    lastReport = written;
                    progress?.Report(new DownloadProgress(request.RepoId, request.FileName, written, total, false));
                }
            }
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HubException(
                $"Download of {request.Describe()} from {remote.Location} stalled for {Options.Timeout.TotalSeconds:0.#} s after {written} bytes.",
                e, null, remote.Location.AbsoluteUri);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new HubException(
                $"Download of {request.Describe()} from {remote.Location} broke off after {written} of {total?.ToString() ?? "?"} bytes: {e.Message}",
                e, null, remote.Location.AbsoluteUri);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (contentLength is { } announced && written != announced)
            throw new HubException(
                $"Download of {request.Describe()} from {remote.Location} ended after {written} of {announced} bytes.",
                null, null, remote.Location.AbsoluteUri);
        if (expectedSize is { } expected && written != expected)
            throw new HubException(
                $"Download of {request.Describe()} from {remote.Location} gave {written} bytes, but the Hub announced {expected}.",
                null, null, remote.Location.AbsoluteUri);

        progress?.Report(new DownloadProgress(request.RepoId, request.FileName, written, written, false));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private async Task<HttpResponseMessage> GetFollowingRedirectsAsync(FileRequest request, Uri location,
        CancellationToken timeoutToken, CancellationToken cancellationToken)
    {
        var uri = location;
        for (var redirects = 0; ; redirects++)
        {
            var message = new HttpRequestMessage(HttpMethod.Get, uri);
            HttpResponseMessage response;
            try
            {
                response = await SendAsync(message, timeoutToken, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                message.Dispose();
            }

            var status = (int)response.StatusCode;
            if (status is >= 300 and < 400 && response.Headers.Location is { } next && redirects < MaxRedirects)
            {
                response.Dispose();
                uri = new Uri(uri, next);
                continue;
            }
            if (!response.IsSuccessStatusCode)
            {
                using (response)
                    throw StatusError(request, response, uri);
            }
            return response;
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage message, CancellationToken timeoutToken, CancellationToken cancellationToken)
    {
        // The token goes only to the endpoint's own host: a CDN URL is pre-signed, and sending the token
        // there would hand it to a third party (requests strips it on such redirects for the same reason).
        if (Options.Token is { Length: > 0 } token && IsEndpointHost(message.RequestUri!))
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        // Compression would make Content-Length describe the compressed bytes, not the file.
        message.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
        try
        {
            return await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeoutToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"No answer from {message.RequestUri} within {Options.Timeout.TotalSeconds:0.#} s.", e);
        }
    }

    private bool IsEndpointHost(Uri uri) =>
        string.Equals(uri.Scheme, _endpointUri.Scheme, StringComparison.OrdinalIgnoreCase) &&
        string.Equals(uri.IdnHost, _endpointUri.IdnHost, StringComparison.OrdinalIgnoreCase) &&
        uri.Port == _endpointUri.Port;

    private HubException StatusError(FileRequest request, HttpResponseMessage response, Uri uri)
    {
        var status = (int)response.StatusCode;
        var serverSays = Header(response, "X-Error-Message") is { Length: > 0 } said ? $" The server said: {said}" : "";
        switch (response.StatusCode)
        {
            case HttpStatusCode.NotFound:
                return new HubFileNotFoundException(
                    $"{Capitalize(request.Describe())} was not found at {uri}; check the repo id and file name, " +
                    $"or set HF_ENDPOINT (the endpoint now is {Options.Endpoint}).{serverSays}",
                    request.RepoId, request.FileName, request.Revision, uri.AbsoluteUri, Header(response, "X-Error-Code"));
            case HttpStatusCode.Unauthorized:
            case HttpStatusCode.Forbidden:
                var tokenState = Options.Token is { Length: > 0 }
                    ? "HF_TOKEN is set, but the server did not accept it for this repo"
                    : "HF_TOKEN is not set";
                return new HubAuthenticationException(
                    $"Access to {request.Describe()} at {uri} was refused ({status} {response.ReasonPhrase}). " +
                    $"The repo may be private or gated (accept its terms on the Hub), or may not exist; {tokenState}. " +
                    $"Set HF_TOKEN to a token that can read it.{serverSays}",
                    response.StatusCode, uri.AbsoluteUri);
            default:
                return new HubException(
                    $"The server answered {status} {response.ReasonPhrase} for {request.Describe()} at {uri}.{serverSays}",
                    null, response.StatusCode, uri.AbsoluteUri);
        }
    }

    // Failures worth retrying from the cache: the network, a timeout, or a server that is down or overloaded.
    // A 401/403/404 is an answer about the repo itself and is reported instead.
    private static bool IsUnreachable(Exception e, CancellationToken cancellationToken) => e switch
    {
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        HttpRequestException or TimeoutException => true,
        HubException { StatusCode: { } code } => (int)code >= 500 || code == HttpStatusCode.TooManyRequests,
        _ => false,
    };

    private static string Reason(Exception e) => e switch
    {
        HubException { StatusCode: { } code } => $"HTTP {(int)code}",
        HttpRequestException { HttpRequestError: not HttpRequestError.Unknown } h => $"{h.HttpRequestError}: {h.Message}",
        _ => e.Message,
    };

    private string ReportCached(FileRequest request, string path, IProgress<DownloadProgress>? progress)
    {
        if (progress is not null)
        {
            var size = FileLength(path);
            progress.Report(new DownloadProgress(request.RepoId, request.FileName, size, size, true));
        }
        return path;
    }

    // FileInfo.Length of a symlink is the link's own length; the snapshot entries are links to blobs.
    private static long FileLength(string path)
    {
        var info = new FileInfo(path);
        return (info.LinkTarget is null ? info : info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info).Length;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.NonValidated.TryGetValues(name, out var values) ? values.ToString() : null;

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private static void ValidateArguments(string repoId, string filename, string revision)
    {
        ArgumentNullException.ThrowIfNull(repoId);
        ArgumentNullException.ThrowIfNull(filename);
        ArgumentNullException.ThrowIfNull(revision);
        // No parameter names: ids, files and revisions come from users, and these messages are all they see.
        if (!IsValidRepoId(repoId))
            throw new ArgumentException($"'{repoId}' is not a valid Hub repo id (expected 'name' or 'org/name').");
        if (!HubCache.IsSafeRelativePath(filename))
            throw new ArgumentException($"'{filename}' is not a valid file name inside a repo (use '/' between folders, no '..').");
        if (!HubCache.IsSafeRelativePath(revision))
            throw new ArgumentException($"'{revision}' is not a valid revision (of {repoId}).");
    }
}
