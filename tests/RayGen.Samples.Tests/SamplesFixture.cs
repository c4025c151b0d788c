using Ray;
using Xunit;

// One runtime per process: the samples and the benchmark share it, one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace RayGen.Samples.Tests;

/// <summary>One embedded node for the whole assembly, started once and disposed after the last test.</summary>
public sealed class SamplesFixture : IAsyncLifetime
{
    /// <summary>The limit on every await in these tests, so a hang fails instead of stalling CI.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    public RayRuntime Ray { get; private set; } = null!;

    public async Task InitializeAsync() => Ray = await RayRuntime.InitAsync().WaitAsync(Timeout);

    public async Task DisposeAsync() => await Ray.DisposeAsync().AsTask().WaitAsync(Timeout);
}

[CollectionDefinition(Name)]
public sealed class SamplesCollection : ICollectionFixture<SamplesFixture>
{
    public const string Name = "samples";
}
