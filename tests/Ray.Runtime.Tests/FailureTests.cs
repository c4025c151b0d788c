using Xunit;

namespace Ray.Runtime.Tests;

[Collection(RuntimeCollection.Name)]
public sealed class FailureTests(RuntimeFixture fixture)
{
    private static readonly TimeSpan Timeout = RuntimeFixture.Timeout;

    [Fact]
    public async Task A_worker_that_exits_mid_task_fails_the_task_with_its_exit_code_and_is_replaced()
    {
        var noRetry = TestTasks.Remote.WithOptions(new TaskOptions { MaxRetries = 0 });
        var error = await Assert.ThrowsAsync<WorkerDiedException>(() => noRetry.ExitProcess(7).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(7, error.ExitCode);
        Assert.Equal(1, error.Attempts);
        Assert.Contains("exit code 7", error.Message);
        Assert.Contains("died", error.Message);

        await fixture.AssertThePoolServesAgainAsync(replaced: error.WorkerProcessId);
    }

    [Fact]
    public async Task A_task_whose_worker_dies_is_retried()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"raygen-retry-{Guid.NewGuid():n}");
        try
        {
            var pid = await TestTasks.Remote.WithOptions(new TaskOptions { MaxRetries = 2 }).DieOnFirstAttempt(marker)
                .GetAsync().AsTask().WaitAsync(Timeout);
            Assert.NotEqual(int.Parse(await File.ReadAllTextAsync(marker)), pid);
        }
        finally
        {
            File.Delete(marker);
        }
    }

    [Fact]
    public async Task Retries_run_out_after_MaxRetries_attempts()
    {
        var error = await Assert.ThrowsAsync<WorkerDiedException>(
            () => TestTasks.Remote.WithOptions(new TaskOptions { MaxRetries = 1 }).ExitProcess(9).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(2, error.Attempts);
        Assert.Equal(9, error.ExitCode);
        await fixture.AssertThePoolServesAgainAsync(replaced: error.WorkerProcessId);
    }

    [Fact]
    public async Task A_worker_killed_from_outside_is_reported()
    {
        var pidFile = Path.Combine(Path.GetTempPath(), $"raygen-kill-{Guid.NewGuid():n}");
        try
        {
            var sleeping = TestTasks.Remote.WithOptions(new TaskOptions { MaxRetries = 0 }).ReportPidThenSleep(pidFile);
            await TaskTests.WaitForFileAsync(pidFile);
            var pid = int.Parse(await ReadWhenWrittenAsync(pidFile));
            TestProcesses.Kill(pid);

            var error = await Assert.ThrowsAsync<WorkerDiedException>(() => sleeping.GetAsync().AsTask().WaitAsync(Timeout));
            Assert.Equal(pid, error.WorkerProcessId);
            Assert.Equal(137, error.ExitCode);
            await fixture.AssertThePoolServesAgainAsync(replaced: pid);
        }
        finally
        {
            File.Delete(pidFile);
        }
    }

    [Fact]
    public async Task RetryExceptions_retries_a_task_that_threw_until_MaxRetries_and_only_when_asked()
    {
        // Off by default: the first exception is the result.
        using var once = new Gate();
        var error = await Assert.ThrowsAsync<RayTaskException>(
            () => TestTasks.Remote.WithOptions(new TaskOptions { MaxRetries = 3 }).FailTimes(once.Path, 1).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal("attempt 1 fails", error.RemoteMessage);
        Assert.Single(Directory.GetFiles(once.Path));

        // On: retried until an attempt succeeds, here the third.
        using var third = new Gate();
        var retried = TestTasks.Remote.WithOptions(new TaskOptions { MaxRetries = 2, RetryExceptions = true }).FailTimes(third.Path, 2);
        Assert.Equal(3, await retried.GetAsync().AsTask().WaitAsync(Timeout));

        // Or until MaxRetries runs out: the last attempt's exception is the result.
        using var exhausted = new Gate();
        error = await Assert.ThrowsAsync<RayTaskException>(
            () => TestTasks.Remote.WithOptions(new TaskOptions { MaxRetries = 1, RetryExceptions = true }).FailTimes(exhausted.Path, 5).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal("attempt 2 fails", error.RemoteMessage);
        Assert.Equal(2, Directory.GetFiles(exhausted.Path).Length);

        // Declared on the function, and turned off per call.
        using var declared = new Gate();
        Assert.Equal(3, await TestTasks.Remote.FailTimesRetried(declared.Path, 2).GetAsync().AsTask().WaitAsync(Timeout));
        using var overridden = new Gate();
        await Assert.ThrowsAsync<RayTaskException>(
            () => TestTasks.Remote.WithOptions(new TaskOptions { RetryExceptions = false }).FailTimesRetried(overridden.Path, 2).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Single(Directory.GetFiles(overridden.Path));
    }

    [Fact]
    public async Task A_result_that_cannot_be_serialized_fails_its_task_and_the_worker_lives_on()
    {
        var unwritable = TestTasks.Remote.WithOptions(new TaskOptions { MaxRetries = 0 }).MakeUnwritable();
        var error = await Assert.ThrowsAsync<RayTaskException>(() => unwritable.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains("TestTasks.MakeUnwritable()", error.Message);
        Assert.Equal(typeof(RaySerializationException).FullName, error.RemoteExceptionType);
        Assert.Contains($"The result of type {typeof(Unwritable)} could not be serialized: this value cannot be read", error.RemoteMessage);
        Assert.Contains(error.WorkerProcessId!.Value, fixture.Ray.WorkerProcessIds);
        Assert.Equal(3, await TestTasks.Remote.Add(1, 2).GetAsync().AsTask().WaitAsync(Timeout));
    }

    /// <summary>
    /// A task that never returns and ignores its cancellation token hangs its worker's slot, not the node: gets time
    /// out naming it, other tasks run beside it, and once its worker is killed it ends as cancelled, not retried.
    /// </summary>
    [Fact]
    public async Task A_task_that_hangs_without_dying_times_out_cleanly_and_ends_with_its_worker()
    {
        using var gate = new Gate();
        var hung = TestTasks.Remote.WithOptions(new TaskOptions { MaxRetries = 3 }).Hold(gate.Path);
        await gate.WaitForStartedAsync(1);
        var timeout = Assert.Throws<GetTimeoutException>(() => hung.Get(TimeSpan.FromMilliseconds(100)));
        Assert.Contains($"is running on worker pid {gate.ProcessIds[0]}", timeout.Message);

        fixture.Ray.Cancel(hung);
        var (ready, notReady) = await fixture.Ray.WaitAsync([hung], timeout: TimeSpan.FromMilliseconds(200)).WaitAsync(Timeout);
        Assert.Empty(ready);
        Assert.Equal([hung], notReady);
        Assert.Equal(3, await TestTasks.Remote.Add(1, 2).GetAsync().AsTask().WaitAsync(Timeout));

        TestProcesses.Kill(gate.ProcessIds[0]);
        await Assert.ThrowsAsync<TaskCancelledException>(() => hung.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(1, gate.Started);
        await fixture.AssertThePoolServesAgainAsync(replaced: gate.ProcessIds[0]);
    }

    private static async Task<string> ReadWhenWrittenAsync(string path)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var text = await File.ReadAllTextAsync(path);
            if (text.Length > 0 || DateTime.UtcNow > deadline)
            {
                return text;
            }

            await Task.Delay(20);
        }
    }
}
