using Xunit;

namespace Ray.Runtime.Tests;

[Collection(RuntimeCollection.Name)]
public sealed class ResourceTests(RuntimeFixture fixture)
{
    private static readonly TimeSpan Timeout = RuntimeFixture.Timeout;

    [Fact]
    public void The_node_offers_the_configured_resources()
    {
        Assert.Equal(2, fixture.Ray.ClusterResources["CPU"]);
    }

    [Fact]
    public Task Tasks_that_need_the_whole_node_never_overlap() =>
        AssertRunAtOnceAsync(gate => TestTasks.Remote.HoldWholeNode(gate), tasks: 3, atOnce: 1);

    [Fact]
    public Task One_cpu_tasks_run_two_at_a_time_on_two_cpus() =>
        AssertRunAtOnceAsync(gate => TestTasks.Remote.Hold(gate), tasks: 4, atOnce: 2);

    [Fact]
    public Task Fractional_cpus_let_more_tasks_share_the_node() =>
        AssertRunAtOnceAsync(gate => TestTasks.Remote.WithOptions(new TaskOptions { NumCpus = 0.5 }).Hold(gate), tasks: 4, atOnce: 4);

    [Fact]
    public async Task Short_tasks_never_queue_behind_a_long_one_while_a_cpu_is_free()
    {
        // Let the scheduler measure the short function first: unmeasured functions are never pipelined.
        await fixture.Ray.GetAsync(Enumerable.Range(0, 20).Select(i => TestTasks.Remote.Add(i, 1))).WaitAsync(Timeout);

        var marker = Path.Combine(Path.GetTempPath(), $"raygen-long-{Guid.NewGuid():n}");
        var longTask = TestTasks.Remote.WaitForCancellation(marker);
        await TaskTests.WaitForFileAsync(marker);
        var shortTasks = Enumerable.Range(0, 200).Select(i => TestTasks.Remote.Add(i, 1)).ToList();
        Assert.Equal(Enumerable.Range(1, 200), await fixture.Ray.GetAsync(shortTasks).WaitAsync(Timeout));

        // Every short task finished while the long one still ran: none was queued behind it.
        var (ready, _) = await fixture.Ray.WaitAsync([longTask], numReturns: 1, timeout: TimeSpan.Zero).WaitAsync(Timeout);
        Assert.Empty(ready);
        fixture.Ray.Cancel(longTask);
        await Assert.ThrowsAsync<TaskCancelledException>(() => longTask.GetAsync().AsTask().WaitAsync(Timeout));
        File.Delete(marker);
    }

    /// <summary>
    /// Submits <paramref name="tasks"/> tasks that each hold until released, and releases them one by one in the order
    /// they started. Each time the next one starts, <paramref name="atOnce"/> of them run (held, so none can have
    /// finished early) and the scheduler keeps the rest queued with no CPU left.
    /// </summary>
    private async Task AssertRunAtOnceAsync(Func<string, ObjectRef<int>> submit, int tasks, int atOnce)
    {
        using var gate = new Gate();
        var submitted = Enumerable.Range(0, tasks).Select(_ => submit(gate.Path)).ToList();
        for (var released = 0; released + atOnce <= tasks; released++)
        {
            await gate.WaitForStartedAsync(released + atOnce);
            var states = submitted.Select(task => fixture.Ray.Node!.Scheduler.Describe(task.Id)).ToList();
            Assert.Equal(released + atOnce, gate.Started);
            Assert.Equal(atOnce, states.Count(state => state.Contains(" is running ", StringComparison.Ordinal)));
            Assert.Equal(tasks - released - atOnce, states.Count(state => state.Contains(" is queued", StringComparison.Ordinal)));
            Assert.Equal(0, fixture.Ray.AvailableResources.GetValueOrDefault("CPU"));
            gate.Release(released + 1);
        }

        gate.ReleaseAll(tasks);
        Assert.Equal(Enumerable.Range(1, tasks), (await fixture.Ray.GetAsync(submitted).WaitAsync(Timeout)).Order());
    }

    [Fact]
    public void A_request_no_node_can_satisfy_fails_at_once()
    {
        var error = Assert.Throws<InfeasibleTaskException>(() => TestTasks.Remote.WithOptions(new TaskOptions { NumCpus = 64 }).Add(1, 2));
        Assert.Contains("CPU: 64", error.Message);
        Assert.Contains("CPU: 2", error.Message);

        var custom = Assert.Throws<InfeasibleTaskException>(
            () => TestTasks.Remote.WithOptions(new TaskOptions { Resources = new Dictionary<string, double> { ["TPU"] = 1 } }).Add(1, 2));
        Assert.Contains("TPU", custom.Message);
    }
}
