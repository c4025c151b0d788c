using Xunit;

namespace Ray.Cluster.Tests;

/// <summary>Actors across three real nodes: placed by resources and strategy, called from anywhere in order, found by name from any node, killed from anywhere.</summary>
[Collection(ThreeNodeClusterCollection.Name)]
public sealed class ClusterActorTests(ThreeNodeClusterFixture fixture)
{
    private static readonly TimeSpan Timeout = NodeProcess.Timeout;

    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task An_actor_is_placed_by_its_resources_and_its_strategy()
    {
        var special = ClusterCounter.WithOptions(new ActorOptions { Resources = new Dictionary<string, double> { ["special"] = 1 } }).Remote(0);
        Assert.Equal(Cluster.Nodes[2].NodeId, await special.NodeId().GetAsync().AsTask().WaitAsync(Timeout));

        var pinned = ClusterCounter.WithOptions(new ActorOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(Cluster.Nodes[1].NodeId) }).Remote(0);
        Assert.Equal(Cluster.Nodes[1].NodeId, await pinned.NodeId().GetAsync().AsTask().WaitAsync(Timeout));

        var spread = Enumerable.Range(0, 3).Select(_ => ClusterCounter.WithOptions(new ActorOptions { SchedulingStrategy = SchedulingStrategy.Spread }).Remote(0)).ToList();
        var nodes = await fixture.Ray.GetAsync(spread.Select(a => a.NodeId()), Timeout).WaitAsync(Timeout);
        Assert.Equal(3, nodes.Distinct().Count());

        foreach (var actor in spread.Append(special).Append(pinned))
        {
            fixture.Ray.Kill(actor);
        }
    }

    [Fact]
    public async Task Calls_from_one_caller_to_an_actor_on_another_node_run_in_order()
    {
        var counter = ClusterCounter.WithOptions(new ActorOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(Cluster.Nodes[2].NodeId) }).Remote(100);
        var sums = Enumerable.Range(0, 300).Select(_ => counter.Add(1)).ToList();
        Assert.Equal(Enumerable.Range(101, 300), await fixture.Ray.GetAsync(sums, Timeout).WaitAsync(Timeout));
        fixture.Ray.Kill(counter);
    }

    [Fact]
    public async Task A_handle_passed_to_tasks_on_every_node_reaches_the_same_actor()
    {
        var counter = ClusterCounter.WithOptions(new ActorOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(Cluster.Nodes[1].NodeId) }).Remote(0);
        var callers = Cluster.Nodes.Select(node =>
            ClusterActorTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(node.NodeId) }).AddFrom(counter, 10)).ToList();
        await fixture.Ray.GetAsync(callers, Timeout).WaitAsync(Timeout);
        Assert.Equal(30, await counter.Get().GetAsync().AsTask().WaitAsync(Timeout));
        fixture.Ray.Kill(counter);
    }

    [Fact]
    public async Task A_named_actor_is_found_from_any_node_and_its_name_is_unique_in_the_cluster()
    {
        var name = $"counter-{Guid.NewGuid():n}";
        var named = ClusterCounter.WithOptions(new ActorOptions { Name = name, SchedulingStrategy = SchedulingStrategy.NodeAffinity(Cluster.Nodes[2].NodeId) }).Remote(0);
        Assert.Equal(0, await named.Get().GetAsync().AsTask().WaitAsync(Timeout));

        var fromOtherNode = ClusterActorTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(Cluster.Nodes[1].NodeId) });
        Assert.Equal(5, await fromOtherNode.AddToNamed(name, 5).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(5, await (await fixture.Ray.GetActorAsync<ClusterCounter>(name).AsTask().WaitAsync(Timeout)).Get().GetAsync().AsTask().WaitAsync(Timeout));

        // A second actor with the name is refused; its calls say why.
        var twin = ClusterCounter.WithOptions(new ActorOptions { Name = name }).Remote(0);
        var refused = await Assert.ThrowsAsync<ActorDiedException>(() => twin.Get().GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains("already exists", refused.Message);

        // Killed from a task on another node: later calls fail, and the name is free again.
        await fromOtherNode.KillNamed(name).WaitAsync().AsTask().WaitAsync(Timeout);
        await Assert.ThrowsAsync<ActorDiedException>(() => WaitUntilDeadAsync(named));
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            try
            {
                await fixture.Ray.GetActorAsync<ClusterCounter>(name).AsTask().WaitAsync(Timeout);
                Assert.True(DateTime.UtcNow < deadline, "The killed actor's name is still taken.");
                await Task.Delay(50);
            }
            catch (ArgumentException)
            {
                break;
            }
        }
    }

    [Fact]
    public async Task Killing_a_dedicated_actor_on_another_node_ends_its_process()
    {
        var actor = ClusterCounter.WithOptions(new ActorOptions { DedicatedProcess = true, SchedulingStrategy = SchedulingStrategy.NodeAffinity(Cluster.Nodes[1].NodeId) }).Remote(0);
        using var process = System.Diagnostics.Process.GetProcessById(await actor.ProcessId().GetAsync().AsTask().WaitAsync(Timeout));
        fixture.Ray.Kill(actor);
        await process.WaitForExitAsync().WaitAsync(Timeout);
        await Assert.ThrowsAsync<ActorDiedException>(() => WaitUntilDeadAsync(actor));
    }

    private static async Task WaitUntilDeadAsync(ActorHandle<ClusterCounter> actor)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline)
        {
            await actor.Get().GetAsync().AsTask().WaitAsync(Timeout);
            await Task.Delay(50);
        }
    }
}
