using System.CommandLine;
using System.Text.Json;
using BertSharp.Tokenization;
using Spectre.Console;

namespace BertSharp.Cli.Commands;

/// <summary><c>bertsharp tokenize</c>: what the model sees — word pieces and their ids, as Hugging Face produces them.</summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var model = SharedOptions.Model();
        var text = SharedOptions.Text();
        var file = SharedOptions.File();
        var json = SharedOptions.Json();
        var maxLength = SharedOptions.MaxLength();
        var command = new Command("tokenize", "Split texts into BERT word pieces and ids (with [CLS] and [SEP], truncated like transformers).")
        {
            model, text, file, json, maxLength,
        };
        command.SetAction(parse =>
        {
            var texts = TextInputs.Read(parse.GetValue(text), parse.GetValue(file), allowEmpty: true);
            // [CLS] and [SEP] alone take two tokens, as serve checks too.
            var limit = parse.GetValue(maxLength) is { } n ? SharedOptions.CheckAtLeast(n, 2, "--max-length") : (int?)null;
            var tokenizer = ConsoleProgress.WithDownloads(progress => AutoTokenizer.FromPretrained(parse.GetValue(model)!, progress: progress));
            foreach (var input in texts)
            {
                var encoded = tokenizer.Encode(input, maxLength: limit);
                var tokens = tokenizer.ConvertIdsToTokens(encoded.InputIds);
                if (parse.GetValue(json))
                {
                    Console.Out.WriteLine(JsonSerializer.Serialize(new TokenizeResult(encoded.InputIds, tokens), CliJson.Options));
                    continue;
                }
                var table = new Table().AddColumns("#", "token", "id");
                for (var i = 0; i < tokens.Count; i++)
                    table.AddRow(i.ToString(), Markup.Escape(tokens[i]), encoded.InputIds[i].ToString());
                AnsiConsole.Write(table);
                AnsiConsole.MarkupLine(encoded.Truncated
                    ? $"[yellow]{tokens.Count} tokens, truncated from {encoded.OriginalLength}[/]"
                    : $"{tokens.Count} tokens");
            }
            return 0;
        });
        return command;
    }

    private sealed record TokenizeResult(int[] InputIds, IReadOnlyList<string> Tokens);
}
