using System.Text.Json;

namespace BertSharp.Cli;

internal static class CliJson
{
    // snake_case like transformers' outputs (input_ids, num_tokens), so scripts can treat both alike.
    public static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
