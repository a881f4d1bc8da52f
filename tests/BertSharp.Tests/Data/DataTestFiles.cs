using Parquet;
using Parquet.Schema;

namespace BertSharp.Tests.Data;

/// <summary>A fresh folder per test, removed afterwards, so tests never see each other's files.</summary>
internal sealed class DataTempDir : IDisposable
{
    public DataTempDir()
    {
        Root = Directory.CreateTempSubdirectory("bertsharp-data-").FullName;
    }

    public string Root { get; }

    public string File(string name) => System.IO.Path.Combine(Root, name);

    public string Write(string name, string content)
    {
        var path = File(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is not worth failing a test over.
        }
    }
}

/// <summary>Writes small Parquet files the way other tools would, to read them back.</summary>
internal static class ParquetFiles
{
    public const string ImdbMetadata =
        """{"info": {"features": {"text": {"dtype": "string", "_type": "Value"}, "label": {"names": ["neg", "pos"], "_type": "ClassLabel"}}}}""";

    /// <summary>One column: its field and a writer for one row group's slice of it.</summary>
    public sealed record Column(DataField Field, Func<ParquetRowGroupWriter, int, int, Task> WriteSlice);

    public static Column Strings(string name, IReadOnlyList<string?> values, bool nullable = false)
    {
        var field = new DataField<string>(name, nullable);
        return new Column(field, (rg, start, count) => rg.WriteAsync(field, values.Skip(start).Take(count).ToArray()!));
    }

    public static Column Values<T>(string name, IReadOnlyList<T> values) where T : struct
    {
        var field = new DataField<T>(name);
        return new Column(field, (rg, start, count) => rg.WriteAsync<T>(field, new ReadOnlyMemory<T>(values.Skip(start).Take(count).ToArray())));
    }

    public static Column Nullables<T>(string name, IReadOnlyList<T?> values) where T : struct
    {
        var field = new DataField<T?>(name);
        return new Column(field, (rg, start, count) => rg.WriteAsync<T>(field, new ReadOnlyMemory<T?>(values.Skip(start).Take(count).ToArray())));
    }

    public static async Task WriteAsync(string path, IReadOnlyList<Column> columns, int rows, int rowGroups = 1,
        CompressionMethod compression = CompressionMethod.Zstd, string? huggingfaceMetadata = ImdbMetadata)
    {
        var schema = new ParquetSchema(columns.Select(c => (Field)c.Field));
        await using var stream = System.IO.File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(schema, stream, new ParquetOptions { CompressionMethod = compression });
        if (huggingfaceMetadata != null)
            writer.CustomMetadata = new Dictionary<string, string> { ["huggingface"] = huggingfaceMetadata };
        var perGroup = rowGroups == 0 ? 0 : (rows + rowGroups - 1) / rowGroups;
        for (var g = 0; g < rowGroups; g++)
        {
            var start = g * perGroup;
            var count = Math.Min(perGroup, rows - start);
            using var rg = writer.CreateRowGroup();
            foreach (var column in columns)
                await column.WriteSlice(rg, start, count);
        }
    }
}
