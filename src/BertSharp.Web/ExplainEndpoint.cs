using System.Text.Json;
using BertSharp.Inference;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace BertSharp.Web;

/// <summary>
/// <c>POST /api/explain</c>: <c>{"text": "...", "steps": 50, "target_label": "pos"}</c> (steps and target_label
/// optional) → the prediction and each token's and word's attribution (Integrated Gradients, see
/// <see cref="TextClassificationPipeline.Explain"/>), with offsets in UTF-16 code units of the text, as JavaScript
/// indexes strings. The body follows <c>/api/predict</c>'s rules (the same reader) with one text; the explanation runs
/// on the batcher's single worker, so never beside a forward pass; and steps × tokens is capped, since each step is
/// a forward and a backward pass over the whole text.
/// </summary>
internal static class ExplainEndpoint
{
    public static async Task<IResult> HandleAsync(HttpContext http, SentimentServer server, ILogger logger)
    {
        var options = server.Options;
        var aborted = http.RequestAborted;
        PredictRequestReader.Result request;
        try
        {
            request = await PredictRequestReader.ReadAsync(http.Request, 1, options.MaxRequestBodyBytes, aborted);
        }
        catch (BadHttpRequestException e)
        {
            return Results.Problem(detail: e.Message, statusCode: e.StatusCode, title: "Invalid request");
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && aborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
        if (request.Error is { } error) return Problem(error);

        var text = request.Texts![0];
        var (steps, targetLabel, fieldError) = ReadOptions(request.Body!, options);
        if (fieldError is not null) return Problem(fieldError);
        if (targetLabel is not null)
        {
            try { server.Pipeline.LabelId(targetLabel); }
            catch (ArgumentException e) { return Problem(ApiError.BadRequest($"'target_label': {e.Message.Split(" (Parameter")[0]}")); }
        }
        var tokens = server.Pipeline.Tokenizer.Encode(text, maxLength: server.MaxLength).InputIds.Length;
        if ((long)steps * tokens > options.MaxExplainCost)
        {
            var fits = options.MaxExplainCost / tokens;
            return Problem(new ApiError(StatusCodes.Status413PayloadTooLarge, "Explanation too costly",
                $"Explaining {tokens:N0} tokens with {steps:N0} steps costs {(long)steps * tokens:N0} token-steps; the limit is {options.MaxExplainCost:N0}. " +
                (fits >= 1 ? $"Use at most {fits:N0} steps for this text, or a shorter text." : "Send a shorter text.")));
        }

        Explanation explanation;
        var explain = options.ExplainOverride ?? ((t, label, n) => server.Pipeline.Explain(t, label, n));
        try
        {
            explanation = await server.Batcher.RunExclusiveAsync(() => explain(text, targetLabel, steps), aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
        catch (ObjectDisposedException)
        {
            return Results.Problem(detail: "The server is shutting down; try again later.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable");
        }
        catch (Exception e)
        {
            logger.LogError(e, "Explaining a text of {Tokens} tokens failed", tokens);
            return Results.Problem(detail: "The model failed to explain this text; the server's log has the details.",
                statusCode: StatusCodes.Status500InternalServerError, title: "Explanation failed");
        }
        return Results.Json(Body(server, explanation), WebApp.Json);
    }

    private static IResult Problem(ApiError error) => Results.Problem(detail: error.Detail, statusCode: error.Status, title: error.Title);

    /// <summary>The optional fields: <c>steps</c> (an integer from 1 to the server's maximum) and <c>target_label</c> (a string).</summary>
    private static (int Steps, string? TargetLabel, ApiError? Error) ReadOptions(byte[] body, WebAppOptions options)
    {
        var json = body.AsSpan();
        if (json.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) json = json[3..];
        using var document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        var steps = options.DefaultExplainSteps;
        string? target = null;
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (property.NameEquals("steps"))
            {
                if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt32(out steps) || steps < 1 || steps > options.MaxExplainSteps)
                    return (0, null, ApiError.BadRequest($"'steps' must be a whole number from 1 to {options.MaxExplainSteps}, not {Clip(property.Value.GetRawText(), 40)}."));
            }
            else if (property.NameEquals("target_label"))
            {
                if (property.Value.ValueKind != JsonValueKind.String)
                    return (0, null, ApiError.BadRequest($"'target_label' must be a label name (a string), not {Clip(property.Value.GetRawText(), 40)}."));
                target = property.Value.GetString();
            }
        }
        return (steps, target, null);
    }

    private static ExplainResponse Body(SentimentServer server, Explanation e)
    {
        var p = e.Prediction;
        return new ExplainResponse(
            server.ModelName, p.Label, p.LabelId, p.Score,
            server.ProbabilityKeys.Select((key, i) => (key, i)).ToDictionary(x => x.key, x => p.Probabilities[x.i]),
            e.TargetLabel, e.TargetLabelId,
            e.Method == AttributionMethod.IntegratedGradients ? "integrated_gradients" : "gradient_x_input",
            e.Steps, e.TargetLogit, double.IsNaN(e.BaselineLogit) ? null : e.BaselineLogit, e.AttributionSum, e.ConvergenceDelta,
            e.Tokens.Count, e.Truncated,
            e.Tokens.Select(t => new TokenBody(t.Token, t.TokenId, t.Start, t.End, t.Word, t.Attribution)).ToArray(),
            e.Words.Select(w => new WordBody(w.Word, w.Start, w.End, w.Attribution, w.FirstToken, w.TokenCount)).ToArray());
    }

    private static string Clip(string value, int max) => value.Length <= max ? value : value[..max] + "…";

    private sealed record TokenBody(string Token, int Id, int Start, int End, int? Word, double Attribution);

    private sealed record WordBody(string Word, int Start, int End, double Attribution, int FirstToken, int TokenCount);

    private sealed record ExplainResponse(
        string Model, string Label, int LabelId, float Score, IReadOnlyDictionary<string, float> Probabilities,
        string TargetLabel, int TargetLabelId, string Method, int Steps, double TargetLogit, double? BaselineLogit,
        double AttributionSum, double? ConvergenceDelta, int NumTokens, bool Truncated, IReadOnlyList<TokenBody> Tokens, IReadOnlyList<WordBody> Words);
}
