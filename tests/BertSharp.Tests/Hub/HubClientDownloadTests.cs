using BertSharp.Hub;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Hub;

public class HubClientDownloadTests
{
    [Fact]
    public async Task Plain_server_download_uses_revision_as_commit_and_sha256_as_blob()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Plain);
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options(server.Endpoint));

        var path = await hub.DownloadFileAsync(Sources.TinyRepo, "config.json");

        var repoDir = Path.Combine(cache.Directory, "models--standin--bert-tiny-imdb-mlm");
        var source = Sources.Tiny("config.json");
        var sha = LoopbackHubServer.Sha256(source);
        Assert.Equal(Path.Combine(repoDir, "snapshots", "main", "config.json"), path);
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(path));
        Assert.Equal($"../../blobs/{sha}", new FileInfo(path).LinkTarget);
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(Path.Combine(repoDir, "blobs", sha)));
        Assert.Equal("main", File.ReadAllText(Path.Combine(repoDir, "refs", "main")));
        Assert.Single(Directory.GetFiles(Path.Combine(repoDir, "blobs")));
    }

    [Fact]
    public async Task Hub_server_small_file_is_cached_under_commit_with_git_blob_etag()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub);
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options(server.Endpoint));

        var path = await hub.DownloadFileAsync("bert-base-uncased", "vocab.txt");

        var repoDir = Path.Combine(cache.Directory, "models--bert-base-uncased");
        var source = SharedFiles.Path("data", "bert-base-uncased", "vocab.txt");
        var etag = LoopbackHubServer.GitBlobSha1(source);
        Assert.Equal(Path.Combine(repoDir, "snapshots", LoopbackHubServer.DefaultCommit, "vocab.txt"), path);
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(path));
        Assert.Equal($"../../blobs/{etag}", new FileInfo(path).LinkTarget);
        Assert.Equal(LoopbackHubServer.DefaultCommit, File.ReadAllText(Path.Combine(repoDir, "refs", "main")));
        Assert.Equal([etag], Directory.GetFiles(Path.Combine(repoDir, "blobs")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Hub_server_lfs_file_is_fetched_from_the_cdn_redirect_under_its_sha256()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub) { LfsThreshold = 64 * 1024 };
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options(server.Endpoint));

        var path = await hub.DownloadFileAsync(Sources.TinyRepo, "tokenizer.json");

        var source = Sources.Tiny("tokenizer.json");
        var sha = LoopbackHubServer.Sha256(source);
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(path));
        Assert.Equal($"../../blobs/{sha}", new FileInfo(path).LinkTarget);
        var resolve = LoopbackHubServer.ResolvePath(Sources.TinyRepo, "tokenizer.json");
        Assert.Equal(1, server.RequestCount(resolve, "HEAD"));
        Assert.Equal(0, server.RequestCount(resolve, "GET"));
        Assert.Equal(1, server.RequestCount($"/cdn/{sha}", "GET"));
    }

    [Fact]
    public async Task Nested_dataset_file_links_three_levels_up()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub);
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options(server.Endpoint));

        var path = await hub.DownloadFileAsync(Sources.ImdbRepo, Sources.ImdbTestFile, RepoType.Dataset);

        var repoDir = Path.Combine(cache.Directory, "datasets--stanfordnlp--imdb");
        var sha = LoopbackHubServer.Sha256(Sources.ImdbTest);
        Assert.Equal(Path.Combine(repoDir, "snapshots", LoopbackHubServer.DefaultCommit, "plain_text", "test-00000-of-00001.parquet"), path);
        Assert.Equal($"../../../blobs/{sha}", new FileInfo(path).LinkTarget);
        Assert.Equal(sha, LoopbackHubServer.Sha256(path));
        Assert.Equal(1, server.RequestCount(LoopbackHubServer.ResolvePath(Sources.ImdbRepo, Sources.ImdbTestFile, dataset: true), "HEAD"));
    }

    [Theory]
    [InlineData(LoopbackHubMode.Plain)]
    [InlineData(LoopbackHubMode.Hub)]
    public async Task Second_download_is_a_cache_hit_without_get(LoopbackHubMode mode)
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, mode);
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options(server.Endpoint));

        var first = await hub.DownloadFileAsync(Sources.TinyRepo, "vocab.txt");
        var getsAfterFirst = server.TotalRequests("GET");
        var progress = new ListProgress();
        var second = await hub.DownloadFileAsync(Sources.TinyRepo, "vocab.txt", progress: progress);

        Assert.Equal(first, second);
        Assert.Equal(1, getsAfterFirst);
        Assert.Equal(1, server.TotalRequests("GET"));
        Assert.Equal(2, server.TotalRequests("HEAD"));
        var report = Assert.Single(progress.Reports);
        Assert.True(report.FromCache);
        Assert.Equal(new FileInfo(Sources.Tiny("vocab.txt")).Length, report.TotalBytes);
    }

    [Fact]
    public async Task Existing_blob_is_linked_without_downloading_again()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub);
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options(server.Endpoint));
        // Another revision (or Python) already fetched the same content: only the snapshot link is missing.
        var source = Sources.Tiny("config.json");
        var blobs = Path.Combine(hub.GetRepoCacheDirectory(Sources.TinyRepo, RepoType.Model), "blobs");
        Directory.CreateDirectory(blobs);
        File.Copy(source, Path.Combine(blobs, LoopbackHubServer.GitBlobSha1(source)));

        var path = await hub.DownloadFileAsync(Sources.TinyRepo, "config.json");

        Assert.Equal(0, server.TotalRequests("GET"));
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(path));
    }

    [Fact]
    public async Task Relative_redirect_of_a_renamed_repo_is_followed_and_cached_under_the_requested_id()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub);
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options(server.Endpoint));

        var path = await hub.DownloadFileAsync(LoopbackHubServer.RenamedModelAlias, "config.json");

        Assert.StartsWith(Path.Combine(cache.Directory, "models--standin--old-bert-tiny", "snapshots"), path);
        Assert.Equal(File.ReadAllBytes(Sources.Tiny("config.json")), File.ReadAllBytes(path));
        Assert.Equal(1, server.RequestCount(LoopbackHubServer.ResolvePath(LoopbackHubServer.RenamedModelAlias, "config.json"), "HEAD"));
        Assert.Equal(1, server.RequestCount(LoopbackHubServer.ResolvePath(Sources.TinyRepo, "config.json"), "GET"));
    }

    [Fact]
    public async Task Progress_reports_start_total_and_completion_but_not_every_chunk()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Plain);
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options(server.Endpoint));
        var progress = new ListProgress();

        await hub.DownloadFileAsync(Sources.TinyRepo, "tokenizer.json", progress: progress);

        var size = new FileInfo(Sources.Tiny("tokenizer.json")).Length;
        var reports = progress.Reports;
        Assert.All(reports, r => Assert.Equal((Sources.TinyRepo, "tokenizer.json", false), (r.RepoId, r.FileName, r.FromCache)));
        Assert.Equal(0, reports[0].BytesDownloaded);
        Assert.Equal(size, reports[0].TotalBytes);
        Assert.Equal(size, reports[^1].BytesDownloaded);
        Assert.Equal(size, reports[^1].TotalBytes);
        Assert.InRange(reports.Count, 3, size / (256 * 1024) + 2);
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.First.BytesDownloaded <= p.Second.BytesDownloaded));
    }

    [Fact]
    public async Task Plain_server_file_that_changed_size_is_downloaded_again()
    {
        using var root = new TempCache();
        var dir = Path.Combine(root.Directory, "org", "repo", "resolve", "main");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"a\": 1}");
        using var server = new LoopbackHubServer(root.Directory, LoopbackHubMode.Plain);
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options(server.Endpoint));

        await hub.DownloadFileAsync("org/repo", "config.json");
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"a\": 12345}");
        var path = await hub.DownloadFileAsync("org/repo", "config.json");

        Assert.Equal("{\"a\": 12345}", File.ReadAllText(path));
        Assert.Equal(2, server.TotalRequests("GET"));
    }

    [Fact]
    public async Task Concurrent_downloads_of_one_file_all_end_with_a_valid_file()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub);
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options(server.Endpoint));

        var paths = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            Task.Run(() => hub.DownloadFileAsync(Sources.TinyRepo, "tokenizer.json"))));

        Assert.Single(paths.Distinct());
        Assert.Equal(File.ReadAllBytes(Sources.Tiny("tokenizer.json")), File.ReadAllBytes(paths[0]));
        var repoDir = hub.GetRepoCacheDirectory(Sources.TinyRepo, RepoType.Model);
        Assert.Empty(Directory.GetFiles(repoDir, "*.incomplete", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(repoDir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Sync_wrapper_downloads()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub);
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options(server.Endpoint));

        var path = hub.DownloadFile(Sources.TinyRepo, "tokenizer_config.json");

        Assert.Equal(File.ReadAllBytes(Sources.Tiny("tokenizer_config.json")), File.ReadAllBytes(path));
    }

    [Fact]
    public async Task Cancelled_download_leaves_nothing_that_looks_complete()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub);
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options(server.Endpoint));
        using var cts = new CancellationTokenSource();
        // Cancel at the first periodic report, i.e. with part of the file on disk.
        var progress = new ListProgress(r =>
        {
            if (r.BytesDownloaded > 0)
                cts.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            hub.DownloadFileAsync(Sources.TinyRepo, "tokenizer.json", progress: progress, cancellationToken: cts.Token));

        var repoDir = hub.GetRepoCacheDirectory(Sources.TinyRepo, RepoType.Model);
        Assert.Empty(Directory.GetFiles(Path.Combine(repoDir, "blobs")));
        Assert.False(Directory.Exists(Path.Combine(repoDir, "snapshots")));
        Assert.Null(hub.TryGetCachedFile(Sources.TinyRepo, "tokenizer.json"));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            hub.DownloadFileAsync(Sources.TinyRepo, "vocab.txt", cancellationToken: new CancellationToken(true)));
    }
}
