using Ray.Infrastructure;
using Xunit;

namespace Ray.Runtime.Tests;

[Collection(RuntimeCollection.Name)]
public sealed class ActorTests(RuntimeFixture fixture)
{
    private static readonly TimeSpan Timeout = RuntimeFixture.Timeout;

    [Fact]
    public async Task The_seed_counter_reads_0_then_2()
    {
        var counter = Counter.Remote();
        Assert.Equal(0, await counter.GetValue().GetAsync().AsTask().WaitAsync(Timeout));
        counter.Inc();
        counter.Inc();
        Assert.Equal(2, await counter.GetValue().GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Calls_from_one_caller_run_in_order()
    {
        var counter = Counter.Remote(10);
        var results = Enumerable.Range(0, 500).Select(_ => counter.Add(1)).ToList();
        Assert.Equal(Enumerable.Range(11, 500), await fixture.Ray.GetAsync(results).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Futures_are_arguments_of_actor_calls_too()
    {
        var counter = Counter.Remote(0);
        var five = TestTasks.Remote.Add(2, 3);
        counter.Add(five);
        Assert.Equal(5, await counter.GetValue().GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Every_holder_of_a_handle_calls_the_same_actor()
    {
        var counter = Counter.Remote(0);
        var tasks = Enumerable.Range(0, 3).Select(_ => ActorTasks.Remote.IncrementMany(counter, 10)).ToList();
        await fixture.Ray.GetAsync(tasks).WaitAsync(Timeout);
        Assert.Equal(30, await counter.GetValue().GetAsync().AsTask().WaitAsync(Timeout));

        var created = await ActorTasks.Remote.CreateInside(7).GetAsync().AsTask().WaitAsync(Timeout);
        created.Inc();
        Assert.Equal(8, await created.GetValue().GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Many_actors_share_actor_workers_and_never_a_task_worker()
    {
        var counters = Enumerable.Range(0, 500).Select(i => Counter.Remote(i)).ToList();
        var pids = await fixture.Ray.GetAsync(counters.Select(c => c.ProcessId())).WaitAsync(Timeout);
        Assert.All(pids, pid => Assert.Contains(pid, fixture.Ray.ActorWorkerProcessIds));
        Assert.All(pids, pid => Assert.DoesNotContain(pid, fixture.Ray.WorkerProcessIds));

        // One actor worker per CPU at most (the fixture's node has 2), so 500 actors share two processes at most.
        Assert.InRange(pids.Distinct().Count(), 1, 2);
        Assert.Equal(Enumerable.Range(0, 500), await fixture.Ray.GetAsync(counters.Select(c => c.GetValue())).WaitAsync(Timeout));
        counters.ForEach(fixture.Ray.Kill);
    }

    [Fact]
    public async Task An_actor_can_ask_for_a_dedicated_process()
    {
        var counter = Counter.WithOptions(new ActorOptions { DedicatedProcess = true }).Remote(1);
        var pid = await counter.ProcessId().GetAsync().AsTask().WaitAsync(Timeout);
        Assert.DoesNotContain(pid, fixture.Ray.WorkerProcessIds);
        Assert.Contains(pid, fixture.Ray.AllWorkerProcessIds);
        fixture.Ray.Kill(counter);

        // The process existed for that actor alone: it ends with it.
        await DriverProcess.AssertAllExitAsync([pid], Timeout);
    }

    [Fact]
    public async Task Named_actors_are_found_from_anywhere_and_names_are_unique()
    {
        var name = $"counter-{Guid.NewGuid():n}";
        var counter = Counter.WithOptions(new ActorOptions { Name = name }).Remote(41);
        counter.Inc();
        var found = fixture.Ray.GetActor<Counter>(name);
        Assert.Equal(counter, found);
        Assert.Equal(42, await found.GetValue().GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(42, await ActorTasks.Remote.ReadNamed(name).GetAsync().AsTask().WaitAsync(Timeout));

        var duplicate = Assert.Throws<ArgumentException>(() => Counter.WithOptions(new ActorOptions { Name = name }).Remote(0));
        Assert.Contains(name, duplicate.Message);
        Assert.Contains("already exists", duplicate.Message);

        var unknown = Assert.Throws<ArgumentException>(() => fixture.Ray.GetActor<Counter>("no-such-actor"));
        Assert.Contains("no-such-actor", unknown.Message);

        var wrongType = Assert.Throws<ArgumentException>(() => fixture.Ray.GetActor<Other>(name));
        Assert.Contains("not a", wrongType.Message);

        var fromTask = await Assert.ThrowsAsync<RayTaskException>(() => ActorTasks.Remote.ReadNamed("no-such-actor").GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains("no-such-actor", fromTask.RemoteMessage);

        // Killing a named actor frees its name.
        fixture.Ray.Kill(counter);
        var again = Counter.WithOptions(new ActorOptions { Name = name }).Remote(0);
        Assert.Equal(0, await again.GetValue().GetAsync().AsTask().WaitAsync(Timeout));
        fixture.Ray.Kill(again);
    }

    [Fact]
    public async Task Calls_on_a_killed_actor_throw_ActorDiedException()
    {
        var counter = Counter.Remote(1);
        Assert.Equal(1, await counter.GetValue().GetAsync().AsTask().WaitAsync(Timeout));
        fixture.Ray.Kill(counter);
        var error = await Assert.ThrowsAsync<ActorDiedException>(() => counter.GetValue().GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains("killed", error.Message);
        Assert.Equal(counter.Id, error.ActorId);
    }

    [Fact]
    public async Task A_constructor_that_throws_kills_the_actor_with_its_exception()
    {
        var broken = Broken.Remote("bad configuration");
        var error = await Assert.ThrowsAsync<ActorDiedException>(() => broken.Value().GetAsync().AsTask().WaitAsync(Timeout));
        var cause = Assert.IsType<RayTaskException>(error.InnerException);
        Assert.Equal("System.ArgumentException", cause.RemoteExceptionType);
        Assert.Contains("bad configuration", cause.RemoteMessage);
        Assert.Contains("constructor", error.Message);

        // Later calls fail the same way.
        await Assert.ThrowsAsync<ActorDiedException>(() => broken.Value().GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task An_exception_in_a_method_leaves_the_actor_alive_with_its_state()
    {
        var counter = Counter.Remote(5);
        var error = await Assert.ThrowsAsync<RayTaskException>(() => counter.Fail("nope").GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal("System.InvalidOperationException", error.RemoteExceptionType);
        Assert.Equal("nope", error.RemoteMessage);
        counter.Inc();
        Assert.Equal(6, await counter.GetValue().GetAsync().AsTask().WaitAsync(Timeout));
        fixture.Ray.Kill(counter);
    }

    [Fact]
    public async Task MaxConcurrency_lets_async_methods_interleave()
    {
        // Serial: each call is released as soon as it is in; the next one comes in only after it has left.
        var serial = Counter.Remote(0);
        using var serialGate = new Gate();
        var serialCalls = Enumerable.Range(0, 3).Select(_ => serial.HoldAsync(serialGate.Path)).ToList();
        for (var call = 1; call <= serialCalls.Count; call++)
        {
            await serialGate.WaitForStartedAsync(call);
            Assert.Equal(call, serialGate.Started);
            serialGate.Release(call);
        }

        Assert.Equal(new[] { 1, 1, 1 }, await fixture.Ray.GetAsync(serialCalls).WaitAsync(Timeout));

        // Three at once: all three are inside together before any is released.
        var concurrent = Counter.WithOptions(new ActorOptions { MaxConcurrency = 3 }).Remote(0);
        using var concurrentGate = new Gate();
        var concurrentCalls = Enumerable.Range(0, 3).Select(_ => concurrent.HoldAsync(concurrentGate.Path)).ToList();
        await concurrentGate.WaitForStartedAsync(3);
        concurrentGate.ReleaseAll(3);
        Assert.Equal([1, 2, 3], (await fixture.Ray.GetAsync(concurrentCalls).WaitAsync(Timeout)).Order());
        fixture.Ray.Kill(serial);
        fixture.Ray.Kill(concurrent);
    }

    [Fact]
    public async Task A_restartable_actor_survives_its_worker_being_killed()
    {
        var counter = Counter.WithOptions(new ActorOptions { MaxRestarts = 1, DedicatedProcess = true }).Remote(100);
        counter.Inc();
        var pid = await counter.ProcessId().GetAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(101, await counter.GetValue().GetAsync().AsTask().WaitAsync(Timeout));

        using var gate = new Gate();
        var inFlight = counter.HoldThenGet(gate.Path);
        await gate.WaitForStartedAsync(1);
        TestProcesses.Kill(pid);
        var died = await Assert.ThrowsAsync<ActorDiedException>(() => inFlight.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains("restarting", died.Message);

        // The constructor ran again with its original arguments; the handle stays valid.
        Assert.Equal(100, await counter.GetValue().GetAsync().AsTask().WaitAsync(Timeout));
        var newPid = await counter.ProcessId().GetAsync().AsTask().WaitAsync(Timeout);
        Assert.NotEqual(pid, newPid);

        // Out of restarts: the next death is final.
        TestProcesses.Kill(newPid);
        var final = await Assert.ThrowsAsync<ActorDiedException>(() => WaitUntilDeadAsync(counter));
        Assert.Contains("MaxRestarts = 1", final.Message);
    }

    [Fact]
    public async Task A_call_in_flight_is_retried_after_a_restart_when_MaxTaskRetries_allows()
    {
        var counter = Counter.WithOptions(new ActorOptions { MaxRestarts = 1, MaxTaskRetries = 1, DedicatedProcess = true }).Remote(7);
        var pid = await counter.ProcessId().GetAsync().AsTask().WaitAsync(Timeout);
        using var gate = new Gate();
        var inFlight = counter.HoldThenGet(gate.Path);
        await gate.WaitForStartedAsync(1);
        TestProcesses.Kill(pid);

        // The call enters again, in the restarted actor's process, and returns once released.
        await gate.WaitForStartedAsync(2);
        Assert.NotEqual(pid, gate.ProcessIds[1]);
        gate.Release(2);
        Assert.Equal(7, await inFlight.GetAsync().AsTask().WaitAsync(Timeout));
        fixture.Ray.Kill(counter);
    }

    [Fact]
    public async Task Killing_a_shared_actor_worker_kills_its_actors_and_new_actors_get_a_live_one()
    {
        var counter = Counter.Remote(3);
        using var busyGate = new Gate();
        var busy = counter.HoldThenGet(busyGate.Path);
        await busyGate.WaitForStartedAsync(1);
        var pid = busyGate.ProcessIds[0];
        Assert.Contains(pid, fixture.Ray.ActorWorkerProcessIds);
        TestProcesses.Kill(pid);
        var error = await Assert.ThrowsAsync<ActorDiedException>(() => busy.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains($"pid {pid}", error.Message);
        Assert.Contains("MaxRestarts = 0", error.Message);
        await Assert.ThrowsAsync<ActorDiedException>(() => counter.GetValue().GetAsync().AsTask().WaitAsync(Timeout));

        // A new actor runs in a live actor worker, not in the dead one.
        var next = Counter.Remote(4);
        var nextPid = await next.ProcessId().GetAsync().AsTask().WaitAsync(Timeout);
        Assert.NotEqual(pid, nextPid);
        Assert.Contains(nextPid, fixture.Ray.ActorWorkerProcessIds);
        Assert.Equal(4, await next.GetValue().GetAsync().AsTask().WaitAsync(Timeout));
        fixture.Ray.Kill(next);
    }

    [Fact]
    public async Task A_forged_handle_of_another_type_is_refused_and_the_actor_lives_on()
    {
        var counter = Counter.Remote(9);
        var forged = ActorHandle<Other>.Create(counter.Id, null);
        var error = await Assert.ThrowsAsync<RayException>(() => forged.Ping().GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains("not a", error.Message);
        Assert.Equal(9, await counter.GetValue().GetAsync().AsTask().WaitAsync(Timeout));
        fixture.Ray.Kill(counter);
    }

    [Fact]
    public async Task Arguments_that_do_not_deserialize_fail_the_call_not_the_actor()
    {
        var counter = Counter.Remote(1);
        var add = ActorRegistry.AllMethods.Single(r => r.Descriptor.Name.EndsWith("Counter.Add(int)", StringComparison.Ordinal));
        var garbage = ActorSubmitter.Call<Counter, int>(counter, add.ActorClass, add.Descriptor, [TaskArgument.FromBytes(new byte[] { 1 })]);
        var error = await Assert.ThrowsAsync<RayTaskException>(() => garbage.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains("'amount'", error.RemoteMessage);
        Assert.Equal(1, await counter.GetValue().GetAsync().AsTask().WaitAsync(Timeout));
        fixture.Ray.Kill(counter);
    }

    private static async Task WaitUntilDeadAsync(ActorHandle<Counter> counter)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline)
        {
            await counter.GetValue().GetAsync().AsTask().WaitAsync(Timeout);
            await Task.Delay(50);
        }
    }
}
