using Xunit;

namespace Ray.Runtime.Tests;

/// <summary>
/// Crash domains, cancellation (with and without force, tasks and actor calls), waits with timeouts, and what users
/// print: results and their output, with real workers.
/// </summary>
[Collection(RuntimeCollection.Name)]
public sealed class CallControlTests(RuntimeFixture fixture) : IDisposable
{
    private static readonly TimeSpan Timeout = RuntimeFixture.Timeout;

    private readonly string _directory = Directory.CreateTempSubdirectory("raygen-calls-").FullName;

    [Fact]
    public async Task A_task_that_ends_its_worker_does_not_kill_an_actor()
    {
        var gate = GatedActor.WithOptions(new ActorOptions { MaxRestarts = 0 }).Remote();
        var actorPid = await gate.ProcessId().GetAsync().AsTask().WaitAsync(Timeout);
        Assert.Contains(actorPid, fixture.Ray.ActorWorkerProcessIds);
        Assert.DoesNotContain(actorPid, fixture.Ray.WorkerProcessIds);

        // Every task worker exits once (each task is retried until it lands on a fresh worker that exits too).
        var crashes = Enumerable.Range(0, 2).Select(_ => TestTasks.Remote.WithOptions(new TaskOptions { MaxRetries = 0 }).ExitProcess(3)).ToList();
        foreach (var crash in crashes)
        {
            await Assert.ThrowsAsync<WorkerDiedException>(() => crash.WaitAsync().AsTask().WaitAsync(Timeout));
        }

        Assert.Equal(2, await gate.Next().GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(actorPid, await gate.ProcessId().GetAsync().AsTask().WaitAsync(Timeout));
        fixture.Ray.Kill(gate);
    }

    [Fact]
    public async Task Cancel_with_force_ends_a_task_that_ignores_its_token_and_the_worker_is_replaced()
    {
        var marker = Path.Combine(_directory, "spinning");
        var spinning = CallControlTasks.Remote.SpinIgnoringCancellation(marker);
        await TaskTests.WaitForFileAsync(marker);
        var pid = int.Parse(await File.ReadAllTextAsync(marker));

        fixture.Ray.Cancel(spinning, force: true);
        await Assert.ThrowsAsync<TaskCancelledException>(() => spinning.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.True(File.Exists(marker), "The task was stopped by ending its process, not by finishing.");
        await DriverProcess.AssertAllExitAsync([pid], Timeout);

        // The node has its workers again, and they run tasks.
        await WaitForTaskWorkersAsync(2);
        Assert.DoesNotContain(pid, fixture.Ray.WorkerProcessIds);
        Assert.Equal(3, await TestTasks.Remote.Add(1, 2).GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Cancel_without_force_only_fires_the_token_so_a_task_that_ignores_it_finishes()
    {
        var marker = Path.Combine(_directory, "ignoring");
        var spinning = CallControlTasks.Remote.SpinIgnoringCancellation(marker);
        await TaskTests.WaitForFileAsync(marker);
        fixture.Ray.Cancel(spinning);
        File.Delete(marker);
        Assert.Equal(1, await spinning.GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Cancelling_a_running_actor_call_fires_its_methods_token()
    {
        var gate = GatedActor.Remote();
        var marker = Path.Combine(_directory, "actor-waiting");
        var waiting = gate.WaitForCancellationAsync(marker);
        await TaskTests.WaitForFileAsync(marker);
        fixture.Ray.Cancel(waiting);
        await Assert.ThrowsAsync<TaskCancelledException>(() => waiting.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(2, await gate.Next().GetAsync().AsTask().WaitAsync(Timeout));
        fixture.Ray.Kill(gate);
    }

    [Fact]
    public async Task A_cancelled_actor_call_that_has_not_started_never_runs_and_later_calls_still_do()
    {
        var gate = GatedActor.Remote();
        var started = Path.Combine(_directory, "holding");
        var release = Path.Combine(_directory, "release");
        var secondStarted = Path.Combine(_directory, "second-started");
        var holding = gate.WaitForCancellationAsync(started);
        await TaskTests.WaitForFileAsync(started);

        // The queued call would return at once if it ran. It is cancelled first, and the call that holds the actor
        // second: both cancellations travel to the actor's worker on one stream, in that order, so the queued call's
        // has arrived before the actor is free to start it (a release by file could overtake it).
        File.WriteAllText(release, "go");
        var queued = gate.Hold(secondStarted, release);
        var after = gate.Next();
        fixture.Ray.Cancel(queued);
        fixture.Ray.Cancel(holding);
        await Assert.ThrowsAsync<TaskCancelledException>(() => holding.GetAsync().AsTask().WaitAsync(Timeout));
        await Assert.ThrowsAsync<TaskCancelledException>(() => queued.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(2, await after.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.False(File.Exists(secondStarted), "The cancelled call ran.");
        fixture.Ray.Kill(gate);
    }

    [Fact]
    public async Task GetAsync_and_Get_of_calls_without_a_value_wait_for_all_of_them()
    {
        var release = Path.Combine(_directory, "no-value");
        List<ObjectRef> refs = [CallControlTasks.Remote.NoValue(release), CallControlTasks.Remote.NoValue(release)];
        var waiting = fixture.Ray.GetAsync(refs);
        Assert.False(waiting.IsCompleted);
        File.WriteAllText(release, "go");
        await waiting.WaitAsync(Timeout);
        fixture.Ray.Get(refs, Timeout);
        Assert.All(refs, r => r.Wait(TimeSpan.Zero));
    }

    [Fact]
    public async Task A_get_of_many_returns_them_in_order_and_a_failure_only_after_those_before_it()
    {
        // The later references' results are in first (one of them an error), whichever workers are free, then the
        // first one is held: a get of them in that order still waits for the first.
        using var gate = new Gate();
        var failed = TestTasks.Remote.Fail("the second one fails");
        var added = TestTasks.Remote.Add(1, 2);
        await Assert.ThrowsAsync<RayTaskException>(() => failed.GetAsync().AsTask().WaitAsync(Timeout));
        await added.GetAsync().AsTask().WaitAsync(Timeout);
        var held = TestTasks.Remote.Hold(gate.Path);

        var inOrder = fixture.Ray.GetAsync([held, added]);
        var withFailure = fixture.Ray.GetAsync([held, failed, added]);
        Assert.False(inOrder.IsCompleted);
        Assert.False(withFailure.IsCompleted);

        gate.ReleaseAll(1);
        Assert.Equal(new[] { 1, 3 }, await inOrder.WaitAsync(Timeout));
        var error = await Assert.ThrowsAsync<RayTaskException>(() => withFailure.WaitAsync(Timeout));
        Assert.Contains("the second one fails", error.RemoteMessage);
    }

    [Fact]
    public async Task A_cancelled_get_of_many_ends_and_leaves_the_objects_readable()
    {
        using var gate = new Gate();
        var held = TestTasks.Remote.Hold(gate.Path);
        var added = TestTasks.Remote.Add(2, 3);
        using var cancellation = new CancellationTokenSource();
        var waiting = fixture.Ray.GetAsync([held, added], cancellation.Token);
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Timeout));

        gate.ReleaseAll(1);
        Assert.Equal(new[] { 1, 5 }, await fixture.Ray.GetAsync([held, added]).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Waits_on_many_references_time_out_naming_the_first_unfinished_one()
    {
        var started = Path.Combine(_directory, "slow-started");
        var release = Path.Combine(_directory, "slow-release");
        var done = TestTasks.Remote.Add(1, 1);
        await done.GetAsync().AsTask().WaitAsync(Timeout);
        var slow = CallControlTasks.Remote.WaitForFile(started, release);
        List<ObjectRef<int>> refs = [done, slow, TestTasks.Remote.Add(2, 2)];

        var async = await Assert.ThrowsAsync<GetTimeoutException>(() => fixture.Ray.GetAsync(refs, TimeSpan.FromMilliseconds(200)).WaitAsync(Timeout));
        Assert.Equal(slow.Id, async.ObjectId);
        Assert.Contains("WaitForFile", async.Message);

        var blocking = Assert.Throws<GetTimeoutException>(() => fixture.Ray.Get(refs, TimeSpan.FromMilliseconds(200)));
        Assert.Equal(slow.Id, blocking.ObjectId);

        List<ObjectRef> untyped = [done, slow];
        var untypedError = await Assert.ThrowsAsync<GetTimeoutException>(() => fixture.Ray.GetAsync(untyped, TimeSpan.FromMilliseconds(200)).WaitAsync(Timeout));
        Assert.Equal(slow.Id, untypedError.ObjectId);

        File.WriteAllText(release, "go");
        var values = await fixture.Ray.GetAsync(refs, Timeout).WaitAsync(Timeout);
        Assert.Equal(new[] { 2, 2, 4 }, values);
    }

    [Fact]
    public async Task What_users_print_reads_well()
    {
        var done = TestTasks.Remote.Add(1, 1);
        await done.GetAsync().AsTask().WaitAsync(Timeout);
        var release = Path.Combine(_directory, "print-release");
        var pending = CallControlTasks.Remote.NoValue(release);
        var wait = await fixture.Ray.WaitAsync<ObjectRef>([done, pending], timeout: TimeSpan.Zero).WaitAsync(Timeout);
        Assert.Equal($"1 ready [{done.Id}], 1 not ready [{pending.Id}]", wait.ToString());
        File.WriteAllText(release, "go");
        await pending.WaitAsync().AsTask().WaitAsync(Timeout);

        var stored = fixture.Ray.Put(new double[100_000]);
        var info = fixture.Ray.ListObjects().Single(o => o.Id == stored.Id);
        Assert.Equal($"{stored.Id} 781.25 KiB SharedMemory owner pid {Environment.ProcessId}: 1 local, 0 borrowing worker(s), 0 task(s), in 0 object(s), 0 pin(s)", info.ToString());
        Assert.Matches(@"^\S+ (KiB|MiB|GiB|bytes) of \S+ (KiB|MiB|GiB) used \(peak .+\), \d+ object\(s\) in memory; \d+ spilled", fixture.Ray.GetObjectStoreStats().ToString());
        GC.KeepAlive(stored);
    }

    [Fact]
    public async Task Worker_stderr_goes_to_the_error_writer_and_a_partial_line_is_never_glued_to_the_next()
    {
        var tag = Guid.NewGuid().ToString("n");
        await CallControlTasks.Remote.WriteToStderr($"err-{tag}").WaitAsync().AsTask().WaitAsync(Timeout);
        await CallControlTasks.Remote.WritePartial($"partial-{tag}").WaitAsync().AsTask().WaitAsync(Timeout);
        await TestTasks.Remote.Print($"whole-{tag}").GetAsync().AsTask().WaitAsync(Timeout);

        await WaitForAsync(() => fixture.WorkerErrors.Contains($"err-{tag}") && fixture.WorkerOutput.Contains($"whole-{tag}"));
        Assert.DoesNotContain($"err-{tag}", fixture.WorkerOutput);
        Assert.Matches($@"(?m)^\(pid=\d+\) err-{tag}\r?$", fixture.WorkerErrors);
        Assert.Matches($@"(?m)^\(pid=\d+\) partial-{tag}\r?$", fixture.WorkerOutput);
        Assert.Matches($@"(?m)^\(pid=\d+\) whole-{tag}\r?$", fixture.WorkerOutput);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task WaitForTaskWorkersAsync(int count) =>
        await WaitForAsync(() => fixture.Ray.Node!.Pool.Registered.Count(w => w.Kind == Raylet.WorkerKind.Task) == count);

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"The condition did not hold within {Timeout.TotalSeconds} s.");
            await Task.Delay(20);
        }
    }
}
