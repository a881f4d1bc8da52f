using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace BertSharp.Web;

/// <summary>A client mistake, answered as an RFC 7807 problem.</summary>
internal sealed record ApiError(int Status, string Title, string Detail)
{
    public static ApiError BadRequest(string detail) => new(StatusCodes.Status400BadRequest, "Invalid request", detail);
}

/// <summary>
/// Reads and checks a <c>POST /api/predict</c> body by hand, so every mistake gets its own status and a detail that
/// names the field: content type, size, UTF-8, JSON syntax, shape, types, empty texts, the per-request limit.
/// </summary>
internal static class PredictRequestReader
{
    public sealed record Result(IReadOnlyList<string>? Texts, ApiError? Error)
    {
        public static Result Fail(ApiError error) => new(null, error);

        /// <summary>The body (valid JSON once there is no error), for endpoints that read more fields than the texts.</summary>
        public byte[]? Body { get; init; }
    }

    public static async Task<Result> ReadAsync(HttpRequest request, int maxTexts, long maxBytes, CancellationToken cancellationToken)
    {
        if (CheckContentType(request.ContentType) is { } contentTypeError) return Result.Fail(contentTypeError);
        if (request.ContentLength is { } declared && declared > maxBytes) return Result.Fail(TooLarge(maxBytes, declared));

        byte[] body;
        try
        {
            body = await ReadBodyAsync(request.Body, maxBytes, cancellationToken).ConfigureAwait(false) ?? [];
            if (body.Length > maxBytes) return Result.Fail(TooLarge(maxBytes, null));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Result.Fail(TooLarge(maxBytes, null));
        }
        return Parse(body, maxTexts) with { Body = body };
    }

    internal static ApiError? CheckContentType(string? contentType)
    {
        const string Expected = "Content-Type must be application/json";
        if (string.IsNullOrWhiteSpace(contentType))
            return new(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", $"{Expected}; the request has no Content-Type.");
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            || !string.Equals(mediaType.MediaType.Value, "application/json", StringComparison.OrdinalIgnoreCase))
            return new(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", $"{Expected}, not '{Clip(contentType, 100)}'.");
        var charset = mediaType.Charset.Value?.Trim('"');
        if (charset is not null && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
            return new(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", $"The body must be UTF-8 JSON; charset '{Clip(charset, 40)}' is not supported.");
        return null;
    }

    private static ApiError TooLarge(long maxBytes, long? declared) => new(StatusCodes.Status413PayloadTooLarge, "Request body too large",
        declared is { } n
            ? $"The body is {n:N0} bytes; the limit is {maxBytes:N0} bytes ({Megabytes(maxBytes)})."
            : $"The body is larger than the limit of {maxBytes:N0} bytes ({Megabytes(maxBytes)}).");

    private static string Megabytes(long bytes) => bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MB" : $"{bytes / 1024.0 / 1024.0:0.##} MB";

    /// <summary>The body, reading at most one byte past the limit so an oversized one is known without reading it all.</summary>
    private static async Task<byte[]?> ReadBodyAsync(Stream stream, long maxBytes, CancellationToken cancellationToken)
    {
        var limit = (int)Math.Min(maxBytes + 1, int.MaxValue);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(limit, 64 * 1024));
        var length = 0;
        try
        {
            while (length < limit)
            {
                if (length == buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                var read = await stream.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, limit) - length), cancellationToken).ConfigureAwait(false);
                if (read == 0) break;
                length += read;
            }
            return buffer.AsSpan(0, length).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    internal static Result Parse(ReadOnlySpan<byte> body, int maxTexts)
    {
        if (body.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) body = body[3..];
        if (InvalidUtf8Offset(body) is { } offset)
            return Result.Fail(ApiError.BadRequest($"The body is not valid UTF-8 (invalid byte sequence at byte {offset})."));
        if (body.Trim(" \t\r\n"u8).IsEmpty)
            return Result.Fail(ApiError.BadRequest("The body is empty; send a JSON object with 'text' or 'texts'."));

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            return Result.Fail(ApiError.BadRequest($"The body is not valid JSON: {e.Message}"));
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return Result.Fail(ApiError.BadRequest($"The body must be a JSON object with 'text' or 'texts', not {Kind(root.ValueKind)}."));

            JsonElement? text = null, texts = null;
            foreach (var property in root.EnumerateObject())
            {
                // Comparing a name unescapes it, and an escape naming half a surrogate pair ("\ud800") throws there:
                // it is the client's malformed body, like the same escape in a value (ReadText), not a server error.
                bool isText, isTexts;
                try
                {
                    (isText, isTexts) = (property.NameEquals("text"), property.NameEquals("texts"));
                }
                catch (InvalidOperationException)
                {
                    return Result.Fail(ApiError.BadRequest("A property name of the body is not valid text: it has an unpaired UTF-16 surrogate escape."));
                }
                if (isText)
                {
                    if (text is not null) return Result.Fail(ApiError.BadRequest("The body has 'text' more than once."));
                    text = property.Value;
                }
                else if (isTexts)
                {
                    if (texts is not null) return Result.Fail(ApiError.BadRequest("The body has 'texts' more than once."));
                    texts = property.Value;
                }
            }
            if (text is not null && texts is not null)
                return Result.Fail(ApiError.BadRequest("The body must have 'text' or 'texts', not both."));
            if (text is { } single)
            {
                var (value, error) = ReadText(single, "text");
                return error is not null ? Result.Fail(error) : new Result([value!], null);
            }
            if (texts is not { } many)
                return Result.Fail(ApiError.BadRequest("The body must have 'text' (a string) or 'texts' (an array of strings)."));

            if (many.ValueKind != JsonValueKind.Array)
                return Result.Fail(ApiError.BadRequest($"'texts' must be an array of strings, not {Kind(many.ValueKind)}."));
            var count = many.GetArrayLength();
            if (count == 0) return Result.Fail(ApiError.BadRequest("'texts' is an empty array; send at least one text."));
            if (count > maxTexts)
                return Result.Fail(ApiError.BadRequest($"'texts' has {count} items; at most {maxTexts} are allowed per request."));
            var list = new List<string>(count);
            var index = 0;
            foreach (var element in many.EnumerateArray())
            {
                var (value, error) = ReadText(element, $"texts[{index}]");
                if (error is not null) return Result.Fail(error);
                list.Add(value!);
                index++;
            }
            return new Result(list, null);
        }
    }

    private static (string? Value, ApiError? Error) ReadText(JsonElement element, string field)
    {
        if (element.ValueKind != JsonValueKind.String)
            return (null, ApiError.BadRequest($"'{field}' must be a string, not {Kind(element.ValueKind)}."));
        string value;
        try
        {
            value = element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // An escape like "\ud800" names half a surrogate pair: not text.
            return (null, ApiError.BadRequest($"'{field}' is not valid text: it has an unpaired UTF-16 surrogate escape."));
        }
        if (string.IsNullOrWhiteSpace(value))
            return (null, ApiError.BadRequest($"'{field}' is empty or only whitespace; send some text to classify."));
        return (value, null);
    }

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "undefined",
    };

    private static int? InvalidUtf8Offset(ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return null;
        var offset = 0;
        while (offset < bytes.Length)
        {
            if (Rune.DecodeFromUtf8(bytes[offset..], out _, out var consumed) != OperationStatus.Done) return offset;
            offset += consumed;
        }
        return offset;
    }

    private static string Clip(string value, int max) => value.Length <= max ? value : value[..max] + "…";
}
