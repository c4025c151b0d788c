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
