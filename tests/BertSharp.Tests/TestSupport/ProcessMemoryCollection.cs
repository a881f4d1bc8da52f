namespace BertSharp.Tests.TestSupport;

/// <summary>
/// Tests that measure the whole process's native or resident memory. Any test running beside them allocates in the same
/// process and shows up as "growth", so xunit runs this collection alone, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessMemoryCollection
{
    public const string Name = "Process memory";
}
