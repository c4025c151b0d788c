using Xunit;

namespace Ray.Runtime.Tests;

[Collection(RuntimeCollection.Name)]
public sealed class TaskTests(RuntimeFixture fixture)
{
    private static readonly TimeSpan Timeout = RuntimeFixture.Timeout;

    [Fact]
    public async Task A_remote_function_runs_in_a_worker_process()
    {
        Assert.Equal(3, await TestTasks.Remote.Add(1, 2).GetAsync().AsTask().WaitAsync(Timeout));
        var pid = await TestTasks.Remote.ProcessId().GetAsync().AsTask().WaitAsync(Timeout);
        Assert.NotEqual(Environment.ProcessId, pid);
        Assert.Contains(pid, fixture.Ray.WorkerProcessIds);
    }

    [Fact]
    public async Task Void_and_async_functions_return_futures()
    {
        await TestTasks.Remote.Nothing().WaitAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("ab", await TestTasks.Remote.Concat("a", "b").GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal("cd", TestTasks.Remote.Concat("c", "d").Get(Timeout));
    }

    [Fact]
    public async Task User_types_cross_the_process_boundary()
    {
        var points = new[] { new Point(1, 2), new Point(3, 4) };
        Assert.Equal(30, await TestTasks.Remote.SumOfSquares(points).GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Futures_are_dependencies_and_arrive_as_values()
    {
        var a = TestTasks.Remote.Add(1, 2);
        var b = TestTasks.Remote.Add(a, 10);
        var c = TestTasks.Remote.Add(b, a);
        Assert.Equal(16, await c.GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Put_values_are_arguments_like_any_other()
    {
        var one = fixture.Ray.Put(1);
        var two = fixture.Ray.Put(2);
        Assert.Equal(3, await TestTasks.Remote.Add(1, 2).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(3, await TestTasks.Remote.Add(1, two).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(3, await TestTasks.Remote.Add(one, two).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(1, await one.GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Nested_references_are_passed_as_references_not_resolved()
    {
        var refs = Enumerable.Range(1, 5).Select(i => TestTasks.Remote.Add(i, 0)).ToList();
        Assert.Equal(15, await TestTasks.Remote.SumReferences(refs).GetAsync().AsTask().WaitAsync(Timeout));

        var single = fixture.Ray.Put(7);
        Assert.Equal(single.Id.ToString(), await TestTasks.Remote.DescribeReference(single).GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_task_can_put_and_return_a_reference()
    {
        var inner = await TestTasks.Remote.PutInside(42).GetAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(42, await inner.GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Nested_tasks_deeper_than_the_core_count_do_not_deadlock()
    {
        // Depth 5 means 31 parents blocked in Get at once on a 2-CPU node.
        Assert.Equal(32, await TestTasks.Remote.CountLeaves(5).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(32, await TestTasks.Remote.CountLeavesAsync(5).GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task GetAsync_of_many_returns_values_in_order()
    {
        var refs = Enumerable.Range(0, 100).Select(i => TestTasks.Remote.Add(i, 1)).ToList();
        var values = await fixture.Ray.GetAsync(refs).WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(1, 100), values);
        Assert.Equal(Enumerable.Range(1, 100), await Task.Run(() => fixture.Ray.Get(refs)).WaitAsync(Timeout));
    }

    /// <summary>
    /// Eight driver threads at once, each submitting chains of tasks, putting small and large objects, and getting
    /// and waiting on them: every value comes back to the thread that asked for it.
    /// </summary>
    [Fact]
    public async Task Many_driver_threads_submit_put_and_get_at_once()
    {
        const int threads = 8;
        const int rounds = 40;
        var ray = fixture.Ray;
        using var start = new Barrier(threads);
        var clients = Enumerable.Range(0, threads).Select(thread => Task.Factory.StartNew(
            async () =>
            {
                start.SignalAndWait(Timeout);
                for (var round = 0; round < rounds; round++)
                {
                    var sum = TestTasks.Remote.Add(thread * 1000, round);
                    var twice = TestTasks.Remote.Add(sum, ray.Put(round));
                    var large = ray.Put(Enumerable.Repeat((byte)thread, 200_000).ToArray());
                    Assert.Equal((thread * 1000) + (2 * round), await twice.GetAsync().AsTask().WaitAsync(Timeout));
                    Assert.Equal(thread * 1000 + round, await sum.GetAsync().AsTask().WaitAsync(Timeout));
                    var (ready, _) = await ray.WaitAsync([sum, twice], numReturns: 2).WaitAsync(Timeout);
                    Assert.Equal(2, ready.Count);
                    var bytes = large.Get(Timeout);
                    Assert.True(bytes.Length == 200_000 && bytes.All(b => b == thread), $"Thread {thread} read another thread's object.");
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default).Unwrap()).ToList();
        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromMinutes(2));
    }

    [Fact]
    public async Task WaitAsync_splits_ready_and_not_ready_in_input_order()
    {
        // The slow task holds until the test releases it, however quickly or slowly the others run.
        using var gate = new Gate();
        var slow = TestTasks.Remote.Hold(gate.Path);
        var fast1 = TestTasks.Remote.Add(1, 1);
        var fast2 = TestTasks.Remote.Add(2, 2);
        var refs = new[] { slow, fast1, fast2 };

        var (ready, notReady) = await fixture.Ray.WaitAsync(refs, numReturns: 2).WaitAsync(Timeout);
        Assert.Equal([fast1, fast2], ready);
        Assert.Equal([slow], notReady);

        var timedOut = await fixture.Ray.WaitAsync(refs, numReturns: 3, timeout: TimeSpan.FromMilliseconds(100)).WaitAsync(Timeout);
        Assert.Equal([fast1, fast2], timedOut.Ready);
        Assert.Equal([slow], timedOut.NotReady);

        gate.Release(1);
        var all = await fixture.Ray.WaitAsync(refs, numReturns: 3).WaitAsync(Timeout);
        Assert.Equal(refs, all.Ready);
        Assert.Empty(all.NotReady);

        var atMostOne = await fixture.Ray.WaitAsync(refs, numReturns: 1).WaitAsync(Timeout);
        Assert.Equal([slow], atMostOne.Ready);
        Assert.Equal([fast1, fast2], atMostOne.NotReady);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => fixture.Ray.WaitAsync(refs, numReturns: 0).WaitAsync(Timeout));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => fixture.Ray.WaitAsync(refs, numReturns: 4).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Get_with_a_timeout_names_the_task_and_its_state()
    {
        using var gate = new Gate();
        var slow = TestTasks.Remote.Hold(gate.Path);
        await gate.WaitForStartedAsync(1);
        var error = Assert.Throws<GetTimeoutException>(() => slow.Get(TimeSpan.FromMilliseconds(50)));
        Assert.Contains("TestTasks.Hold(string)", error.Message);
        Assert.Contains("is running on worker pid", error.Message);
        gate.Release(1);
        Assert.Equal(1, await slow.GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Exceptions_are_rethrown_with_the_remote_type_message_and_stack()
    {
        var failed = TestTasks.Remote.Fail("boom");
        var error = await Assert.ThrowsAsync<RayTaskException>(() => failed.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal("System.InvalidOperationException", error.RemoteExceptionType);
        Assert.Equal("boom", error.RemoteMessage);
        Assert.Contains("TestTasks.Fail", error.RemoteStackTrace);
        Assert.Contains("boom", error.Message);
        Assert.Throws<RayTaskException>(() => failed.Get(Timeout));

        // A dependent task fails with the same cause without running.
        var dependent = TestTasks.Remote.Add(failed, 1);
        var dependentError = await Assert.ThrowsAsync<RayTaskException>(() => dependent.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal("boom", dependentError.RemoteMessage);
        Assert.Equal("System.InvalidOperationException", dependentError.RemoteExceptionType);
    }

    [Fact]
    public async Task Cancel_fires_the_token_of_a_running_task()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"raygen-cancel-{Guid.NewGuid():n}");
        var running = TestTasks.Remote.WaitForCancellation(marker);
        await WaitForFileAsync(marker);
        fixture.Ray.Cancel(running);
        await Assert.ThrowsAsync<TaskCancelledException>(() => running.GetAsync().AsTask().WaitAsync(Timeout));
        File.Delete(marker);
    }

    [Fact]
    public async Task Cancel_of_a_queued_task_means_it_never_runs()
    {
        // Fill both CPUs, then queue one more and cancel it while it waits.
        using var blocking = new Gate();
        var blockers = Enumerable.Range(0, 2).Select(_ => TestTasks.Remote.Hold(blocking.Path)).ToList();
        await blocking.WaitForStartedAsync(2);
        var marker = Path.Combine(blocking.Path, "cancelled-task-ran");
        var queued = TestTasks.Remote.MarkIfRun(marker);
        Assert.Contains(" is queued", fixture.Ray.Node!.Scheduler.Describe(queued.Id));
        fixture.Ray.Cancel(queued);
        await Assert.ThrowsAsync<TaskCancelledException>(() => queued.GetAsync().AsTask().WaitAsync(Timeout));
        blocking.ReleaseAll(2);
        await fixture.Ray.GetAsync(blockers).WaitAsync(Timeout);

        // Tasks of one shape start in the order they were queued: had the cancelled one been left in the queue, it
        // would have taken a CPU before these two, and they could not hold both CPUs at once until it had finished.
        using var after = new Gate();
        var later = Enumerable.Range(0, 2).Select(_ => TestTasks.Remote.Hold(after.Path)).ToList();
        await after.WaitForStartedAsync(2);
        Assert.False(File.Exists(marker), "The cancelled task ran.");
        after.ReleaseAll(2);
        await fixture.Ray.GetAsync(later).WaitAsync(Timeout);
    }

    [Fact]
    public async Task Output_of_tasks_reaches_the_driver_prefixed_with_the_worker_pid()
    {
        var line = $"hello from a task {Guid.NewGuid():n}";
        await TestTasks.Remote.Print(line).GetAsync().AsTask().WaitAsync(Timeout);
        var deadline = DateTime.UtcNow + Timeout;
        while (!fixture.WorkerOutput.Contains(line) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Matches($@"\(pid=\d+\) {line}", fixture.WorkerOutput);
    }

    internal static async Task WaitForFileAsync(string path)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!File.Exists(path))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{path} did not appear within {Timeout}.");
            await Task.Delay(20);
        }
    }
}
