using Xunit;

namespace Ray.Cluster.Tests;

/// <summary>
/// Replaying failed calls from a cluster driver: the driver's node owns what the driver submits, wherever it runs, and
/// keeps its failures; the driver asks it for one and runs it in its own process.
/// </summary>
[Collection(ThreeNodeClusterCollection.Name)]
public sealed class ClusterReplayTests(ThreeNodeClusterFixture fixture)
{
    private static readonly TimeSpan Timeout = NodeProcess.Timeout;

    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task A_task_that_failed_on_another_node_is_replayed_in_the_driver()
    {
        var elsewhere = ClusterTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(Cluster.Nodes[1].NodeId) });
        Assert.Equal(Cluster.Nodes[1].NodeId, await elsewhere.Checked(1).GetAsync().AsTask().WaitAsync(Timeout));
        var failing = elsewhere.Checked(-3);
        var failure = await Assert.ThrowsAsync<RayTaskException>(() => failing.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(failing.Id, failure.FailedTaskId);

        ClusterTasks.LastCheckedProcessId = 0;
        var replayed = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => failure.ReplayAsync().WaitAsync(Timeout));
        Assert.Equal(failure.RemoteMessage, replayed.Message);
        Assert.Equal(Environment.ProcessId, ClusterTasks.LastCheckedProcessId);
        Assert.Equal(failure.RemoteMessage, Assert.Throws<ArgumentOutOfRangeException>(() => failure.Replay()).Message);
    }

    [Fact]
    public async Task An_actor_method_that_failed_on_another_node_is_replayed_on_a_new_instance()
    {
        var counter = ClusterCounter.WithOptions(new ActorOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(Cluster.Nodes[2].NodeId) }).Remote(5);
        Assert.Equal(6, await counter.Add(1).GetAsync().AsTask().WaitAsync(Timeout));
        var failure = await Assert.ThrowsAsync<RayTaskException>(() => counter.Take(10).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal("cannot take 10 of 6", failure.RemoteMessage);
        Assert.Equal(typeof(ClusterCounter).FullName, failure.ActorClass);

        // A new instance from the constructor's arguments: 5, not the 6 the actor had.
        var replayed = await Assert.ThrowsAsync<InvalidOperationException>(() => failure.ReplayAsync().WaitAsync(Timeout));
        Assert.Equal("cannot take 10 of 5", replayed.Message);
        fixture.Ray.Kill(counter);
    }
}
