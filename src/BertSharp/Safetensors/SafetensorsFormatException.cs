namespace BertSharp.Safetensors;

/// <summary>A file that is not a well-formed safetensors file. The message starts with the file path.</summary>
public sealed class SafetensorsFormatException : Exception
{
    public SafetensorsFormatException(string filePath, string problem, Exception? innerException = null)
        : base($"{filePath}: {problem}", innerException)
    {
        FilePath = filePath;
    }

    public string FilePath { get; }
}
