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
    public async Task Tasks_that_need_the_whole_node_never_overlap()
    {
        var intervals = await fixture.Ray.GetAsync(Enumerable.Range(0, 3).Select(_ => TestTasks.Remote.TimedWholeNode(200))).WaitAsync(Timeout);
        Assert.Equal(1, Intervals.MaxOverlap(intervals));
    }

    [Fact]
    public async Task One_cpu_tasks_run_two_at_a_time_on_two_cpus()
    {
        var intervals = await fixture.Ray.GetAsync(Enumerable.Range(0, 4).Select(_ => TestTasks.Remote.Timed(500))).WaitAsync(Timeout);
        Assert.Equal(2, Intervals.MaxOverlap(intervals));
    }

    [Fact]
    public async Task Fractional_cpus_let_more_tasks_share_the_node()
    {
        var half = TestTasks.Remote.WithOptions(new TaskOptions { NumCpus = 0.5 });
        var intervals = await fixture.Ray.GetAsync(Enumerable.Range(0, 4).Select(_ => half.Timed(1_000))).WaitAsync(Timeout);
        Assert.Equal(4, Intervals.MaxOverlap(intervals));
    }

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
