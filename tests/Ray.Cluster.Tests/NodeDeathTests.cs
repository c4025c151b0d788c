using Xunit;

namespace Ray.Cluster.Tests;

/// <summary>
/// A node killed with SIGKILL: the head marks it dead within its health-check timeout and every node learns it; work
/// that was on it is retried elsewhere while its retries allow, else fails with <see cref="NodeDiedException"/>; an
/// actor on it is dead. Each test has a cluster of its own (a head on 127.0.0.1, a node on 127.0.0.4 and the one killed,
/// with two CPUs, on 127.0.0.5), with a 1 s timeout.
/// </summary>
public sealed class NodeDeathTests
{
    private static readonly TimeSpan Timeout = NodeProcess.Timeout;

    [Fact]
    public async Task A_killed_node_is_marked_dead_and_every_node_learns_it()
    {
        await using var cluster = await StartAsync();
        await using var ray = await ConnectAsync(cluster);
        var victim = cluster.Nodes[2];
        victim.Signal("KILL");

        var reason = await WaitUntilDeadAsync(ray, victim.NodeId);
        Assert.Contains("health-check timeout 1 s", reason);

        // The other node learnt it too: a task there sees the node dead with the same reason.
        var onOther = NodeDeathTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(cluster.Nodes[1].NodeId) });
        Assert.Equal(reason, await onOther.DeathSeenInside(victim.NodeId).GetAsync().AsTask().WaitAsync(Timeout));

        // New work is no longer placed there: spread tasks land on the living nodes only.
        var spread = ClusterTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.Spread });
        var nodes = await ray.GetAsync(Enumerable.Range(0, 6).Select(_ => spread.NodeId()), Timeout).WaitAsync(Timeout);
        Assert.DoesNotContain(victim.NodeId, nodes);

        // Work that can only run on it fails at once instead of waiting for it.
        var pinned = ClusterTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(victim.NodeId) });
        await Assert.ThrowsAnyAsync<RayException>(() => pinned.NodeId().GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_task_on_a_killed_node_is_retried_elsewhere_or_fails_with_NodeDiedException()
    {
        await using var cluster = await StartAsync();
        await using var ray = await ConnectAsync(cluster);
        var victim = cluster.Nodes[2];
        var directory = Directory.CreateTempSubdirectory("raygen-node-death-").FullName;
        try
        {
            var started = Directory.CreateDirectory(Path.Combine(directory, "started")).FullName;
            var release = Path.Combine(directory, "release");
            var softly = SchedulingStrategy.NodeAffinity(victim.NodeId, soft: true);
            var retried = ClusterTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = softly, MaxRetries = 1 }).HoldThenNode(started, release);
            var notRetried = ClusterTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = softly, MaxRetries = 0 }).HoldThenNode(started, release);
            await WaitForFilesAsync(started, 2);
            victim.Signal("KILL");
            await WaitUntilDeadAsync(ray, victim.NodeId);
            File.WriteAllText(release, "go");

            var node = await retried.GetAsync().AsTask().WaitAsync(Timeout);
            Assert.NotEqual(victim.NodeId, node);
            var died = await Assert.ThrowsAsync<NodeDiedException>(() => notRetried.GetAsync().AsTask().WaitAsync(Timeout));
            Assert.Contains(victim.NodeId, died.Message);
        }
        finally
        {
            File.WriteAllText(Path.Combine(directory, "release"), "go");
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task An_object_whose_owner_node_was_killed_fails_its_gets_with_ObjectLostException()
    {
        await using var cluster = await StartAsync();
        await using var ray = await ConnectAsync(cluster);
        var victim = cluster.Nodes[2];
        var directory = Directory.CreateTempSubdirectory("raygen-node-death-").FullName;
        try
        {
            // The inner reference is owned by the victim's node, and its task there never finishes.
            var started = Directory.CreateDirectory(Path.Combine(directory, "started")).FullName;
            var onVictim = NodeDeathTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(victim.NodeId) });
            var inner = await onVictim.HoldHere(started, Path.Combine(directory, "release")).GetAsync().AsTask().WaitAsync(Timeout);
            Assert.Equal(victim.NodeId, inner.Owner.Node.ToString("n"));
            await WaitForFilesAsync(started, 1);

            victim.Signal("KILL");
            var lost = await Assert.ThrowsAsync<ObjectLostException>(() => inner.GetAsync().AsTask().WaitAsync(Timeout));
            Assert.Equal(inner.Id, lost.ObjectId);
            Assert.Contains(victim.NodeId, lost.Message);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_large_result_whose_only_copy_was_on_a_killed_node_fails_its_get_with_ObjectLostException()
    {
        await using var cluster = await StartAsync();
        await using var ray = await ConnectAsync(cluster);
        var victim = cluster.Nodes[2];
        var onVictim = ObjectTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(victim.NodeId) });

        // The driver's node owns the result; its only copy is in the victim's store, which nobody has pulled from yet.
        var made = onVictim.Make(4 << 20, 5);
        var ready = await ray.WaitAsync([made], 1, Timeout).WaitAsync(Timeout);
        Assert.Single(ready.Ready);

        victim.Signal("KILL");
        await WaitUntilDeadAsync(ray, victim.NodeId);
        var lost = await Assert.ThrowsAsync<ObjectLostException>(() => made.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(made.Id, lost.ObjectId);
        Assert.Contains(victim.NodeId, lost.Message);
    }

    [Fact]
    public async Task An_actor_on_a_killed_node_is_dead_for_every_caller()
    {
        await using var cluster = await StartAsync();
        await using var ray = await ConnectAsync(cluster);
        var victim = cluster.Nodes[2];
        var counter = ClusterCounter.WithOptions(new ActorOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(victim.NodeId) }).Remote(0);
        Assert.Equal(victim.NodeId, await counter.NodeId().GetAsync().AsTask().WaitAsync(Timeout));

        victim.Signal("KILL");
        await WaitUntilDeadAsync(ray, victim.NodeId);
        var died = await Assert.ThrowsAsync<ActorDiedException>(() => counter.Add(1).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains(victim.NodeId, died.Message);

        // A caller on another node learns it as well: its task fails with the actor's death as the cause.
        var fromOther = ClusterActorTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(cluster.Nodes[1].NodeId) });
        var failed = await Assert.ThrowsAsync<RayTaskException>(() => fromOther.AddFrom(counter, 1).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(typeof(ActorDiedException).FullName, failed.RemoteExceptionType);
    }

    private static async Task<TestCluster> StartAsync()
    {
        var cluster = await TestCluster.StartAsync(headCpus: 1, headArguments: ["--health-check-timeout", "1"]);
        try
        {
            await cluster.AddNodeAsync("127.0.0.4", 1);
            await cluster.AddNodeAsync("127.0.0.5", 2);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    private static async Task<RayRuntime> ConnectAsync(TestCluster cluster)
    {
        var ray = await RayRuntime.InitAsync(new RayOptions { Address = cluster.HeadAddress, AuthToken = cluster.Token }).WaitAsync(Timeout);
        var deadline = DateTime.UtcNow + Timeout;
        while ((await ray.GetNodesAsync()).Count(n => n.IsAlive) < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "Not every node joined the cluster.");
            await Task.Delay(50);
        }

        return ray;
    }

    private static async Task<string> WaitUntilDeadAsync(RayRuntime ray, string nodeId)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var node = (await ray.GetNodesAsync().WaitAsync(Timeout)).Single(n => n.NodeId == nodeId);
            if (!node.IsAlive)
            {
                return node.DeathReason;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Node {nodeId} was not marked dead.");
            await Task.Delay(50);
        }
    }

    private static async Task WaitForFilesAsync(string directory, int count)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (Directory.GetFiles(directory).Length < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Only {Directory.GetFiles(directory).Length} of {count} tasks started.");
            await Task.Delay(20);
        }
    }
}
