using Xunit;

namespace Ray.Cluster.Tests;

/// <summary>Scheduling across three real nodes: feasibility against the whole cluster, the default policy, spread, node affinity, custom resources, nested trees, and what crosses nodes with a task.</summary>
[Collection(ThreeNodeClusterCollection.Name)]
public sealed class MultiNodeTests(ThreeNodeClusterFixture fixture) : IDisposable
{
    private static readonly TimeSpan Timeout = NodeProcess.Timeout;

    private readonly string _directory = Directory.CreateTempSubdirectory("raygen-multinode-").FullName;

    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task The_driver_sees_every_node_and_the_clusters_resources()
    {
        var nodes = await fixture.Ray.GetNodesAsync().WaitAsync(Timeout);
        Assert.Equal(3, nodes.Count(n => n.IsAlive));
        Assert.Equal(Cluster.Nodes.Select(n => n.NodeId).Order(), nodes.Select(n => n.NodeId).Order());
        Assert.Single(nodes, n => n.IsHead);
        Assert.Equal(3, fixture.Ray.ClusterResources["CPU"]);
        Assert.Equal(2, fixture.Ray.ClusterResources["special"]);
        Assert.Equal(nodes.Select(n => n.NodeId).Order(), (await ClusterTasks.Remote.NodesSeenInside().GetAsync().AsTask().WaitAsync(Timeout)).Order());
    }

    [Fact]
    public async Task A_task_no_node_could_ever_run_fails_at_once_with_a_clear_error()
    {
        // A driver of a cluster submits over its stream, so the refusal comes back in the reference, at once.
        var tooBig = await Assert.ThrowsAsync<InfeasibleTaskException>(() => ClusterTasks.Remote.WithOptions(new TaskOptions { NumCpus = 2 }).Add(1, 1).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains("no node of the cluster has that much", tooBig.Message);

        var missing = await Assert.ThrowsAsync<InfeasibleTaskException>(() => ClusterTasks.Remote.WithOptions(new TaskOptions { Resources = new Dictionary<string, double> { ["special"] = 3 } }).Add(1, 1).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains("special", missing.Message);

        var nowhere = await Assert.ThrowsAsync<InfeasibleTaskException>(() => ClusterTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(Guid.NewGuid().ToString("n")) }).Add(1, 1).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains("not a live node", nowhere.Message);
    }

    [Fact]
    public async Task Spread_places_tasks_on_every_node()
    {
        var spread = ClusterTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.Spread });
        var nodes = await fixture.Ray.GetAsync(Enumerable.Range(0, 9).Select(_ => spread.NodeId()), Timeout).WaitAsync(Timeout);
        Assert.Equal(Cluster.Nodes.Select(n => n.NodeId).Order(), nodes.Distinct().Order());
    }

    [Fact]
    public async Task Node_affinity_runs_on_that_node_and_a_soft_one_falls_back_when_it_cannot()
    {
        var target = Cluster.Nodes[1].NodeId;
        var pinned = ClusterTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(target) });
        Assert.All(await fixture.Ray.GetAsync(Enumerable.Range(0, 4).Select(_ => pinned.NodeId()), Timeout).WaitAsync(Timeout), node => Assert.Equal(target, node));

        // Soft affinity to a node without the resource: another node runs it.
        var soft = ClusterTasks.Remote.WithOptions(new TaskOptions
        {
            Resources = new Dictionary<string, double> { ["special"] = 1 },
            SchedulingStrategy = SchedulingStrategy.NodeAffinity(Cluster.Head.NodeId, soft: true),
        });
        Assert.Equal(Cluster.Nodes[2].NodeId, await soft.NodeId().GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Custom_resources_place_work_on_the_node_that_offers_them()
    {
        var special = ClusterTasks.Remote.WithOptions(new TaskOptions { NumCpus = 0, Resources = new Dictionary<string, double> { ["special"] = 1 } });
        Assert.All(await fixture.Ray.GetAsync(Enumerable.Range(0, 4).Select(_ => special.NodeId()), Timeout).WaitAsync(Timeout), node => Assert.Equal(Cluster.Nodes[2].NodeId, node));
    }

    [Fact]
    public async Task The_default_policy_spills_work_to_other_nodes_when_the_local_one_is_full()
    {
        // Three tasks that each hold a CPU until released: one node has one CPU, so they must run on three nodes at once.
        var started = Directory.CreateDirectory(Path.Combine(_directory, "started")).FullName;
        var release = Path.Combine(_directory, "release");
        var holders = Enumerable.Range(0, 3).Select(_ => ClusterTasks.Remote.HoldThenNode(started, release)).ToList();
        try
        {
            var deadline = DateTime.UtcNow + Timeout;
            while (Directory.GetFiles(started).Length < 3)
            {
                Assert.True(DateTime.UtcNow < deadline, $"Only {Directory.GetFiles(started).Length} of 3 tasks started, on {string.Join(", ", Directory.GetFiles(started).Select(File.ReadAllText))}: the cluster did not place them on every node. Nodes: {string.Join(", ", Cluster.Nodes.Select(n => n.NodeId))}\n{Cluster.Head.Output}");
                await Task.Delay(20);
            }
        }
        finally
        {
            // Released even when the test fails, so the held CPUs do not fail the tests after it.
            File.WriteAllText(release, "go");
        }

        var nodes = await fixture.Ray.GetAsync(holders, Timeout).WaitAsync(Timeout);
        Assert.Equal(3, nodes.Distinct().Count());
    }

    [Fact]
    public async Task A_tree_of_nested_tasks_across_nodes_does_not_deadlock()
    {
        // 15 parents blocked in Get on a cluster of 3 CPUs: each blocked task frees its CPU for its children.
        Assert.Equal(16, await ClusterTasks.Remote.Leaves(4).GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task References_inside_arguments_and_results_cross_nodes_and_resolve_there()
    {
        var values = Enumerable.Range(1, 5).Select(i => fixture.Ray.Put(i)).ToList();
        var onOther = ClusterTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(Cluster.Nodes[1].NodeId) });
        Assert.Equal(15, await onOther.SumOfReferences(values).GetAsync().AsTask().WaitAsync(Timeout));

        // A reference made on another node comes back in a result, owned there; the driver reads it through its owner.
        var inner = await onOther.PutOnNode(42).GetAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(42, await inner.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(Cluster.Nodes[1].NodeId, inner.Owner.Node.ToString("n"));
    }

    [Fact]
    public async Task What_a_task_prints_on_another_node_reaches_the_driver_with_that_nodes_address()
    {
        var tag = Guid.NewGuid().ToString("n");
        var onThird = ClusterTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(Cluster.Nodes[2].NodeId) });
        await onThird.Print($"from afar {tag}").GetAsync().AsTask().WaitAsync(Timeout);
        var deadline = DateTime.UtcNow + Timeout;
        while (!fixture.WorkerOutput.Contains(tag))
        {
            Assert.True(DateTime.UtcNow < deadline, $"The line did not reach the driver: {fixture.WorkerOutput}");
            await Task.Delay(20);
        }

        Assert.Matches($@"(?m)^\(pid=\d+, ip=127\.0\.0\.3\) from afar {tag}\r?$", fixture.WorkerOutput);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
