using System.Runtime.InteropServices;
using Xunit;

namespace Ray.Runtime.Tests.ObjectStore;

/// <summary>
/// A node with a small object store (512 MiB of shared memory, spilling above 80%, at most 1 GiB spilled), so that
/// tests reach the store's limits quickly. A process hosts one runtime at a time: this collection runs after (or
/// before) the others, never beside them.
/// </summary>
public sealed class ObjectStoreFixture : IAsyncLifetime
{
    public const long Capacity = 512L << 20;

    public const long SpillLimit = 1L << 30;

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public RayRuntime Ray { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Ray = await RayRuntime.InitAsync(new RayOptions
        {
            NumCpus = 2,
            ObjectStoreMemory = Capacity,
            ObjectSpillLimit = SpillLimit,
        }).WaitAsync(Timeout);

    public async Task DisposeAsync() => await Ray.DisposeAsync().AsTask().WaitAsync(Timeout);

    /// <summary>
    /// Polls until <paramref name="condition"/> holds, collecting the driver's garbage before each look (dropped
    /// <see cref="ObjectRef"/>s release their objects after the collection that finds them gone); fails after <see cref="Timeout"/>.
    /// </summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            if (condition())
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Timed out after {Timeout.TotalSeconds} s waiting until {what}.");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Frees the garbage earlier tests left, so that a test can take its own baseline: the node's own collection (the
    /// one it runs when the store is short of memory) makes the driver and every worker collect and returns once their
    /// releases are applied. Freed objects can release others they held, so it repeats until one frees nothing.
    /// </summary>
    public async Task<long> SettledUsedBytesAsync()
    {
        var collect = Ray.Node!.Store.CollectGarbage!;
        var deadline = DateTime.UtcNow + Timeout;
        var previous = Ray.GetObjectStoreStats().UsedBytes;
        while (true)
        {
            await collect().WaitAsync(Timeout);
            var used = Ray.GetObjectStoreStats().UsedBytes;
            if (used == previous)
            {
                return used;
            }

            Assert.True(DateTime.UtcNow < deadline, "Every collection freed more of the object store.");
            previous = used;
        }
    }

    /// <summary>Whether <paramref name="address"/> lies in a mapping of this process's <c>/proc/self/maps</c> whose path contains <paramref name="pathPart"/>.</summary>
    public static unsafe bool IsMappedFrom(void* address, string pathPart) => MappedPath(address)?.Contains(pathPart, StringComparison.Ordinal) == true;

    /// <summary>The file a mapping of this process containing <paramref name="address"/> comes from, or null (anonymous memory, the GC heap).</summary>
    public static unsafe string? MappedPath(void* address)
    {
        var value = (ulong)address;
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var dash = line.IndexOf('-');
            var space = line.IndexOf(' ');
            var start = Convert.ToUInt64(line[..dash], 16);
            var end = Convert.ToUInt64(line[(dash + 1)..space], 16);
            if (value >= start && value < end)
            {
                var path = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                return path.Length == 6 ? path[5].Trim() : null;
            }
        }

        return null;
    }

    /// <summary>A deterministic array of <paramref name="length"/> doubles.</summary>
    public static double[] Doubles(int length, int seed = 1)
    {
        var values = new double[length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (i * 0.5) + seed;
        }

        return values;
    }

    public static bool OnLinux => RuntimeInformation.IsOSPlatform(OSPlatform.Linux);
}

[CollectionDefinition(Name)]
public sealed class ObjectStoreCollection : ICollectionFixture<ObjectStoreFixture>
{
    public const string Name = "object store";
}
