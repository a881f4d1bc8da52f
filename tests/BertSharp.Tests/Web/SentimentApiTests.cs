using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using BertSharp.Inference;
using BertSharp.Web;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Logging;

namespace BertSharp.Tests.Web;

/// <summary>The JSON API and the page's headers, in process over TestServer, with a model fine-tuned from the stand-in.</summary>
[Collection(WebCollection.Name)]
public class SentimentApiTests(WebModelFixture model)
{
    private WebAppOptions Options => new() { Model = model.ModelDir };

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> ReadJson(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<JsonElement> Predict(HttpClient client, object body)
    {
        using var response = await client.PostAsync("/api/predict", Json(JsonSerializer.Serialize(body)));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return await ReadJson(response);
    }

    /// <summary>
    /// The server batches requests, so its forward pass may run other kernels on other shapes than the pipeline's
    /// one text alone; the logits then differ by float32 rounding (under 1e-5, as TextClassificationPipelineTests
    /// checks), which moves a two-class softmax probability by at most a quarter of that.
    /// </summary>
    private void AssertMatchesPipeline(string text, JsonElement prediction)
    {
        var expected = model.Pipeline.Predict(text);
        Assert.Equal(expected.Label, prediction.GetProperty("label").GetString());
        Assert.Equal(expected.LabelId, prediction.GetProperty("label_id").GetInt32());
        Assert.Equal(expected.Score, prediction.GetProperty("score").GetSingle(), 1e-5f);
        Assert.Equal(expected.TokenCount, prediction.GetProperty("num_tokens").GetInt32());
        Assert.Equal(expected.Truncated, prediction.GetProperty("truncated").GetBoolean());
        var probabilities = prediction.GetProperty("probabilities");
        Assert.Equal(expected.Probabilities[0], probabilities.GetProperty("neg").GetSingle(), 1e-5f);
        Assert.Equal(expected.Probabilities[1], probabilities.GetProperty("pos").GetSingle(), 1e-5f);
    }

    [Fact]
    public async Task HealthzNamesTheModelAndItsLabelsFromId2Label()
    {
        await using var server = await InProcessServer.StartAsync(Options);
        using var response = await server.Client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await ReadJson(response);
        Assert.Equal("ok", body.GetProperty("status").GetString());
        Assert.Equal(WebModelFixture.ModelName, body.GetProperty("model").GetString()); // the folder's name, never its full path
        Assert.Equal(["neg", "pos"], body.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
    }

    [Fact]
    public async Task OneTextGetsTheModelsPredictionWithProbabilitiesThatSumToOne()
    {
        await using var server = await InProcessServer.StartAsync(Options);
        const string review = "A wonderful film: moving, funny and beautifully acted. I loved every minute of it.";
        var body = await Predict(server.Client, new { text = review });
        Assert.Equal(WebModelFixture.ModelName, body.GetProperty("model").GetString());
        var prediction = Assert.Single(body.GetProperty("predictions").EnumerateArray());
        Assert.Equal(["label", "label_id", "score", "probabilities", "num_tokens", "truncated"], prediction.EnumerateObject().Select(p => p.Name));
        var probabilities = prediction.GetProperty("probabilities").EnumerateObject().ToList();
        Assert.Equal(["neg", "pos"], probabilities.Select(p => p.Name));
        // Each is a double softmax rounded to float, then written as the shortest decimal that reads back as that
        // float: within a float ulp (6e-8) of the exact share.
        Assert.Equal(1.0, probabilities.Sum(p => p.Value.GetDouble()), 1e-6);
        var best = probabilities.MaxBy(p => p.Value.GetDouble())!;
        Assert.Equal(best.Name, prediction.GetProperty("label").GetString());
        Assert.Equal(best.Value.GetDouble(), prediction.GetProperty("score").GetDouble()); // the same float, written twice
        Assert.Equal(best.Name == "neg" ? 0 : 1, prediction.GetProperty("label_id").GetInt32());
        AssertMatchesPipeline(review, prediction);
    }

    [Fact]
    public async Task ABatchOfTextsComesBackInOrder()
    {
        await using var server = await InProcessServer.StartAsync(Options);
        string[] reviews =
        [
            "Terrible. The worst film I have seen in years, boring and badly acted.",
            "Great fun!",
            "An average movie with a few good scenes and a weak ending that drags on and on.",
            "I cried at the end; a masterpiece.",
        ];
        var body = await Predict(server.Client, new { texts = reviews });
        var predictions = body.GetProperty("predictions").EnumerateArray().ToList();
        Assert.Equal(reviews.Length, predictions.Count);
        for (var i = 0; i < reviews.Length; i++) AssertMatchesPipeline(reviews[i], predictions[i]);
    }

    [Fact]
    public async Task ALongReviewIsTruncatedToMaxLengthAndSaysSo()
    {
        await using var server = await InProcessServer.StartAsync(Options with { MaxLength = 128 });
        var longReview = string.Join(' ', Enumerable.Range(0, 3000).Select(i => i % 7 == 0 ? "brilliant" : "movie"));
        var body = await Predict(server.Client, new { texts = new[] { longReview, "Short and sweet." } });
        var predictions = body.GetProperty("predictions").EnumerateArray().ToList();
        Assert.True(predictions[0].GetProperty("truncated").GetBoolean());
        Assert.Equal(128, predictions[0].GetProperty("num_tokens").GetInt32());
        Assert.False(predictions[1].GetProperty("truncated").GetBoolean());
        Assert.InRange(predictions[1].GetProperty("num_tokens").GetInt32(), 3, 10);
    }

    public static TheoryData<string?, byte[], HttpStatusCode, string> BadRequests()
    {
        static byte[] U(string s) => Encoding.UTF8.GetBytes(s);
        const string Json = "application/json";
        var data = new TheoryData<string?, byte[], HttpStatusCode, string>
        {
            { Json, U("""{"text": ""}"""), HttpStatusCode.BadRequest, "'text' is empty or only whitespace" },
            { Json, U("""{"text": "  \n\t  "}"""), HttpStatusCode.BadRequest, "'text' is empty or only whitespace" },
            { Json, U("""{"texts": ["fine", "   "]}"""), HttpStatusCode.BadRequest, "'texts[1]' is empty or only whitespace" },
            { Json, U("""{}"""), HttpStatusCode.BadRequest, "The body must have 'text' (a string) or 'texts' (an array of strings)." },
            { Json, U("""{"Text": "case matters", "review": "x"}"""), HttpStatusCode.BadRequest, "The body must have 'text' (a string) or 'texts'" },
            { Json, U("""{"text": "a", "texts": ["b"]}"""), HttpStatusCode.BadRequest, "The body must have 'text' or 'texts', not both." },
            { Json, U("""{"text": "a", "text": "b"}"""), HttpStatusCode.BadRequest, "The body has 'text' more than once." },
            { Json, U("""{"text": 5}"""), HttpStatusCode.BadRequest, "'text' must be a string, not a number." },
            { Json, U("""{"text": null}"""), HttpStatusCode.BadRequest, "'text' must be a string, not null." },
            { Json, U("""{"text": ["in", "an", "array"]}"""), HttpStatusCode.BadRequest, "'text' must be a string, not an array." },
            { Json, U("""{"texts": "one string"}"""), HttpStatusCode.BadRequest, "'texts' must be an array of strings, not a string." },
            { Json, U("""{"texts": ["ok", 3]}"""), HttpStatusCode.BadRequest, "'texts[1]' must be a string, not a number." },
            { Json, U("""{"texts": ["ok", {"text": "nested"}]}"""), HttpStatusCode.BadRequest, "'texts[1]' must be a string, not an object." },
            { Json, U("""{"texts": []}"""), HttpStatusCode.BadRequest, "'texts' is an empty array" },
            { Json, U("""["a JSON array"]"""), HttpStatusCode.BadRequest, "The body must be a JSON object with 'text' or 'texts', not an array." },
            { Json, U("""{"text": "unclosed"""), HttpStatusCode.BadRequest, "The body is not valid JSON" },
            { Json, U("""{'text': 'single quotes'}"""), HttpStatusCode.BadRequest, "The body is not valid JSON" },
            { Json, U(new string('[', 5000) + new string(']', 5000)), HttpStatusCode.BadRequest, "The body is not valid JSON" },
            { Json, [], HttpStatusCode.BadRequest, "The body is empty" },
            { Json, U("""{"text": "half a pair \ud800"}"""), HttpStatusCode.BadRequest, "'text' is not valid text: it has an unpaired UTF-16 surrogate escape." },
            { Json, U("""{"\ud800": "x", "text": "ok"}"""), HttpStatusCode.BadRequest, "A property name of the body is not valid text: it has an unpaired UTF-16 surrogate escape." },
            { Json, U("""{"text": "ok", "\udc00": 1}"""), HttpStatusCode.BadRequest, "A property name of the body is not valid text: it has an unpaired UTF-16 surrogate escape." },
            { Json, U("""{"texts": ["ok", "\udc00"]}"""), HttpStatusCode.BadRequest, "'texts[1]' is not valid text: it has an unpaired UTF-16 surrogate escape." },
            { Json, [.. U("""{"text": "caf"""), 0xE9, .. U("\"}")], HttpStatusCode.BadRequest, "The body is not valid UTF-8 (invalid byte sequence at byte 13)." },
            { Json, [.. U("""{"text": "x"""), 0xC0, 0x80, .. U("\"}")], HttpStatusCode.BadRequest, "The body is not valid UTF-8" },
            { "text/plain", U("""{"text": "x"}"""), HttpStatusCode.UnsupportedMediaType, "Content-Type must be application/json, not 'text/plain'." },
            { "application/x-www-form-urlencoded", U("text=x"), HttpStatusCode.UnsupportedMediaType, "Content-Type must be application/json" },
            { null, U("""{"text": "x"}"""), HttpStatusCode.UnsupportedMediaType, "Content-Type must be application/json; the request has no Content-Type." },
            { "application/json; charset=iso-8859-1", U("""{"text": "x"}"""), HttpStatusCode.UnsupportedMediaType, "charset 'iso-8859-1' is not supported" },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadInputIsAProblemWithAStatusAndADetailThatSaysWhatIsWrong(string? contentType, byte[] body, HttpStatusCode status, string detail)
    {
        await using var server = await InProcessServer.StartAsync(Options);
        var content = new ByteArrayContent(body);
        if (contentType is not null) content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await server.Client.PostAsync("/api/predict", content);
        await AssertProblem(response, status, detail);
        // Nothing a client sends stops the server.
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task MoreTextsThanTheLimitAreRefusedNamingTheLimit()
    {
        await using var server = await InProcessServer.StartAsync(Options);
        using var response = await server.Client.PostAsync("/api/predict", Json(JsonSerializer.Serialize(new { texts = Enumerable.Repeat("good", 65) })));
        await AssertProblem(response, HttpStatusCode.BadRequest, "'texts' has 65 items; at most 64 are allowed per request.");

        await using var small = await InProcessServer.StartAsync(Options with { MaxTexts = 2 });
        using var three = await small.Client.PostAsync("/api/predict", Json("""{"texts": ["a", "b", "c"]}"""));
        await AssertProblem(three, HttpStatusCode.BadRequest, "'texts' has 3 items; at most 2 are allowed per request.");
    }

    [Fact]
    public async Task ABodyOverOneMegabyteIs413WithOrWithoutContentLength()
    {
        await using var server = await InProcessServer.StartAsync(Options);
        var big = JsonSerializer.Serialize(new { text = new string('a', 1024 * 1024) });
        using var declared = await server.Client.PostAsync("/api/predict", Json(big));
        await AssertProblem(declared, HttpStatusCode.RequestEntityTooLarge, $"The body is {Encoding.UTF8.GetByteCount(big):N0} bytes; the limit is 1,048,576 bytes (1 MB).");

        // Chunked, with no Content-Length: the server stops reading one byte past the limit.
        var streamed = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        streamed.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/predict") { Content = streamed };
        request.Headers.TransferEncodingChunked = true;
        using var chunked = await server.Client.SendAsync(request);
        await AssertProblem(chunked, HttpStatusCode.RequestEntityTooLarge, "The body is larger than the limit of 1,048,576 bytes (1 MB).");

        // Just under the limit is fine.
        var fits = JsonSerializer.Serialize(new { text = "good " + new string('a', 1024 * 1024 - 40) });
        Assert.True(Encoding.UTF8.GetByteCount(fits) <= 1024 * 1024);
        using var ok = await server.Client.PostAsync("/api/predict", Json(fits));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Theory]
    [InlineData("GET", "/nowhere", HttpStatusCode.NotFound, "There is no resource at '/nowhere'. The endpoints are GET /, GET /healthz, GET /api/stats, POST /api/predict and POST /api/explain.")]
    [InlineData("GET", "/../../etc/passwd", HttpStatusCode.NotFound, "There is no resource at")]
    [InlineData("POST", "/api/predict/extra", HttpStatusCode.NotFound, "There is no resource at '/api/predict/extra'.")]
    [InlineData("GET", "/api/predict", HttpStatusCode.MethodNotAllowed, "GET is not allowed on '/api/predict'; use POST.")]
    [InlineData("PUT", "/api/predict", HttpStatusCode.MethodNotAllowed, "PUT is not allowed on '/api/predict'; use POST.")]
    [InlineData("DELETE", "/healthz", HttpStatusCode.MethodNotAllowed, "DELETE is not allowed on '/healthz'; use GET, HEAD.")]
    [InlineData("POST", "/", HttpStatusCode.MethodNotAllowed, "POST is not allowed on '/'; use GET, HEAD.")]
    public async Task UnknownRoutesAre404AndWrongMethods405AsProblems(string method, string path, HttpStatusCode status, string detail)
    {
        await using var server = await InProcessServer.StartAsync(Options);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT") request.Content = Json("""{"text": "x"}""");
        using var response = await server.Client.SendAsync(request);
        await AssertProblem(response, status, detail);
    }

    [Theory]
    [InlineData("/", "text/html")]
    [InlineData("/healthz", "application/json")]
    [InlineData("/api/stats", "application/json")]
    [InlineData("/app.js", "text/javascript")]
    [InlineData("/app.css", "text/css")]
    public async Task HeadAnswersAsGetDoes(string path, string mediaType)
    {
        await using var server = await InProcessServer.StartAsync(Options);
        using var get = await server.Client.GetAsync(path);
        using var head = await server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(mediaType, head.Content.Headers.ContentType?.MediaType);
        Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
        Assert.Equal(WebApp.ContentSecurityPolicy, head.Headers.GetValues("Content-Security-Policy").Single());
        // TestServer passes a HEAD response's body through; that Kestrel drops it is checked on the real server
        // (WebEndToEndTests.HeadOnTheRealServerSendsTheHeadersOfGetAndNoBody).
    }

    [Fact]
    public async Task AMalformedBodyIsNeverLoggedAsAnError()
    {
        var logs = new List<(LogLevel Level, string Category)>();
        var app = WebApp.Build(Options with
        {
            ConfigureBuilder = builder =>
            {
                builder.WebHost.UseTestServer();
                builder.Logging.ClearProviders();
                builder.Logging.AddProvider(new ListLoggerProvider(logs));
            },
        });
        await app.StartAsync();
        try
        {
            using var client = app.GetTestClient();
            foreach (var body in new[] { """{"\ud800":"x","text":"ok"}""", """{"text": "\ud800"}""", "{", "[]" })
            {
                using var response = await client.PostAsync("/api/predict", Json(body));
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            }
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        lock (logs) Assert.DoesNotContain(logs, l => l.Level >= LogLevel.Warning);
    }

    [Fact]
    public void ATokenizerWithMoreTokensThanTheModelHasEmbeddingsIsRefusedAtLoadTime()
    {
        // tiny-cls has 1,000 embedding rows; the stand-in's vocab.txt has 30,522 tokens. Before, the server started and
        // answered 500 to any text with a token id past 999.
        using var dir = new TestSupport.TempDirectory();
        foreach (var f in new[] { "config.json", "model.safetensors" })
            File.Copy(Path.Combine(TestSupport.SharedFiles.TinyClsDir, f), dir.File(f));
        foreach (var f in new[] { "vocab.txt", "tokenizer_config.json" })
            File.Copy(Path.Combine(TestSupport.SharedFiles.TinyModelDir, f), dir.File(f));
        var error = Assert.Throws<InvalidDataException>(() => WebApp.Build(Options with { Model = dir.Path }));
        Assert.Contains("30,522", error.Message);
        Assert.Contains("'vocab_size' = 1000", error.Message);
    }

    [Fact]
    public void AModelWhoseClassifierWasNeverTrainedIsNotServed()
    {
        // The stand-in is a masked-LM checkpoint: as a classifier its head would be random numbers.
        var error = Assert.Throws<InvalidDataException>(() => WebApp.Build(Options with { Model = TestSupport.SharedFiles.TinyModelDir }));
        Assert.Contains("classifier.weight", error.Message);
        Assert.Contains("fine-tune", error.Message);
    }

    [Fact]
    public async Task AFailedInferenceIsA500ProblemWithNoStackTraceAndTheServerGoesOn()
    {
        var fail = true;
        await using var server = await InProcessServer.StartAsync(Options with
        {
            PredictOverride = texts => fail
                ? throw new InvalidOperationException("native tensor failure in /secret/path/model.safetensors")
                : model.Pipeline.Predict(texts),
        });
        using var response = await server.Client.PostAsync("/api/predict", Json("""{"text": "Fine film."}"""));
        var body = await AssertProblem(response, HttpStatusCode.InternalServerError, "The model failed to classify this request; the server's log has the details.");
        Assert.DoesNotContain("secret", body);
        Assert.DoesNotContain("InvalidOperationException", body);
        Assert.DoesNotContain(" at ", body);

        fail = false;
        using var next = await server.Client.PostAsync("/api/predict", Json("""{"text": "Fine film."}"""));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task MarkupInAReviewIsJustDataAndThePageEncodesTheModelName()
    {
        await using var server = await InProcessServer.StartAsync(Options with { ModelName = "<img src=x onerror=alert(1)>" });
        const string xss = "<script>alert(1)</script><img src=x onerror=alert(2)> \"quotes\" & ampersands";
        using var response = await server.Client.PostAsync("/api/predict", Json(JsonSerializer.Serialize(new { text = xss })));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var raw = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script>", raw); // predictions carry no text back; the model name is JSON-escaped
        var body = JsonDocument.Parse(raw).RootElement;
        Assert.Equal("<img src=x onerror=alert(1)>", body.GetProperty("model").GetString());
        AssertMatchesPipeline(xss, body.GetProperty("predictions")[0]);

        var page = await server.Client.GetStringAsync("/");
        Assert.DoesNotContain("<img src=x", page);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", page);
    }

    [Fact]
    public async Task EveryResponseCarriesAStrictContentSecurityPolicyAndNosniff()
    {
        await using var server = await InProcessServer.StartAsync(Options);
        var responses = new List<HttpResponseMessage>
        {
            await server.Client.GetAsync("/"),
            await server.Client.GetAsync("/app.js"),
            await server.Client.GetAsync("/app.css"),
            await server.Client.GetAsync("/healthz"),
            await server.Client.PostAsync("/api/predict", Json("""{"text": "Good."}""")),
            await server.Client.PostAsync("/api/predict", Json("{}")),
            await server.Client.GetAsync("/missing"),
        };
        foreach (var response in responses)
        {
            var csp = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
            Assert.Equal(WebApp.ContentSecurityPolicy, csp);
            Assert.StartsWith("default-src 'self'; script-src 'self';", csp);
            Assert.DoesNotContain("unsafe", csp);
            Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
            response.Dispose();
        }
    }

    [Fact]
    public async Task ThePageIsSelfContainedWithNoInlineScriptAndShowsTheModel()
    {
        await using var server = await InProcessServer.StartAsync(Options);
        using var response = await server.Client.GetAsync("/");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        var page = await response.Content.ReadAsStringAsync();
        var js = await server.Client.GetStringAsync("/app.js");
        var css = await server.Client.GetStringAsync("/app.css");
        Assert.Contains("<textarea id=\"review\"", page);
        Assert.Contains(">Classify</button>", page);
        Assert.Contains(">Example review</button>", page);
        Assert.Contains($"<strong id=\"model-name\">{WebModelFixture.ModelName}</strong>", page);
        Assert.Contains("<span class=\"chip\">neg</span><span class=\"chip\">pos</span>", page);
        // One script, from this server; no inline script or handler attributes, nothing fetched from elsewhere.
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(page, "<script"));
        Assert.Contains("<script src=\"/app.js\" defer></script>", page);
        Assert.DoesNotMatch(@"\son[a-z]+\s*=", page);
        foreach (var asset in new[] { page, js, css })
        {
            Assert.DoesNotContain("http://", asset);
            Assert.DoesNotContain("https://", asset);
            Assert.DoesNotContain("@import", asset);
        }
        // The script renders with textContent only.
        Assert.DoesNotContain("innerHTML", js);
        Assert.DoesNotContain("insertAdjacentHTML", js);
        Assert.DoesNotContain("document.write", js);
        Assert.Contains("fetch(\"/api/predict\"", js);
    }

    [Fact]
    public async Task SixtyFourConcurrentRequestsAllSucceedAndShareForwardPasses()
    {
        await using var server = await InProcessServer.StartAsync(Options);
        var reviews = Enumerable.Range(0, 64).Select(i => $"Review number {i}: " + (i % 2 == 0 ? "a great, touching film." : "dull and far too long.")).ToArray();
        using var start = new ManualResetEventSlim();
        var tasks = reviews.Select(r => Task.Run(async () =>
        {
            start.Wait();
            using var response = await server.Client.PostAsync("/api/predict", Json(JsonSerializer.Serialize(new { text = r })));
            return (r, response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        })).ToArray();
        start.Set();
        var results = await Task.WhenAll(tasks);
        foreach (var (review, status, body) in results)
        {
            Assert.True(status == HttpStatusCode.OK, body);
            // Each caller gets its own text's answer back, not a neighbour's from the same batch.
            AssertMatchesPipeline(review, JsonDocument.Parse(body).RootElement.GetProperty("predictions")[0]);
        }

        var stats = JsonDocument.Parse(await server.Client.GetStringAsync("/api/stats")).RootElement;
        Assert.True(stats.GetProperty("batching").GetBoolean());
        Assert.Equal(64, stats.GetProperty("requests").GetInt64());
        Assert.Equal(64, stats.GetProperty("texts").GetInt64());
        Assert.True(stats.GetProperty("largest_batch").GetInt32() > 1, stats.ToString());
        Assert.InRange(stats.GetProperty("largest_batch").GetInt32(), 2, 32);
        Assert.True(stats.GetProperty("batches").GetInt64() < 64, stats.ToString());
        Assert.True(stats.GetProperty("mean_batch_size").GetDouble() > 1, stats.ToString());
        Assert.Equal(server.Server.Batcher.Statistics.Batches, stats.GetProperty("batches").GetInt64());
    }

    [Fact]
    public async Task WithAZeroWindowEveryRequestRunsAloneOneAtATime()
    {
        var inFlight = 0;
        var mostInFlight = 0;
        await using var server = await InProcessServer.StartAsync(Options with
        {
            BatchWindow = TimeSpan.Zero,
            PredictOverride = texts =>
            {
                var now = Interlocked.Increment(ref inFlight);
                InterlockedMax(ref mostInFlight, now);
                try { return model.Pipeline.Predict(texts); }
                finally { Interlocked.Decrement(ref inFlight); }
            },
        });
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            server.Client.PostAsync("/api/predict", Json(JsonSerializer.Serialize(new { text = $"Film {i} was fine." })))));
        Assert.All(results, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var stats = server.Server.Batcher.Statistics;
        Assert.False(server.Server.Batcher.BatchingEnabled);
        Assert.Equal(16, stats.Batches);
        Assert.Equal(1, stats.LargestBatch);
        Assert.Equal(1, mostInFlight);
    }

    [Fact]
    public async Task AClientThatDisconnectsIsLeftOutOfTheBatchAndTheOthersAreAnswered()
    {
        using var gate = new SemaphoreSlim(0);
        using var entered = new SemaphoreSlim(0);
        var calls = new List<string[]>();
        await using var server = await InProcessServer.StartAsync(Options with
        {
            BatchWindow = TimeSpan.FromMilliseconds(20),
            PredictOverride = texts =>
            {
                lock (calls) calls.Add(texts.ToArray());
                entered.Release();
                if (texts.Contains("blocker")) gate.Wait(TimeSpan.FromSeconds(30));
                return model.Pipeline.Predict(texts);
            },
        });
        // The worker is busy with "blocker" while "leaver" and "stayer" queue behind it.
        var blocker = server.Client.PostAsync("/api/predict", Json("""{"text": "blocker"}"""));
        Assert.True(await entered.WaitAsync(TimeSpan.FromSeconds(30)));
        using var leave = new CancellationTokenSource();
        var leaver = server.Client.PostAsync("/api/predict", Json("""{"text": "leaver"}"""), leave.Token);
        var stayer = server.Client.PostAsync("/api/predict", Json("""{"text": "stayer"}"""));
        await Task.Delay(200);
        leave.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaver);
        await Task.Delay(100);
        gate.Release();

        Assert.Equal(HttpStatusCode.OK, (await blocker).StatusCode);
        using var stayed = await stayer;
        Assert.Equal(HttpStatusCode.OK, stayed.StatusCode);
        AssertMatchesPipeline("stayer", (await ReadJson(stayed)).GetProperty("predictions")[0]);
        lock (calls)
        {
            Assert.Equal(2, calls.Count);
            Assert.Equal(["stayer"], calls[1]);
        }
        Assert.Equal(1, server.Server.Batcher.Statistics.CancelledRequests);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }

    internal static async Task<string> AssertProblem(HttpResponseMessage response, HttpStatusCode status, string detail)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        Assert.Contains(detail, problem.GetProperty("detail").GetString());
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        return text;
    }
}

/// <summary>Collects what the app logs, by level and category.</summary>
internal sealed class ListLoggerProvider(List<(LogLevel Level, string Category)> entries) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(entries, categoryName);

    public void Dispose() { }

    private sealed class Logger(List<(LogLevel, string)> entries, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (entries) entries.Add((logLevel, category));
        }
    }
}
