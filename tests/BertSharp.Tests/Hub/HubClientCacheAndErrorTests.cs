using System.Net;
using System.Net.Http.Headers;
using BertSharp.Hub;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Hub;

public class HubClientCacheAndErrorTests
{
    private const string PythonCommit = "a265f773a47193eed794233aa2a0f0bb6d3eaa63";

    [Theory]
    [InlineData(LoopbackHubMode.Plain)]
    [InlineData(LoopbackHubMode.Hub)]
    public async Task Offline_mode_uses_the_cache_and_makes_no_request(LoopbackHubMode mode)
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, mode);
        using var cache = new TempCache();
        string online;
        using (var hub = new HubClient(cache.Options(server.Endpoint)))
            online = await hub.DownloadFileAsync(Sources.TinyRepo, "config.json");
        var before = server.TotalRequests();

        using var offline = new HubClient(cache.Options(server.Endpoint, offline: true));
        var progress = new ListProgress();
        var path = await offline.DownloadFileAsync(Sources.TinyRepo, "config.json", progress: progress);

        Assert.Equal(online, path);
        Assert.Equal(before, server.TotalRequests());
        Assert.True(Assert.Single(progress.Reports).FromCache);
    }

    [Fact]
    public async Task Offline_mode_without_the_file_fails_clearly_without_requests()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub);
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options(server.Endpoint, offline: true));

        var error = await Assert.ThrowsAsync<HubException>(() => hub.DownloadFileAsync(Sources.TinyRepo, "config.json", revision: "v1"));

        Assert.Contains(Sources.TinyRepo, error.Message);
        Assert.Contains("config.json", error.Message);
        Assert.Contains("'v1'", error.Message);
        Assert.Contains(cache.Directory, error.Message);
        Assert.Contains("offline", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("HF_HUB_OFFLINE", error.Message);
        Assert.Equal(0, server.TotalRequests());
    }

    [Fact]
    public async Task Cache_written_the_way_python_writes_it_is_reused()
    {
        using var cache = new TempCache();
        var repoDir = Path.Combine(cache.Directory, "models--standin--bert-tiny-imdb-mlm");
        var source = Sources.Tiny("config.json");
        var etag = LoopbackHubServer.GitBlobSha1(source);
        Directory.CreateDirectory(Path.Combine(repoDir, "blobs"));
        Directory.CreateDirectory(Path.Combine(repoDir, "refs"));
        Directory.CreateDirectory(Path.Combine(repoDir, "snapshots", PythonCommit));
        File.Copy(source, Path.Combine(repoDir, "blobs", etag));
        File.WriteAllText(Path.Combine(repoDir, "refs", "main"), PythonCommit);
        File.CreateSymbolicLink(Path.Combine(repoDir, "snapshots", PythonCommit, "config.json"), $"../../blobs/{etag}");
        var expected = Path.Combine(repoDir, "snapshots", PythonCommit, "config.json");

        // Offline by revision name and by commit hash.
        using (var offline = new HubClient(cache.Options("http://127.0.0.1:9", offline: true)))
        {
            Assert.Equal(expected, await offline.DownloadFileAsync(Sources.TinyRepo, "config.json"));
            Assert.Equal(expected, await offline.DownloadFileAsync(Sources.TinyRepo, "config.json", revision: PythonCommit));
            Assert.Equal(expected, offline.TryGetCachedFile(Sources.TinyRepo, "config.json"));
            Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(expected));
        }

        // Online, a commit hash is immutable: no request at all.
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub);
        using var online = new HubClient(cache.Options(server.Endpoint));
        Assert.Equal(expected, await online.DownloadFileAsync(Sources.TinyRepo, "config.json", revision: PythonCommit));
        Assert.Equal(0, server.TotalRequests());
    }

    [Fact]
    public async Task Unreachable_endpoint_falls_back_to_the_cache_and_says_so()
    {
        using var cache = new TempCache();
        string cached;
        using (var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub))
        using (var hub = new HubClient(cache.Options(server.Endpoint)))
            cached = await hub.DownloadFileAsync(Sources.TinyRepo, "config.json");

        var log = new List<string>();
        var down = LoopbackHubServer.UnusedEndpoint();
        using var client = new HubClient(cache.Options(down, log: log.Add));
        var progress = new ListProgress();
        var path = await client.DownloadFileAsync(Sources.TinyRepo, "config.json", progress: progress);

        Assert.Equal(cached, path);
        Assert.True(Assert.Single(progress.Reports).FromCache);
        Assert.Contains(log, line => line.Contains("Could not reach") && line.Contains("cached"));

        var error = await Assert.ThrowsAsync<HubException>(() => client.DownloadFileAsync(Sources.TinyRepo, "vocab.txt"));
        Assert.Contains("Could not reach", error.Message);
        Assert.Contains("HF_HUB_OFFLINE", error.Message);
        Assert.IsType<HttpRequestException>(error.InnerException);
    }

    [Fact]
    public async Task Server_error_is_reported_with_status_and_url_unless_the_file_is_cached()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub);
        using var cache = new TempCache();
        var log = new List<string>();
        using var hub = new HubClient(cache.Options(server.Endpoint, log: log.Add));
        var cached = await hub.DownloadFileAsync(Sources.TinyRepo, "config.json");
        server.ForcedStatusCode = 500;

        var error = await Assert.ThrowsAsync<HubException>(() => hub.DownloadFileAsync(Sources.TinyRepo, "vocab.txt"));
        Assert.Equal(HttpStatusCode.InternalServerError, error.StatusCode);
        Assert.Contains("500", error.Message);
        Assert.Contains($"{server.Endpoint}/{Sources.TinyRepo}/resolve/main/vocab.txt", error.Message);
        Assert.Equal($"{server.Endpoint}/{Sources.TinyRepo}/resolve/main/vocab.txt", error.Url);

        Assert.Equal(cached, await hub.DownloadFileAsync(Sources.TinyRepo, "config.json"));
        Assert.Contains(log, line => line.Contains("HTTP 500"));
    }

    [Fact]
    public async Task Slow_server_times_out_per_request_and_falls_back_to_the_cache()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub);
        using var cache = new TempCache();
        var log = new List<string>();
        using var hub = new HubClient(cache.Options(server.Endpoint, log: log.Add) with { Timeout = TimeSpan.FromMilliseconds(300) });
        var cached = await hub.DownloadFileAsync(Sources.TinyRepo, "config.json");
        server.ResponseDelay = TimeSpan.FromSeconds(5);

        var error = await Assert.ThrowsAsync<HubException>(() => hub.DownloadFileAsync(Sources.TinyRepo, "vocab.txt"));
        Assert.IsType<TimeoutException>(error.InnerException);
        Assert.Contains("Could not reach", error.Message);

        Assert.Equal(cached, await hub.DownloadFileAsync(Sources.TinyRepo, "config.json"));
        Assert.Contains(log, line => line.Contains("within 0.3 s"));
    }

    [Theory]
    [InlineData(LoopbackHubMode.Plain)]
    [InlineData(LoopbackHubMode.Hub)]
    public async Task Missing_file_names_repo_file_revision_and_endpoint(LoopbackHubMode mode)
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, mode);
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options(server.Endpoint));

        var error = await Assert.ThrowsAsync<HubFileNotFoundException>(() => hub.DownloadFileAsync(Sources.TinyRepo, "pytorch_model.bin"));

        Assert.Contains(Sources.TinyRepo, error.Message);
        Assert.Contains("pytorch_model.bin", error.Message);
        Assert.Contains("'main'", error.Message);
        Assert.Contains(server.Endpoint, error.Message);
        Assert.Contains("HF_ENDPOINT", error.Message);
        Assert.Contains("check the repo id and file name", error.Message);
        Assert.Equal((Sources.TinyRepo, "pytorch_model.bin", "main"), (error.RepoId, error.FileName, error.Revision));
        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Null(await hub.TryDownloadFileAsync(Sources.TinyRepo, "pytorch_model.bin"));
        Assert.Null(await hub.TryDownloadFileAsync(Sources.TinyRepo, "pytorch_model.bin"));
    }

    [Fact]
    public async Task Missing_repo_is_not_an_optional_file()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub);
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options(server.Endpoint));

        var error = await Assert.ThrowsAsync<HubFileNotFoundException>(() => hub.TryDownloadFileAsync("nobody/nothing", "config.json"));
        Assert.Equal("RepoNotFound", error.ErrorCode);
    }

    [Fact]
    public async Task Hub_404_is_remembered_so_offline_optional_lookups_answer_null()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub);
        using var cache = new TempCache();
        using (var hub = new HubClient(cache.Options(server.Endpoint)))
        {
            await hub.DownloadFileAsync(Sources.TinyRepo, "config.json");
            Assert.Null(await hub.TryDownloadFileAsync(Sources.TinyRepo, "special_tokens_map.json"));
        }
        var repoDir = Path.Combine(cache.Directory, "models--standin--bert-tiny-imdb-mlm");
        Assert.True(File.Exists(Path.Combine(repoDir, ".no_exist", LoopbackHubServer.DefaultCommit, "special_tokens_map.json")));

        using var offline = new HubClient(cache.Options(server.Endpoint, offline: true));
        var before = server.TotalRequests();
        Assert.Null(await offline.TryDownloadFileAsync(Sources.TinyRepo, "special_tokens_map.json"));
        // The revision is cached, so an optional file never fetched for it counts as absent (as in transformers).
        Assert.Null(await offline.TryDownloadFileAsync(Sources.TinyRepo, "added_tokens.json"));
        await Assert.ThrowsAsync<HubFileNotFoundException>(() => offline.DownloadFileAsync(Sources.TinyRepo, "special_tokens_map.json"));
        // A repo that is not cached at all is unknown, not absent.
        await Assert.ThrowsAsync<HubException>(() => offline.TryDownloadFileAsync("bert-base-uncased", "vocab.txt"));
        Assert.Equal(before, server.TotalRequests());
    }

    [Fact]
    public async Task Token_is_sent_as_bearer_and_its_absence_is_explained()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub) { RequiredToken = "hf_test_secret", LfsThreshold = 64 * 1024 };
        using var cache = new TempCache();

        using (var anonymous = new HubClient(cache.Options(server.Endpoint)))
        {
            var error = await Assert.ThrowsAsync<HubAuthenticationException>(() => anonymous.DownloadFileAsync(Sources.TinyRepo, "config.json"));
            Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
            Assert.Contains("HF_TOKEN", error.Message);
            Assert.Contains("gated", error.Message);
            Assert.Contains(Sources.TinyRepo, error.Message);
            // 401 is an answer, not an outage: optional lookups must not hide it.
            await Assert.ThrowsAsync<HubAuthenticationException>(() => anonymous.TryDownloadFileAsync(Sources.TinyRepo, "config.json"));
        }

        using (var wrong = new HubClient(cache.Options(server.Endpoint, token: "hf_wrong_value")))
        {
            var error = await Assert.ThrowsAsync<HubAuthenticationException>(() => wrong.DownloadFileAsync(Sources.TinyRepo, "config.json"));
            Assert.DoesNotContain("hf_wrong_value", error.Message);
            Assert.Contains("HF_TOKEN is set", error.Message);
        }

        using var hub = new HubClient(cache.Options(server.Endpoint, token: "hf_test_secret"));
        var path = await hub.DownloadFileAsync(Sources.TinyRepo, "tokenizer.json");
        Assert.Equal(File.ReadAllBytes(Sources.Tiny("tokenizer.json")), File.ReadAllBytes(path));
        Assert.Contains(server.Requests, r => r.Method == "HEAD" && r.Authorization == "Bearer hf_test_secret");
        Assert.DoesNotContain("hf_test_secret", hub.Options.ToString());
    }

    [Fact]
    public async Task Token_is_not_sent_to_a_cdn_on_another_host()
    {
        var handler = new FakeHubHandler();
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options("https://hub.example.test", token: "hf_secret"), handler);

        var path = await hub.DownloadFileAsync("org/model", "model.safetensors");

        Assert.Equal(FakeHubHandler.Content, File.ReadAllBytes(path));
        Assert.Equal("Bearer hf_secret", handler.Seen.Single(s => s.Host == "hub.example.test").Authorization);
        Assert.Null(handler.Seen.Single(s => s.Host == "cdn.example.test").Authorization);
        Assert.All(handler.Seen, s => Assert.StartsWith("BertSharp/", s.UserAgent));
        Assert.Equal($"../../blobs/{FakeHubHandler.Sha}", new FileInfo(path).LinkTarget);
        Assert.Equal("0123456789012345678901234567890123456789", File.ReadAllText(Path.Combine(cache.Directory, "models--org--model", "refs", "main")));
    }

    [Theory]
    [InlineData(LoopbackHubMode.Plain)]
    [InlineData(LoopbackHubMode.Hub)]
    public async Task Truncated_body_fails_naming_the_file_and_leaves_no_cache_entry(LoopbackHubMode mode)
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, mode) { TruncateDownloads = true };
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options(server.Endpoint));

        var error = await Assert.ThrowsAsync<HubException>(() => hub.DownloadFileAsync(Sources.TinyRepo, "vocab.txt"));

        Assert.Contains("vocab.txt", error.Message);
        Assert.Contains(Sources.TinyRepo, error.Message);
        var repoDir = hub.GetRepoCacheDirectory(Sources.TinyRepo, RepoType.Model);
        var blobs = Path.Combine(repoDir, "blobs");
        Assert.True(!Directory.Exists(blobs) || Directory.GetFiles(blobs).Length == 0);
        Assert.False(Directory.Exists(Path.Combine(repoDir, "snapshots")));
        Assert.Null(hub.TryGetCachedFile(Sources.TinyRepo, "vocab.txt"));

        server.TruncateDownloads = false;
        var path = await hub.DownloadFileAsync(Sources.TinyRepo, "vocab.txt");
        Assert.Equal(File.ReadAllBytes(Sources.Tiny("vocab.txt")), File.ReadAllBytes(path));
    }

    [Fact]
    public void Invalid_arguments_are_rejected_before_any_io()
    {
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options("http://127.0.0.1:9"));
        Assert.Throws<ArgumentException>(() => hub.TryGetCachedFile("not a repo", "config.json"));
        Assert.Throws<ArgumentException>(() => hub.TryGetCachedFile("org/repo", "../../etc/passwd"));
        Assert.Throws<ArgumentException>(() => hub.TryGetCachedFile("org/repo", "config.json", revision: "../x"));
        Assert.Equal(Path.Combine(cache.Directory, "datasets--stanfordnlp--imdb"), hub.GetRepoCacheDirectory("stanfordnlp/imdb", RepoType.Dataset));
    }

    /// <summary>Answers like huggingface.co for one LFS file whose bytes live on a CDN host.</summary>
    private sealed class FakeHubHandler : HttpMessageHandler
    {
        public static readonly byte[] Content = "pretend these are weights"u8.ToArray();
        public static readonly string Sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Content));

        public List<(string Host, string? Authorization, string UserAgent)> Seen { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (Seen)
                Seen.Add((request.RequestUri!.Host, request.Headers.Authorization?.ToString(), request.Headers.UserAgent.ToString()));
            HttpResponseMessage response;
            if (request.RequestUri.Host == "hub.example.test")
            {
                response = new HttpResponseMessage(HttpStatusCode.Found) { Content = new ByteArrayContent([]) };
                response.Headers.Location = new Uri($"https://cdn.example.test/blobs/{Sha}?signature=abc");
                response.Headers.TryAddWithoutValidation("X-Repo-Commit", "0123456789012345678901234567890123456789");
                response.Headers.TryAddWithoutValidation("X-Linked-Etag", $"\"{Sha}\"");
                response.Headers.TryAddWithoutValidation("X-Linked-Size", Content.Length.ToString());
                response.Headers.ETag = new EntityTagHeaderValue("\"" + Sha + "\"");
            }
            else
            {
                response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(Content) };
            }
            response.RequestMessage = request;
            return Task.FromResult(response);
        }
    }
}
