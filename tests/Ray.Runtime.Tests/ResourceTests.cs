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
