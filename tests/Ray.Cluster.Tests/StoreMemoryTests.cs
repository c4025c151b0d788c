using Xunit;

namespace Ray.Cluster.Tests;

/// <summary>
/// A node's store under pressure across nodes. References are released by the garbage collectors of the processes that
/// hold them, and the process keeping an object alive may be on another node: there a task took the object as an
/// argument and its worker has not collected since. A node whose store needs room asks every node to collect, so the
/// garbage elsewhere is freed instead of spilled.
/// </summary>
public sealed class StoreMemoryTests : IAsyncLifetime
{
    private const int Size = 16 << 20;
    private const long StoreBytes = 96L << 20;

    private static readonly TimeSpan Timeout = NodeProcess.Timeout;

    private TestCluster _cluster = null!;
    private RayRuntime _ray = null!;

    public async Task InitializeAsync()
    {
        var store = StoreBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _cluster = await TestCluster.StartAsync(headCpus: 1, headArguments: ["--object-store-memory", store]);
        await _cluster.AddNodeAsync("127.0.0.2", 1, "--object-store-memory", store);
        _ray = await RayRuntime.InitAsync(new RayOptions { Address = _cluster.HeadAddress, AuthToken = _cluster.Token }).WaitAsync(Timeout);
        var deadline = DateTime.UtcNow + Timeout;
        while ((await _ray.GetNodesAsync()).Count(n => n.IsAlive) < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "The second node did not join the cluster.");
            await Task.Delay(50);
        }
    }

    public async Task DisposeAsync()
    {
        if (_ray is not null)
        {
            await _ray.DisposeAsync().AsTask().WaitAsync(Timeout);
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync().AsTask().WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task Objects_whose_last_references_are_garbage_on_another_node_are_freed_not_spilled_when_the_store_needs_room()
    {
        var other = _cluster.Nodes[1];
        var there = ObjectTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(other.NodeId) });

        // Three times what the head's store holds below its high-water mark, each object borrowed by a task on the other
        // node and then garbage everywhere: in this driver and in the worker there.
        const int rounds = 14;
        for (var round = 0; round < rounds; round++)
        {
            var data = Put(round);
            Assert.Equal(data.Id.ToString(), await there.Borrow(data).GetAsync().AsTask().WaitAsync(Timeout));
        }

        var stats = _ray.GetObjectStoreStats();
        Assert.True(stats.SpillCount == 0, $"The head spilled {stats.SpillCount} time(s) ({stats.SpilledBytes} bytes): {stats}");
        Assert.True(stats.UsedBytes <= StoreBytes, stats.ToString());
    }

    private ObjectRef<byte[]> Put(int seed) => _ray.Put(ObjectTasks.Pattern(Size, seed));
}
