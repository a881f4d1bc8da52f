using System.CommandLine;
using System.Text.Json;
using BertSharp.Hub;
using BertSharp.Safetensors;

namespace BertSharp.Cli;

/// <summary>Runs a command so that a user's mistake ends in one clear line on stderr and exit code 1, not a stack trace.</summary>
public static class CliRunner
{
    public const int UserError = 1;
    public const int InternalError = 70;

    public static int Run(RootCommand root, string[] args, TextWriter? stderr = null)
    {
        stderr ??= Console.Error;
        try
        {
            var parsed = root.Parse(args);
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsUserError(e))
        {
            stderr.WriteLine($"error: {Describe(e)}");
            return UserError;
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("error: cancelled");
            return 130;
        }
    }

    public static bool IsUserError(Exception e) => e is CliUsageException or FileNotFoundException or DirectoryNotFoundException
        or InvalidDataException or SafetensorsFormatException or HubException or JsonException or NotSupportedException
        or ArgumentException or UnauthorizedAccessException or IOException or BertSharp.Training.TrainingDivergedException;

    private static string Describe(Exception e) => OneLine(e switch
    {
        // The runtime's own messages for these say little about which file was meant.
        FileNotFoundException { FileName: { } f } when !e.Message.Contains(f) => $"{e.Message} ({f})",
        // A parameter name means nothing to someone at a shell ("… (Parameter 'modelIdOrPath')"); the library's
        // user-facing messages carry none, and this keeps any that slip through to one sentence.
        ArgumentException { ParamName: { } name } => WithoutParameter(e.Message, name),
        _ => e.Message,
    });

    private static string WithoutParameter(string message, string name)
    {
        var at = message.IndexOf($" (Parameter '{name}')", StringComparison.Ordinal);
        return at < 0 ? message : message[..at];
    }

    private static string OneLine(string message) => string.Join(' ', message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}

/// <summary>A mistake in how the command was called, reported without a stack trace.</summary>
public sealed class CliUsageException(string message) : Exception(message);
