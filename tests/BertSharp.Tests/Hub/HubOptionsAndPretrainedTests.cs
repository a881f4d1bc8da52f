using System.Net;
using BertSharp.Hub;
using BertSharp.Tests.TestSupport;

namespace BertSharp.Tests.Hub;

public class HubOptionsTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value);
        return name => map.GetValueOrDefault(name);
    }

    [Fact]
    public void Defaults_follow_huggingface_hub()
    {
        var options = HubOptions.FromEnvironment(Env(("HOME", "/home/u")));

        Assert.Equal("https://huggingface.co", options.Endpoint);
        Assert.Null(options.Token);
        Assert.Equal(Path.GetFullPath("/home/u/.cache/huggingface/hub"), options.CacheDir);
        Assert.False(options.Offline);
        Assert.Equal(TimeSpan.FromSeconds(60), options.Timeout);
    }

    [Fact]
    public void Variables_are_read_with_huggingface_hub_precedence()
    {
        var options = HubOptions.FromEnvironment(Env(
            ("HOME", "/home/u"), ("HF_ENDPOINT", "http://mirror.local:8080/"), ("HF_TOKEN", "hf_abc"),
            ("HF_HOME", "/data/hf"), ("HF_HUB_OFFLINE", "1")));

        Assert.Equal("http://mirror.local:8080", options.Endpoint);
        Assert.Equal("hf_abc", options.Token);
        Assert.Equal(Path.GetFullPath("/data/hf/hub"), options.CacheDir);
        Assert.True(options.Offline);
        Assert.DoesNotContain("hf_abc", options.ToString());

        var explicitCache = HubOptions.FromEnvironment(Env(("HF_HOME", "/data/hf"), ("HF_HUB_CACHE", "~/hubcache"), ("HOME", "/home/u")));
        Assert.Equal(Path.GetFullPath("/home/u/hubcache"), explicitCache.CacheDir);

        var xdg = HubOptions.FromEnvironment(Env(("XDG_CACHE_HOME", "/xdg"), ("HOME", "/home/u")));
        Assert.Equal(Path.GetFullPath("/xdg/huggingface/hub"), xdg.CacheDir);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData("YES", true)]
    [InlineData("On", true)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("", false)]
    public void Offline_accepts_the_same_words_as_python(string value, bool expected) =>
        Assert.Equal(expected, HubOptions.FromEnvironment(Env(("HOME", "/home/u"), ("HF_HUB_OFFLINE", value))).Offline);

    [Fact]
    public void Endpoint_init_trims_the_trailing_slash() =>
        Assert.Equal("http://127.0.0.1:1234", new HubOptions { Endpoint = "http://127.0.0.1:1234/" }.Endpoint);

    [Theory]
    [InlineData("bert-base-uncased", true)]
    [InlineData("google-bert/bert-base-uncased", true)]
    [InlineData("stanfordnlp/imdb", true)]
    [InlineData("org/model_v1.5", true)]
    [InlineData("_private/x", true)]
    [InlineData("", false)]
    [InlineData("a/b/c", false)]
    [InlineData("org/", false)]
    [InlineData("/name", false)]
    [InlineData("org--x/name", false)]
    [InlineData("org/na..me", false)]
    [InlineData("-org/name", false)]
    [InlineData("org/name-", false)]
    [InlineData(".hidden", false)]
    [InlineData("name.", false)]
    [InlineData("org/name.git", false)]
    [InlineData("org/na me", false)]
    [InlineData("org/näme", false)]
    [InlineData("./models/bert", false)]
    [InlineData("C:\\models", false)]
    public void Repo_id_rules(string value, bool valid) => Assert.Equal(valid, HubClient.IsValidRepoId(value));

    [Fact]
    public void Repo_name_length_limit_is_96()
    {
        Assert.True(HubClient.IsValidRepoId("org/" + new string('a', 96)));
        Assert.False(HubClient.IsValidRepoId("org/" + new string('a', 97)));
    }
}

public class PretrainedTests
{
    [Fact]
    public void Local_directory_wins_and_reports_missing_files()
    {
        var dir = SharedFiles.TinyModelDir;

        Assert.Equal(Path.GetFullPath(Path.Combine(dir, "config.json")), Pretrained.ResolveFile(dir, "config.json"));
        Assert.Null(Pretrained.ResolveFile(dir, "added_tokens.json", optional: true));
        var error = Assert.Throws<FileNotFoundException>(() => Pretrained.ResolveFile(dir, "added_tokens.json"));
        Assert.Contains("added_tokens.json", error.Message);
        Assert.Contains(Path.GetFullPath(dir), error.Message);
    }

    [Fact]
    public void Repo_id_is_downloaded_through_the_hub()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub);
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options(server.Endpoint));

        var path = Pretrained.ResolveFile(Sources.TinyRepo, "vocab.txt", hub);
        var pinned = Pretrained.ResolveFile(Sources.TinyRepo + "@main", "config.json", hub);

        Assert.Equal(File.ReadAllBytes(Sources.Tiny("vocab.txt")), File.ReadAllBytes(path!));
        Assert.Equal(File.ReadAllBytes(Sources.Tiny("config.json")), File.ReadAllBytes(pinned!));
        Assert.Null(Pretrained.ResolveFile(Sources.TinyRepo, "special_tokens_map.json", hub, optional: true));
        Assert.Throws<HubFileNotFoundException>(() => Pretrained.ResolveFile(Sources.TinyRepo, "special_tokens_map.json", hub));
    }

    [Fact]
    public void Revision_suffix_is_sent_to_the_hub()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Plain);
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options(server.Endpoint));

        Assert.Throws<HubFileNotFoundException>(() => Pretrained.ResolveFile(Sources.TinyRepo + "@v2", "config.json", hub));
        Assert.Equal(1, server.RequestCount(LoopbackHubServer.ResolvePath(Sources.TinyRepo, "config.json", revision: "v2"), "HEAD"));
    }

    [Theory]
    [InlineData("not a model!")]
    [InlineData("./no/such/dir/here")]
    [InlineData("org/repo@")]
    [InlineData("a/b/c")]
    public void Garbage_is_neither_a_directory_nor_a_repo_id(string value)
    {
        using var cache = new TempCache();
        using var hub = new HubClient(cache.Options("http://127.0.0.1:9"));
        var error = Assert.Throws<ArgumentException>(() => Pretrained.ResolveFile(value, "config.json", hub));
        Assert.Contains("neither an existing directory nor a valid Hub repo id", error.Message);
    }
}

public class LoopbackHubServerTests
{
    [Fact]
    public async Task Plain_mode_answers_like_a_static_file_server()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror);
        using var http = new HttpClient();
        var url = $"{server.Endpoint}/bert-base-uncased/resolve/main/config.json";

        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, url));
        var body = await http.GetByteArrayAsync(url);
        using var missing = await http.GetAsync($"{server.Endpoint}/bert-base-uncased/resolve/main/nope.json");

        var source = SharedFiles.Path("data", "bert-base-uncased", "config.json");
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(new FileInfo(source).Length, head.Content.Headers.ContentLength);
        Assert.False(head.Headers.Contains("X-Repo-Commit"));
        Assert.Null(head.Headers.ETag);
        Assert.Equal(File.ReadAllBytes(source), body);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(1, server.RequestCount("/bert-base-uncased/resolve/main/config.json", "HEAD"));
        Assert.Equal(1, server.RequestCount("/bert-base-uncased/resolve/main/config.json", "GET"));
    }

    [Fact]
    public async Task Hub_mode_sends_hub_headers_and_redirects_large_files()
    {
        using var server = new LoopbackHubServer(SharedFiles.HubMirror, LoopbackHubMode.Hub);
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });

        using var small = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"{server.Endpoint}/{Sources.TinyRepo}/resolve/main/config.json"));
        using var large = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"{server.Endpoint}/{Sources.TinyRepo}/resolve/main/model.safetensors"));
        using var renamed = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"{server.Endpoint}/{LoopbackHubServer.RenamedModelAlias}/resolve/main/config.json"));

        Assert.Equal(LoopbackHubServer.DefaultCommit, small.Headers.GetValues("X-Repo-Commit").Single());
        Assert.Equal($"W/\"{LoopbackHubServer.GitBlobSha1(Sources.Tiny("config.json"))}\"", small.Headers.GetValues("ETag").Single());
        var sha = LoopbackHubServer.Sha256(Sources.Tiny("model.safetensors"));
        Assert.Equal(HttpStatusCode.Found, large.StatusCode);
        Assert.Equal($"\"{sha}\"", large.Headers.GetValues("X-Linked-Etag").Single());
        Assert.Equal(new FileInfo(Sources.Tiny("model.safetensors")).Length.ToString(), large.Headers.GetValues("X-Linked-Size").Single());
        Assert.Equal(new Uri($"{server.Endpoint}/cdn/{sha}"), large.Headers.Location);
        Assert.Equal(HttpStatusCode.TemporaryRedirect, renamed.StatusCode);
        Assert.False(renamed.Headers.Location!.IsAbsoluteUri);
    }

    [Fact]
    public async Task Unused_endpoint_refuses_connections()
    {
        using var http = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(LoopbackHubServer.UnusedEndpoint() + "/x"));
    }
}
