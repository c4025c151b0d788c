using Xunit;

namespace Ray.Cluster.Tests;

/// <summary>
/// Large objects between the three nodes: a value put by the driver read on every other node, a result made on one
/// node read by the driver and by a task on a third node (by value and as a zero-copy view), and a pulled copy freed
/// once nothing on its node needs it. The objects are several transfer chunks long, so chunking and reassembly show.
/// </summary>
[Collection(ThreeNodeClusterCollection.Name)]
public sealed class ObjectTransferTests(ThreeNodeClusterFixture fixture)
{
    private const int Size = (24 << 20) + 12345;

    private static readonly TimeSpan Timeout = NodeProcess.Timeout;

    private TestCluster Cluster => fixture.Cluster;

    private static ObjectTasks.Remote.Configured On(NodeProcess node) =>
        ObjectTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(node.NodeId) });

    [Fact]
    public async Task A_large_object_put_by_the_driver_is_read_on_every_node_at_once()
    {
        var expected = ObjectTasks.Hash(ObjectTasks.Pattern(Size, 1));
        var data = fixture.Ray.Put(ObjectTasks.Pattern(Size, 1));

        // Every node reads it in the same moment: the head from its own store, the others pull it (the later ones may
        // pull from a node that already has a copy).
        var reads = Cluster.Nodes.Select(node => On(node).HashHere(data, data)).ToList();
        var results = await fixture.Ray.GetAsync(reads, Timeout).WaitAsync(Timeout);

        Assert.Equal(Cluster.Nodes.Select(n => n.NodeId).Order(), results.Select(r => r[2]).Order());
        Assert.All(results, r => Assert.Equal([expected, expected], r[..2]));
    }

    [Fact]
    public async Task A_large_result_made_on_one_node_is_read_by_the_driver_and_by_a_task_on_a_third_node()
    {
        var expected = ObjectTasks.Hash(ObjectTasks.Pattern(Size, 2));
        var made = On(Cluster.Nodes[1]).Make(Size, 2);

        // A task on the third node pulls it from where it was made, before the driver's node has a copy.
        var third = await On(Cluster.Nodes[2]).HashHere(made, made).GetAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal([expected, expected, Cluster.Nodes[2].NodeId], third);

        // The driver reads it through its node, which pulls it too; by value and as a view.
        Assert.Equal(expected, ObjectTasks.Hash(await made.GetAsync().AsTask().WaitAsync(Timeout)));
        using (var view = await made.GetViewAsync().AsTask().WaitAsync(Timeout))
        {
            Assert.Equal(expected, ObjectTasks.Hash(view.Span));
        }
    }

    [Fact]
    public async Task A_pulled_copy_is_freed_once_nothing_on_its_node_needs_it()
    {
        var node = Cluster.Nodes[2];
        var before = await On(node).UsedHere().GetAsync().AsTask().WaitAsync(Timeout);
        var data = fixture.Ray.Put(ObjectTasks.Pattern(Size, 3));

        var holding = await On(node).UsedWhileHolding(data).GetAsync().AsTask().WaitAsync(Timeout);
        Assert.True(holding >= before + Size, $"The node used {holding} bytes while its task held a {Size}-byte copy, {before} before.");

        // The task ended and no other reference on that node has it: the copy goes (the driver's original stays).
        var deadline = DateTime.UtcNow + Timeout;
        long after;
        while ((after = await On(node).UsedHere().GetAsync().AsTask().WaitAsync(Timeout)) >= before + Size)
        {
            Assert.True(DateTime.UtcNow < deadline, $"The copy was not freed: {after} bytes in use, {before} before it was pulled.");
            await Task.Delay(50);
        }

        Assert.Equal(expected: ObjectTasks.Hash(ObjectTasks.Pattern(Size, 3)), actual: ObjectTasks.Hash(await data.GetAsync().AsTask().WaitAsync(Timeout)));
    }
}
