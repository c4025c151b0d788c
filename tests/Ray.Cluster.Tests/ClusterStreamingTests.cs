using System.Globalization;
using System.Runtime.CompilerServices;
using Xunit;

namespace Ray.Cluster.Tests;

/// <summary>
/// Streams across real nodes: a producer task on another node than the driver's (items small and large, in order, while
/// it runs, with its backpressure bound held across the link), one cancelled by leaving the loop, streams read by tasks
/// on the owner's node and on a third node, and a streaming method of an actor on another node.
/// </summary>
[Collection(ThreeNodeClusterCollection.Name)]
public sealed class ClusterStreamingTests(ThreeNodeClusterFixture fixture) : IDisposable
{
    private static readonly TimeSpan Timeout = NodeProcess.Timeout;

    private readonly string _markers = Directory.CreateTempSubdirectory("raygen-cluster-stream-").FullName;
    private readonly CancellationTokenSource _timeout = new(Timeout);

    private TestCluster Cluster => fixture.Cluster;

    private static ClusterStreamTasks.Remote.Configured On(NodeProcess node, int? backpressure = null) =>
        ClusterStreamTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(node.NodeId), GeneratorBackpressureNumObjects = backpressure });

    [Fact]
    public async Task A_producer_on_another_node_streams_its_items_to_the_driver_in_order()
    {
        var node = Cluster.Nodes[1];
        var items = new List<string>();
        await foreach (var item in On(node).Tagged(200).ReadAllAsync(_timeout.Token))
        {
            items.Add(item);
        }

        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"{i}@{node.NodeId}"), items);
    }

    [Fact]
    public async Task Large_items_made_on_another_node_are_pulled_by_the_driver()
    {
        const int Length = 300_000;
        var index = 0;
        await foreach (var item in On(Cluster.Nodes[2]).Large(3, Length).ReadAllAsync(_timeout.Token))
        {
            Assert.Equal(Length, item.Length);
            Assert.All(item, x => Assert.Equal(index, x));
            index++;
        }

        Assert.Equal(3, index);
    }

    [Fact]
    public async Task Backpressure_holds_across_the_link()
    {
        const int Count = 12;
        const int Bound = 2;
        var consumed = 0;
        await foreach (var item in On(Cluster.Nodes[1], Bound).Counted(_markers, Count).ReadAllAsync(_timeout.Token))
        {
            Assert.Equal(consumed, item);
            consumed++;
            var yielded = await WaitForYieldedAsync(Math.Min(Count, consumed + Bound));
            Assert.True(yielded <= consumed + Bound, $"The producer had yielded {yielded} items when the reader had taken {consumed} (bound {Bound}).");
        }

        Assert.Equal(Count, consumed);
    }

    [Fact]
    public async Task Leaving_the_loop_cancels_a_producer_on_another_node()
    {
        var read = 0;
        await foreach (var item in On(Cluster.Nodes[2]).UntilCancelled(_markers).ReadAllAsync(_timeout.Token))
        {
            if (++read == 3)
            {
                break;
            }
        }

        await WaitForMarkerAsync("cancelled");
        Assert.Equal("token", File.ReadAllText(Path.Combine(_markers, "cancelled")));
    }

    [Fact]
    public async Task A_stream_made_through_the_driver_is_read_by_a_task_on_the_owners_node()
    {
        // The stream is owned by the driver's node (the head) and made on node 2; the reading task runs on the head.
        var stream = On(Cluster.Nodes[1]).Tagged(20);
        var joined = await On(Cluster.Nodes[0]).Join(stream).GetAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(string.Join(",", Enumerable.Range(0, 20).Select(i => $"{i}@{Cluster.Nodes[1].NodeId}")), joined);
    }

    [Fact]
    public async Task A_task_on_a_third_node_reads_a_stream_owned_by_the_driver_s_node_from_where_the_driver_stopped()
    {
        // Made on node 2, owned by the head (the driver's node), read by a task on node 3: each read goes to the owner.
        var stream = On(Cluster.Nodes[1]).Tagged(20);
        var items = stream.GetAsyncEnumerator(_timeout.Token);
        Assert.True(await items.MoveNextAsync());
        var joined = await On(Cluster.Nodes[2]).Join(stream).GetAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(string.Join(",", Enumerable.Range(1, 19).Select(i => $"{i}@{Cluster.Nodes[1].NodeId}")), joined);

        // Large items too: the reading node pulls each from the node that made it.
        const int Length = 300_000;
        var sum = await On(Cluster.Nodes[2]).SumLarge(On(Cluster.Nodes[1]).Large(3, Length)).GetAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal((0 + 1 + 2) * (double)Length, sum);
    }

    [Fact]
    public async Task An_actor_on_another_node_streams_from_its_method()
    {
        var feed = ClusterFeed.WithOptions(new ActorOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(Cluster.Nodes[2].NodeId) }).Remote();
        var items = new List<string>();
        await foreach (var item in feed.Items(50).ReadAllAsync(_timeout.Token))
        {
            items.Add(item);
        }

        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"{i}@{Cluster.Nodes[2].NodeId}"), items);
        fixture.Ray.Kill(feed);
    }

    public void Dispose()
    {
        _timeout.Dispose();
        Directory.Delete(_markers, recursive: true);
    }

    private async Task WaitForMarkerAsync(string name)
    {
        while (!File.Exists(Path.Combine(_markers, name)))
        {
            _timeout.Token.ThrowIfCancellationRequested();
            await Task.Delay(10);
        }
    }

    private async Task<int> WaitForYieldedAsync(int count)
    {
        while (true)
        {
            var path = Path.Combine(_markers, "yielded");
            if (File.Exists(path) && int.Parse(File.ReadAllText(path), CultureInfo.InvariantCulture) is var yielded && yielded >= count)
            {
                return yielded;
            }

            _timeout.Token.ThrowIfCancellationRequested();
            await Task.Delay(5);
        }
    }
}

/// <summary>Streaming generators for the cluster tests.</summary>
public static partial class ClusterStreamTasks
{
    /// <summary>Item i is "i@node", the node it was made on.</summary>
    [Remote]
    public static async IAsyncEnumerable<string> Tagged(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return $"{i}@{RayRuntime.Current.NodeId}";
        }
    }

    [Remote]
    public static async IAsyncEnumerable<double[]> Large(int count, int length)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return Enumerable.Repeat((double)i, length).ToArray();
        }
    }

    /// <summary>Records how many items it has yielded before each one goes out.</summary>
    [Remote]
    public static async IAsyncEnumerable<int> Counted(string markers, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            Write(markers, "yielded", (i + 1).ToString(CultureInfo.InvariantCulture));
            yield return i;
        }
    }

    [Remote]
    public static async IAsyncEnumerable<int> UntilCancelled(string markers, [EnumeratorCancellation] CancellationToken ct = default)
    {
        try
        {
            for (var i = 0; ; i++)
            {
                await Task.Delay(5, CancellationToken.None);
                yield return i;
            }
        }
        finally
        {
            Write(markers, "cancelled", ct.IsCancellationRequested ? "token" : "no token");
        }
    }

    [Remote]
    public static async Task<string> Join(ObjectRefStream<string> items)
    {
        var all = new List<string>();
        await foreach (var item in items.ReadAllAsync())
        {
            all.Add(item);
        }

        return string.Join(",", all);
    }

    [Remote]
    public static async Task<double> SumLarge(ObjectRefStream<double[]> items)
    {
        var sum = 0.0;
        await foreach (var item in items.ReadAllAsync())
        {
            sum += item.Sum();
        }

        return sum;
    }

    private static void Write(string directory, string name, string content)
    {
        var aside = Path.Combine(directory, $"{name}.{Guid.NewGuid():n}.tmp");
        File.WriteAllText(aside, content);
        File.Move(aside, Path.Combine(directory, name), overwrite: true);
    }
}

/// <summary>An actor whose method streams.</summary>
[Remote]
public partial class ClusterFeed
{
    public async IAsyncEnumerable<string> Items(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return $"{i}@{RayRuntime.Current.NodeId}";
        }
    }
}
