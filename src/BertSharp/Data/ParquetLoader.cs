using System.Numerics;
using System.Text.Json;
using Parquet;
using Parquet.Schema;

namespace BertSharp.Data;

/// <summary>Reads a text column and an integer label column from Parquet, the format the Hugging Face Hub serves datasets in.</summary>
internal static class ParquetLoader
{
    public static TextClassificationDataset Load(string path, string textColumn, string labelColumn) =>
        // Task.Run keeps the blocking wait off any caller's synchronization context, where it could deadlock.
        Task.Run(() => LoadAsync(path, textColumn, labelColumn, CancellationToken.None)).GetAwaiter().GetResult();

    public static async Task<TextClassificationDataset> LoadAsync(string path, string textColumn, string labelColumn, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(textColumn);
        ArgumentNullException.ThrowIfNull(labelColumn);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such Parquet file.", path);
        if (new FileInfo(path).Length == 0)
            throw new InvalidDataException($"{path}: the dataset is empty (the file has 0 bytes).");

        ParquetReader reader;
        try
        {
            reader = await ParquetReader.CreateAsync(path, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new InvalidDataException($"{path}: not a readable Parquet file: {ex.Message}", ex);
        }

        await using (reader.ConfigureAwait(false))
        {
            var textField = FindField(reader, path, textColumn, "text");
            var labelField = FindField(reader, path, labelColumn, "label");
            if (!IsStringField(textField))
                throw new InvalidDataException(
                    $"{path}: text column '{textColumn}' must hold strings, but its type is {Describe(textField)}.");
            if (!IsIntegerField(labelField))
                throw new InvalidDataException(
                    $"{path}: label column '{labelColumn}' must hold integers (int8, int16, int32 or int64), but its type is {Describe(labelField)}.");

            long totalRows = 0;
            for (var g = 0; g < reader.RowGroupCount; g++)
                totalRows += reader.OpenRowGroupReader(g).RowCount;
            if (totalRows == 0)
                throw new InvalidDataException($"{path}: the dataset is empty (0 rows).");
            if (totalRows > Array.MaxLength)
                throw new InvalidDataException($"{path}: {totalRows} rows are more than one dataset can hold.");

            var labelNames = ReadLabelNames(reader, labelColumn);
            var examples = new TextExample[totalRows];
            var offset = 0;
            // Row group by row group so only one group's decoded strings are alive besides the result.
            for (var g = 0; g < reader.RowGroupCount; g++)
            {
                var group = reader.OpenRowGroupReader(g);
                var rows = checked((int)group.RowCount);
                var labels = new int[rows];
                await ReadLabelsAsync(group, labelField, labels, offset, path, labelColumn, g, cancellationToken).ConfigureAwait(false);
                var texts = new string?[rows];
                try
                {
                    await group.ReadAsync(textField, texts.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    throw new InvalidDataException($"{path}: reading text column '{textColumn}' in row group {g} failed: {ex.Message}", ex);
                }
                for (var i = 0; i < rows; i++)
                {
                    var text = texts[i] ?? throw new InvalidDataException(
                        $"{path}: text column '{textColumn}' is null at row {offset + i} (0-based); every row needs a text.");
                    var label = labels[i];
                    if (labelNames != null && label >= labelNames.Count)
                        throw new InvalidDataException(
                            $"{path}: label column '{labelColumn}' has {label} at row {offset + i} (0-based), but the file's metadata names only {labelNames.Count} classes ({string.Join(", ", labelNames)}).");
                    examples[offset + i] = new TextExample(text, label);
                }
                offset += rows;
            }
            return TextClassificationDataset.FromTrusted(examples, labelNames, path);
        }
    }

    private static DataField FindField(ParquetReader reader, string path, string column, string role)
    {
        var field = reader.Schema.Fields.FirstOrDefault(f => f.Name == column);
        if (field == null)
            throw new InvalidDataException(
                $"{path}: no {role} column '{column}'; the file's columns are: {string.Join(", ", reader.Schema.Fields.Select(f => f.Name))}.");
        if (field is not DataField dataField || dataField.IsArray)
            throw new InvalidDataException(
                $"{path}: {role} column '{column}' must be a plain column, but it is a {(field is DataField ? "list" : field.SchemaType.ToString().ToLowerInvariant())}.");
        return dataField;
    }

    private static bool IsStringField(DataField field) =>
        field.ClrType == typeof(string) || field.ClrType == typeof(ReadOnlyMemory<char>);

    private static readonly Type[] IntegerTypes =
        [typeof(sbyte), typeof(byte), typeof(short), typeof(ushort), typeof(int), typeof(uint), typeof(long), typeof(ulong)];

    private static bool IsIntegerField(DataField field) => IntegerTypes.Contains(field.ClrType);

    private static string Describe(DataField field)
    {
        var clr = field.ClrType == typeof(ReadOnlyMemory<char>) ? "string" : field.ClrType.Name;
        var element = field.SchemaElement;
        var physical = element?.Type?.ToString();
        var annotation = element?.ConvertedType?.ToString();
        var detail = string.Join(", ", new[] { physical, annotation }.Where(s => !string.IsNullOrEmpty(s)));
        return detail.Length == 0 ? clr : $"{clr} (Parquet {detail})";
    }

    private static ValueTask ReadLabelsAsync(ParquetRowGroupReader group, DataField field, Memory<int> destination, int firstRow,
        string path, string column, int rowGroup, CancellationToken cancellationToken) => field.ClrType switch
    {
        var t when t == typeof(sbyte) => ReadLabelsAsync<sbyte>(group, field, destination, firstRow, path, column, rowGroup, cancellationToken),
        var t when t == typeof(byte) => ReadLabelsAsync<byte>(group, field, destination, firstRow, path, column, rowGroup, cancellationToken),
        var t when t == typeof(short) => ReadLabelsAsync<short>(group, field, destination, firstRow, path, column, rowGroup, cancellationToken),
        var t when t == typeof(ushort) => ReadLabelsAsync<ushort>(group, field, destination, firstRow, path, column, rowGroup, cancellationToken),
        var t when t == typeof(int) => ReadLabelsAsync<int>(group, field, destination, firstRow, path, column, rowGroup, cancellationToken),
        var t when t == typeof(uint) => ReadLabelsAsync<uint>(group, field, destination, firstRow, path, column, rowGroup, cancellationToken),
        var t when t == typeof(long) => ReadLabelsAsync<long>(group, field, destination, firstRow, path, column, rowGroup, cancellationToken),
        var t when t == typeof(ulong) => ReadLabelsAsync<ulong>(group, field, destination, firstRow, path, column, rowGroup, cancellationToken),
        _ => throw new InvalidOperationException($"unexpected label type {field.ClrType}"),
    };

    private static async ValueTask ReadLabelsAsync<T>(ParquetRowGroupReader group, DataField field, Memory<int> destination, int firstRow,
        string path, string column, int rowGroup, CancellationToken cancellationToken)
        where T : struct, INumber<T>
    {
        var rows = destination.Length;
        // Parquet.Net 6.1's nullable overload, used on a required column, can report nulls and wrong values that
        // are not in the file (it seems to read definition levels the column does not have from a pooled buffer):
        // it showed when several files were read at once. Required columns therefore take the plain overload.
        T?[]? nullableValues = null;
        T[]? values = null;
        try
        {
            if (field.IsNullable)
            {
                nullableValues = new T?[rows];
                await group.ReadAsync<T>(field, nullableValues.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            else
            {
                values = new T[rows];
                await group.ReadAsync<T>(field, values.AsMemory(), cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new InvalidDataException($"{path}: reading label column '{column}' in row group {rowGroup} failed: {ex.Message}", ex);
        }
        var span = destination.Span;
        for (var i = 0; i < rows; i++)
        {
            var value = values != null ? values[i] : nullableValues![i] ?? throw new InvalidDataException(
                $"{path}: label column '{column}' is null at row {firstRow + i} (0-based); every row needs a label (use -1 for unlabeled).");
            if (!TryCreateInt(value, out var label))
                throw new InvalidDataException(
                    $"{path}: label column '{column}' has {value} at row {firstRow + i} (0-based), which does not fit a 32-bit label.");
            span[i] = label;
        }
    }

    private static bool TryCreateInt<T>(T value, out int result) where T : INumber<T>
    {
        try
        {
            result = int.CreateChecked(value);
            return true;
        }
        catch (OverflowException)
        {
            result = 0;
            return false;
        }
    }

    /// <summary>
    /// Class names from the <c>huggingface</c> key-value metadata that <c>datasets</c> writes
    /// (<c>{"info": {"features": {"label": {"_type": "ClassLabel", "names": [...]}}}}</c>).
    /// The metadata is advisory: when it is missing or unreadable the labels are still good, just unnamed.
    /// </summary>
    private static IReadOnlyList<string>? ReadLabelNames(ParquetReader reader, string labelColumn)
    {
        if (!reader.CustomMetadata.TryGetValue("huggingface", out var json) || string.IsNullOrWhiteSpace(json))
            return null;
        try
        {
            // JsonText: a name with half a surrogate pair makes the metadata unreadable (ignored), not a crash.
            using var doc = BertSharp.IO.JsonText.ParseDocument(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return null;
            var features = root.TryGetProperty("info", out var info) && info.ValueKind == JsonValueKind.Object && info.TryGetProperty("features", out var f1)
                ? f1
                : root.TryGetProperty("features", out var f2) ? f2 : default;
            if (features.ValueKind != JsonValueKind.Object
                || !features.TryGetProperty(labelColumn, out var label) || label.ValueKind != JsonValueKind.Object
                || !label.TryGetProperty("_type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "ClassLabel"
                || !label.TryGetProperty("names", out var names) || names.ValueKind != JsonValueKind.Array)
                return null;
            var result = new List<string>();
            foreach (var name in names.EnumerateArray())
            {
                if (name.ValueKind != JsonValueKind.String)
                    return null;
                result.Add(name.GetString()!);
            }
            return result.AsReadOnly();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
