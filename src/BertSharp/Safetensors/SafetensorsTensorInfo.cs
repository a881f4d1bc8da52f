namespace BertSharp.Safetensors;

/// <summary>One header entry; <see cref="Begin"/> and <see cref="End"/> are relative to the start of the data buffer.</summary>
public sealed record SafetensorsTensorInfo(string Name, SafetensorsDtype Dtype, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;

    public override string ToString() => $"{Name}: {Dtype} [{string.Join(",", Shape)}] @ [{Begin}, {End})";
}
