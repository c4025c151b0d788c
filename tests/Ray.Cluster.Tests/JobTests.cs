using System.Text.RegularExpressions;
using Xunit;

namespace Ray.Cluster.Tests;

/// <summary>
/// Jobs as real driver processes: their code is shipped through the GCS (a node never needs the driver's files), two
/// builds of one assembly run side by side, and a driver killed with SIGKILL leaves nothing of its job behind.
/// </summary>
public sealed class JobTests
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_node_that_cannot_read_the_drivers_directory_runs_the_job_from_the_shipped_package()
    {
        // The node's mount namespace covers the driver's directory with an empty tmpfs: it cannot read the driver's files.
        var driverDirectory = TestCluster.ClusterAppDirectory("V1");
        await using var cluster = await TestCluster.StartAsync(headCpus: 1, hideFromHead: driverDirectory);

        using var driver = await cluster.StartDriverAsync("V1", "version");
        Assert.Equal(0, await driver.WaitForExitAsync());
        Assert.Contains("version: build one", driver.Output);
        await cluster.Head.WaitForOutputAsync(@"Job \S+ started on node \S+ with \d+ worker process\(es\), its code from \S+/packages/cache/[0-9a-f]{64}");
    }

    [Fact]
    public async Task Two_drivers_with_different_builds_of_the_same_assembly_run_side_by_side()
    {
        await using var cluster = await TestCluster.StartAsync(headCpus: 2);
        using var one = await cluster.StartDriverAsync("V1", "version");
        using var two = await cluster.StartDriverAsync("V2", "version");
        Assert.Equal(0, await one.WaitForExitAsync());
        Assert.Equal(0, await two.WaitForExitAsync());
        Assert.Contains("version: build one", one.Output);
        Assert.Contains("version: build two", two.Output);
        Assert.DoesNotContain("build two", one.Output);
        Assert.DoesNotContain("build one", two.Output);
    }

    [Fact]
    public async Task A_driver_killed_with_sigkill_leaves_no_task_actor_worker_or_object_of_its_job()
    {
        await using var cluster = await TestCluster.StartAsync(headCpus: 2);
        using var driver = await cluster.StartDriverAsync("V1", "hold", readyLine: "holding");
        var actorPid = int.Parse(Regex.Match(driver.Output, @"actor pid: (\d+)").Groups[1].Value);
        var job = (await cluster.Head.WaitForOutputAsync(@"Job (?<job>[0-9a-f]{8}) started on node")).Groups["job"].Value;
        var workers = ProcessTable.WorkersOf(cluster.Head.Pid);
        Assert.Contains(actorPid, workers);
        Assert.True(workers.Length >= 3, $"Expected the job's task workers and its actor worker, found {workers.Length}.");

        driver.Signal("KILL");
        await driver.WaitForExitAsync();

        await cluster.Head.WaitForOutputAsync($@"Job {job} ended on node \S+: its driver disconnected");
        var deadline = DateTime.UtcNow + Within;
        while (ProcessTable.WorkersOf(cluster.Head.Pid) is { Length: > 0 } left)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Workers of the killed driver's job still run: {string.Join(", ", left)}");
            await Task.Delay(50);
        }

        // The GCS learns that the job's CPUs are free with the node's next report.
        deadline = DateTime.UtcNow + Within;
        while (true)
        {
            var (status, output) = await cluster.RunCliAsync("status", "--address", cluster.HeadAddress, "--auth-token", cluster.Token);
            Assert.Equal(0, status);
            Assert.Contains("Jobs: 0 running, 1 finished", output);
            if (output.Contains("CPU 0/2", StringComparison.Ordinal))
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The killed driver's CPUs were not free within {Within.TotalSeconds} s:{Environment.NewLine}{output}");
            await Task.Delay(200);
        }

        // Another job sees nothing of it on the node.
        using var other = await cluster.StartDriverAsync("V2", "objects");
        Assert.Equal(0, await other.WaitForExitAsync());
        Assert.Contains("other jobs' objects: 0", other.Output);
    }

    /// <summary>
    /// A cluster driver, like an embedded one, refuses every call once disposed, through the runtime or a reference or
    /// handle it made, and ends the get and the wait in flight with ObjectDisposedException instead of leaving them to
    /// a stream that is closing.
    /// </summary>
    [Fact]
    public async Task A_disposed_cluster_driver_refuses_every_call_and_ends_the_get_and_wait_in_flight()
    {
        await using var cluster = await TestCluster.StartAsync(headCpus: 2);
        using var driver = await cluster.StartDriverAsync("V1", "after-dispose");
        Assert.True(await driver.WaitForExitAsync() == 0, driver.Output);
        var steps = new Dictionary<string, string>();
        foreach (var parts in driver.Output.Split('\n', StringSplitOptions.TrimEntries).Select(line => line.Split(": ", 2)).Where(parts => parts.Length == 2))
        {
            steps[parts[0]] = parts[1];
        }

        foreach (var step in new[] { "awaiting", "waiting", "put", "get small", "get large", "get pending", "wait", "cancel", "actor call", "list", "stats", "nodes" })
        {
            Assert.True(steps.TryGetValue(step, out var outcome), $"No outcome for {step}:{Environment.NewLine}{driver.Output}");
            Assert.True(outcome.StartsWith("ObjectDisposedException: ", StringComparison.Ordinal), $"{step}: {outcome}");
            Assert.Contains("RayRuntime.InitAsync", outcome);
        }

        Assert.StartsWith("InvalidOperationException: RayGen is not initialized", steps["submit"]);
    }
}
