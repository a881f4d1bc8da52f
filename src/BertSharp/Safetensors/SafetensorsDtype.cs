using static TorchSharp.torch;

namespace BertSharp.Safetensors;

/// <summary>The element types BertSharp reads and writes; names are the safetensors header spellings.</summary>
public enum SafetensorsDtype { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL }

public static class SafetensorsDtypeExtensions
{
    public static int ElementSize(this SafetensorsDtype dtype) => dtype switch
    {
        SafetensorsDtype.F64 or SafetensorsDtype.I64 => 8,
        SafetensorsDtype.F32 or SafetensorsDtype.I32 => 4,
        SafetensorsDtype.F16 or SafetensorsDtype.BF16 or SafetensorsDtype.I16 => 2,
        SafetensorsDtype.I8 or SafetensorsDtype.U8 or SafetensorsDtype.BOOL => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>True for the float types (F64, F32, F16, BF16): the only ones a float weight can be loaded from.</summary>
    public static bool IsFloatingPoint(this SafetensorsDtype dtype) =>
        dtype is SafetensorsDtype.F64 or SafetensorsDtype.F32 or SafetensorsDtype.F16 or SafetensorsDtype.BF16;

    public static ScalarType ToScalarType(this SafetensorsDtype dtype) => dtype switch
    {
        SafetensorsDtype.F64 => ScalarType.Float64,
        SafetensorsDtype.F32 => ScalarType.Float32,
        SafetensorsDtype.F16 => ScalarType.Float16,
        SafetensorsDtype.BF16 => ScalarType.BFloat16,
        SafetensorsDtype.I64 => ScalarType.Int64,
        SafetensorsDtype.I32 => ScalarType.Int32,
        SafetensorsDtype.I16 => ScalarType.Int16,
        SafetensorsDtype.I8 => ScalarType.Int8,
        SafetensorsDtype.U8 => ScalarType.Byte,
        SafetensorsDtype.BOOL => ScalarType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>False for element types the format has no name for here (complex, quantized, ...).</summary>
    public static bool TryFromScalarType(ScalarType scalarType, out SafetensorsDtype dtype)
    {
        SafetensorsDtype? found = scalarType switch
        {
            ScalarType.Float64 => SafetensorsDtype.F64,
            ScalarType.Float32 => SafetensorsDtype.F32,
            ScalarType.Float16 => SafetensorsDtype.F16,
            ScalarType.BFloat16 => SafetensorsDtype.BF16,
            ScalarType.Int64 => SafetensorsDtype.I64,
            ScalarType.Int32 => SafetensorsDtype.I32,
            ScalarType.Int16 => SafetensorsDtype.I16,
            ScalarType.Int8 => SafetensorsDtype.I8,
            ScalarType.Byte => SafetensorsDtype.U8,
            ScalarType.Bool => SafetensorsDtype.BOOL,
            _ => null,
        };
        dtype = found.GetValueOrDefault();
        return found.HasValue;
    }

    // Enum.TryParse would also accept "1", " f32" or "F32,I8"; the header must spell the name exactly.
    internal static bool TryParseHeaderName(string name, out SafetensorsDtype dtype)
    {
        foreach (var candidate in Enum.GetValues<SafetensorsDtype>())
        {
            if (string.Equals(candidate.ToString(), name, StringComparison.Ordinal))
            {
                dtype = candidate;
                return true;
            }
        }
        dtype = default;
        return false;
    }
}
