using Xunit;

namespace Ray.Runtime.Tests;

/// <summary>
/// How a driver's life ends, with real processes: disposed, returning from Main, Ctrl+C, SIGTERM, SIGKILL. Whatever the
/// way, no worker survives it and no file of its node (shared memory, spill directory, socket) is left behind.
/// </summary>
public sealed class ProcessLifetimeTests
{
    // A bound on "eventually", not a speed: processes exit and files go in well under a second on a quiet machine, and a
    // CI machine shared with other builds can take many times that.
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task DisposeAsync_stops_every_worker_cooperatively_and_deletes_the_nodes_files()
    {
        using var driver = await DriverProcess.StartAsync("dispose");
        Assert.Equal(2, driver.Workers.Length);
        Assert.NotEmpty(driver.ActorWorkers);
        Assert.Equal(0, await driver.WaitForExitAsync());
        Assert.True(driver.HasLine("disposed"));
        await DriverProcess.AssertAllExitAsync(driver.AllWorkers, Within);

        // Each worker left by itself when its stream ended: none had to be killed.
        foreach (var pid in driver.AllWorkers)
        {
            Assert.Contains($"(pid {pid}) exited with code 0 while the node stops", driver.Errors);
        }

        AssertNodeFilesGone(driver);
    }

    [Fact]
    public async Task Returning_from_main_without_disposing_leaves_nothing_behind()
    {
        using var driver = await DriverProcess.StartAsync("exit");
        Assert.Equal(0, await driver.WaitForExitAsync());
        await DriverProcess.AssertAllExitAsync(driver.AllWorkers, Within);
        AssertNodeFilesGone(driver);
    }

    [Fact]
    public async Task A_ctrl_c_to_the_process_group_stops_the_driver_and_its_workers_and_leaves_nothing_behind()
    {
        using var driver = await DriverProcess.StartAsync("wait");

        // As a terminal does: SIGINT to the driver and its workers at once. The embedded node must not swallow it.
        driver.Signal("INT", wholeGroup: true);
        Assert.Equal(128 + 2, await driver.WaitForExitAsync());
        await DriverProcess.AssertAllExitAsync(driver.AllWorkers, Within);
        await DriverProcess.AssertAllDeletedAsync(NodeFiles(driver), Within, driver);
    }

    [Fact]
    public async Task Sigterm_stops_the_driver_and_its_workers_and_leaves_nothing_behind()
    {
        using var driver = await DriverProcess.StartAsync("wait");
        driver.Signal("TERM");
        Assert.Equal(128 + 15, await driver.WaitForExitAsync());
        await DriverProcess.AssertAllExitAsync(driver.AllWorkers, Within);
        await DriverProcess.AssertAllDeletedAsync(NodeFiles(driver), Within, driver);
    }

    [Fact]
    public async Task Workers_of_a_driver_killed_with_sigkill_exit_and_delete_its_shared_memory_and_socket()
    {
        using var driver = await DriverProcess.StartAsync("store");
        Assert.True(File.Exists(Path.Combine(driver.Store, "objects")), $"The node's store {driver.Store} has no shared-memory file.");
        driver.Signal("KILL");
        Assert.Equal(128 + 9, await driver.WaitForExitAsync());
        await DriverProcess.AssertAllExitAsync(driver.AllWorkers, Within);
        await DriverProcess.AssertAllDeletedAsync(NodeFiles(driver), Within, driver);
    }

    [Fact]
    public async Task What_a_node_killed_together_with_its_workers_left_is_deleted_when_the_next_node_starts()
    {
        using var killed = await DriverProcess.StartAsync("store");
        killed.Signal("KILL", wholeGroup: true);
        await killed.WaitForExitAsync();
        await DriverProcess.AssertAllExitAsync(killed.AllWorkers, Within);
        Assert.True(Directory.Exists(killed.Store), "Nothing of a node killed with its workers could clean up; the next node must.");

        using var next = await DriverProcess.StartAsync("dispose");
        Assert.False(Directory.Exists(killed.Store), $"{killed.Store} of the killed node is still there after another node started.");
        Assert.False(DriverProcess.Exists(killed.Socket), $"{killed.Socket} of the killed node is still there after another node started.");
        Assert.Equal(0, await next.WaitForExitAsync());
        AssertNodeFilesGone(next);
    }

    [Fact]
    public async Task A_driver_that_handles_ctrl_c_disposes_the_runtime_without_replacing_the_workers_that_got_it_too()
    {
        using var driver = await DriverProcess.StartAsync("ctrlc");
        driver.Signal("INT", wholeGroup: true);
        await driver.WaitForLineAsync("disposed");
        Assert.Equal(0, await driver.WaitForExitAsync());
        await DriverProcess.AssertAllExitAsync(driver.AllWorkers, Within);
        Assert.DoesNotContain("replacement", driver.Errors);
        Assert.DoesNotContain("Started task worker", driver.Errors[driver.Errors.IndexOf("Job 00000001 started", StringComparison.Ordinal)..]);
        foreach (var pid in driver.AllWorkers)
        {
            Assert.Contains($"(pid {pid}) exited with code 0 while the node stops", driver.Errors);
        }

        AssertNodeFilesGone(driver);
    }

    [Fact]
    public async Task The_embedded_nodes_framework_logs_are_off_and_raygens_own_say_what_happened()
    {
        using var driver = await DriverProcess.StartAsync("dispose");
        await driver.WaitForExitAsync();
        var logs = driver.Errors;
        Assert.Contains("Ray.Raylet", logs);
        Assert.Contains("started: resources {CPU: 2}", logs);
        Assert.Contains("Job 00000001 started on node", logs);
        Assert.Contains("with 2 worker process(es)", logs);
        Assert.DoesNotContain("Microsoft.", logs);
        Assert.DoesNotContain("Grpc.", logs);
        Assert.DoesNotContain("Application started", logs);
        Assert.DoesNotContain("Ctrl+C", logs);
    }

    [Fact]
    public async Task A_failed_call_whose_result_is_dropped_unread_is_logged_once_as_an_unhandled_error()
    {
        using var driver = await DriverProcess.StartAsync("unhandled");
        Assert.Equal(0, await driver.WaitForExitAsync());
        var logs = driver.Errors;
        var first = logs.IndexOf("Ray.UnhandledErrors", StringComparison.Ordinal);
        Assert.True(first >= 0, $"No unhandled error was logged:{Environment.NewLine}{logs}");
        Assert.Contains("nobody reads this", logs[first..]);
        Assert.Equal(first, logs.LastIndexOf("Ray.UnhandledErrors", StringComparison.Ordinal));
    }

    /// <summary>The node's directories: shared memory, spill files, and the one that holds its socket.</summary>
    private static string[] NodeFiles(DriverProcess driver) =>
        [driver.Store, Path.Combine(Path.GetTempPath(), Path.GetFileName(driver.Store) + "-spill"), Path.GetDirectoryName(driver.Socket)!];

    private static void AssertNodeFilesGone(DriverProcess driver)
    {
        foreach (var path in NodeFiles(driver))
        {
            Assert.False(DriverProcess.Exists(path), $"{path} is still there after the driver ended.");
        }
    }
}
