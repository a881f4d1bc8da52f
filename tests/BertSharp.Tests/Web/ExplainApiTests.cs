using System.Net;
using System.Text;
using System.Text.Json;
using BertSharp.Inference;
using BertSharp.Web;
using static BertSharp.Tests.Web.SentimentApiTests;

namespace BertSharp.Tests.Web;

/// <summary><c>POST /api/explain</c> in process over TestServer, with the fine-tuned stand-in.</summary>
[Collection(WebCollection.Name)]
public class ExplainApiTests(WebModelFixture model)
{
    private WebAppOptions Options => new() { Model = model.ModelDir };

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> Explain(HttpClient client, object body)
    {
        using var response = await client.PostAsync("/api/explain", Json(JsonSerializer.Serialize(body)));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task AnExplanationIsThePipelinesWithOffsetsIntoTheText()
    {
        await using var server = await InProcessServer.StartAsync(Options);
        const string review = "Clever, warm and <i>beautifully</i> acted — I loved it. The ending drags.";
        var body = await Explain(server.Client, new { text = review, steps = 20 });
        var expected = model.Pipeline.Explain(review, steps: 20);

        Assert.Equal(WebModelFixture.ModelName, body.GetProperty("model").GetString());
        Assert.Equal(expected.Prediction.Label, body.GetProperty("label").GetString());
        Assert.Equal(expected.Prediction.Score, body.GetProperty("score").GetSingle(), 1e-4f);
        Assert.Equal(expected.Prediction.Probabilities[1], body.GetProperty("probabilities").GetProperty("pos").GetSingle(), 1e-4f);
        Assert.Equal(expected.TargetLabel, body.GetProperty("target_label").GetString());
        Assert.Equal("integrated_gradients", body.GetProperty("method").GetString());
        Assert.Equal(20, body.GetProperty("steps").GetInt32());
        Assert.Equal(expected.Tokens.Count, body.GetProperty("num_tokens").GetInt32());
        Assert.False(body.GetProperty("truncated").GetBoolean());
        var delta = body.GetProperty("convergence_delta").GetDouble();
        var moved = body.GetProperty("target_logit").GetDouble() - body.GetProperty("baseline_logit").GetDouble();
        Assert.True(delta < 0.01 * Math.Abs(moved), $"delta {delta} vs {moved}");
        Assert.Equal(moved, body.GetProperty("attribution_sum").GetDouble(), 0.01 * Math.Abs(moved));

        var tokens = body.GetProperty("tokens").EnumerateArray().ToList();
        Assert.Equal(expected.Tokens.Select(t => t.Token), tokens.Select(t => t.GetProperty("token").GetString()));
        for (var i = 0; i < tokens.Count; i++)
            Assert.Equal(expected.Tokens[i].Attribution, tokens[i].GetProperty("attribution").GetDouble(), 1e-5);
        var words = body.GetProperty("words").EnumerateArray().ToList();
        Assert.Equal(expected.Words.Count, words.Count);
        foreach (var word in words)
        {
            var (start, end) = (word.GetProperty("start").GetInt32(), word.GetProperty("end").GetInt32());
            Assert.Equal(review[start..end], word.GetProperty("word").GetString());
        }
        Assert.Contains(words, w => w.GetProperty("word").GetString() == "beautifully");
        Assert.Contains(words, w => w.GetProperty("word").GetString() == "—");

        var other = await Explain(server.Client, new { text = review, steps = 20, target_label = expected.TargetLabel == "pos" ? "neg" : "pos" });
        Assert.NotEqual(expected.TargetLabel, other.GetProperty("target_label").GetString());
        Assert.Equal(expected.Prediction.Label, other.GetProperty("label").GetString());
    }

    public static TheoryData<string, HttpStatusCode, string> BadRequests() => new()
    {
        { """{"text": "   "}""", HttpStatusCode.BadRequest, "'text' is empty or only whitespace" },
        { """{"texts": ["one", "two"]}""", HttpStatusCode.BadRequest, "'texts' has 2 items; at most 1 are allowed per request." },
        { """{"steps": 10}""", HttpStatusCode.BadRequest, "The body must have 'text' (a string) or 'texts'" },
        { """{"text": "Good.", "steps": 0}""", HttpStatusCode.BadRequest, "'steps' must be a whole number from 1 to 200, not 0." },
        { """{"text": "Good.", "steps": 201}""", HttpStatusCode.BadRequest, "'steps' must be a whole number from 1 to 200, not 201." },
        { """{"text": "Good.", "steps": 2.5}""", HttpStatusCode.BadRequest, "'steps' must be a whole number from 1 to 200, not 2.5." },
        { """{"text": "Good.", "steps": "50"}""", HttpStatusCode.BadRequest, "'steps' must be a whole number from 1 to 200, not \"50\"." },
        { """{"text": "Good.", "target_label": 1}""", HttpStatusCode.BadRequest, "'target_label' must be a label name (a string), not 1." },
        { """{"text": "Good.", "target_label": "positive"}""", HttpStatusCode.BadRequest, "'target_label': Unknown label 'positive'; the model's labels are neg, pos." },
        { "{\"text\": \"" + string.Join(' ', Enumerable.Repeat("long", 600)) + "\", \"steps\": 100}", (HttpStatusCode)413,
          "Explaining 512 tokens with 100 steps costs 51,200 token-steps; the limit is 25,600. Use at most 50 steps for this text, or a shorter text." },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadInputIsAProblemThatNamesTheField(string body, HttpStatusCode status, string detail)
    {
        await using var server = await InProcessServer.StartAsync(Options);
        using var response = await server.Client.PostAsync("/api/explain", Json(body));
        await AssertProblem(response, status, detail);
        Assert.Equal(0, server.Server.Batcher.Statistics.FailedRequests);
    }

    [Fact]
    public async Task TheReadersRulesApplyAsForPredictAndGetIs405()
    {
        await using var server = await InProcessServer.StartAsync(Options with { MaxRequestBodyBytes = 1024 });
        using var plain = await server.Client.PostAsync("/api/explain", new StringContent("""{"text": "x"}""", Encoding.UTF8, "text/plain"));
        await AssertProblem(plain, HttpStatusCode.UnsupportedMediaType, "Content-Type must be application/json, not 'text/plain");
        using var big = await server.Client.PostAsync("/api/explain", Json(JsonSerializer.Serialize(new { text = new string('a', 2000) })));
        await AssertProblem(big, HttpStatusCode.RequestEntityTooLarge, "the limit is 1,024 bytes");
        using var get = await server.Client.GetAsync("/api/explain");
        await AssertProblem(get, HttpStatusCode.MethodNotAllowed, "GET is not allowed on '/api/explain'; use POST.");
    }

    [Fact]
    public async Task ExplanationsNeverRunBesideAForwardPassAndAllAreAnswered()
    {
        var inFlight = 0;
        var most = 0;
        T Tracked<T>(Func<T> work)
        {
            var now = Interlocked.Increment(ref inFlight);
            int seen;
            while ((seen = Volatile.Read(ref most)) < now && Interlocked.CompareExchange(ref most, now, seen) != seen) { }
            try
            {
                Thread.Sleep(5);
                return work();
            }
            finally { Interlocked.Decrement(ref inFlight); }
        }
        await using var server = await InProcessServer.StartAsync(Options with
        {
            BatchWindow = TimeSpan.FromMilliseconds(10),
            PredictOverride = texts => Tracked(() => model.Pipeline.Predict(texts)),
            ExplainOverride = (text, label, steps) => Tracked(() => model.Pipeline.Explain(text, label, steps)),
        });
        using var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, 24).Select(i => Task.Run(async () =>
        {
            start.Wait();
            var path = i % 4 == 0 ? "/api/explain" : "/api/predict";
            var body = i % 4 == 0 ? new { text = $"Review {i}: dull but well acted.", steps = 8 } : (object)new { text = $"Review {i}: a fine film." };
            using var response = await server.Client.PostAsync(path, Json(JsonSerializer.Serialize(body)));
            return (path, response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        })).ToArray();
        start.Set();
        var results = await Task.WhenAll(tasks);
        Assert.All(results, r => Assert.True(r.StatusCode == HttpStatusCode.OK, r.Body));
        Assert.Equal(6, results.Count(r => r.path == "/api/explain" && r.Body.Contains("\"words\"")));
        Assert.Equal(1, most);
    }

    [Fact]
    public async Task AFailedExplanationIsA500WithoutDetailsAndTheServerGoesOn()
    {
        var fail = true;
        await using var server = await InProcessServer.StartAsync(Options with
        {
            ExplainOverride = (text, label, steps) => fail ? throw new InvalidOperationException("backward failed in /secret/dir") : model.Pipeline.Explain(text, label, steps),
        });
        using var failed = await server.Client.PostAsync("/api/explain", Json("""{"text": "Fine.", "steps": 4}"""));
        var body = await AssertProblem(failed, HttpStatusCode.InternalServerError, "The model failed to explain this text; the server's log has the details.");
        Assert.DoesNotContain("secret", body);
        fail = false;
        var words = (await Explain(server.Client, new { text = "Fine.", steps = 4 })).GetProperty("words");
        Assert.Equal(["Fine", "."], words.EnumerateArray().Select(w => w.GetProperty("word").GetString()));
    }

    [Fact]
    public async Task TheCostLimitIsAnOption()
    {
        await using var server = await InProcessServer.StartAsync(Options with { MaxExplainCost = 40, DefaultExplainSteps = 10 });
        using var refused = await server.Client.PostAsync("/api/explain", Json("""{"text": "one two three four five"}"""));
        await AssertProblem(refused, (HttpStatusCode)413, "Explaining 7 tokens with 10 steps costs 70 token-steps; the limit is 40. Use at most 5 steps for this text");
        var fits = await Explain(server.Client, new { text = "one two three four five", steps = 5 });
        Assert.Equal(5, fits.GetProperty("words").GetArrayLength());
    }
}
