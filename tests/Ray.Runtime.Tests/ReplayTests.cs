using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Ray.Replay;
using Xunit;

namespace Ray.Runtime.Tests;

/// <summary>
/// Replaying failed calls with real workers: a task that fails for some input, a failure passed on to a dependent and out
/// of a nested call, a large stored argument, an actor method, a capture file replayed by another process, and the
/// bounds and the switch of the capture.
/// </summary>
[Collection(RuntimeCollection.Name)]
public sealed class ReplayTests(RuntimeFixture fixture) : IDisposable
{
    private static readonly TimeSpan Timeout = RuntimeFixture.Timeout;

    private readonly string _directory = Directory.CreateTempSubdirectory("raygen-replay-").FullName;

    [Fact]
    public async Task A_task_that_fails_for_some_input_is_replayed_in_this_process_and_throws_the_same_exception()
    {
        Assert.Equal(6, await ReplayTasks.Remote.Checked(3, "first").GetAsync().AsTask().WaitAsync(Timeout));
        var failing = ReplayTasks.Remote.Checked(14, "second");
        var failure = await Assert.ThrowsAsync<RayTaskException>(() => failing.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.NotEqual(Environment.ProcessId, failure.WorkerProcessId);
        Assert.Equal(failing.Id, failure.FailedTaskId);
        Assert.Null(failure.ActorClass);

        ReplayTasks.LastProcessId = 0;
        var replayed = Assert.Throws<ArgumentOutOfRangeException>(() => failure.Replay());
        Assert.Equal(failure.RemoteExceptionType, replayed.GetType().FullName);
        Assert.Equal(failure.RemoteMessage, replayed.Message);
        Assert.Contains(nameof(ReplayTasks.Checked), replayed.StackTrace);
        Assert.Equal(Environment.ProcessId, ReplayTasks.LastProcessId);

        ReplayTasks.LastProcessId = 0;
        var again = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => failure.ReplayAsync().WaitAsync(Timeout));
        Assert.Equal(failure.RemoteMessage, again.Message);
        Assert.Equal(Environment.ProcessId, ReplayTasks.LastProcessId);
    }

    [Fact]
    public async Task A_failure_passed_on_to_a_dependent_or_out_of_a_nested_call_replays_the_call_that_threw()
    {
        var failing = ReplayTasks.Remote.Checked(21, "dependent");
        var dependent = TestTasks.Remote.Add(failing, 1);
        var passedOn = await Assert.ThrowsAsync<RayTaskException>(() => dependent.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(failing.Id, passedOn.FailedTaskId);
        Assert.Equal(passedOn.RemoteMessage, Assert.Throws<ArgumentOutOfRangeException>(() => passedOn.Replay()).Message);

        // The nested call was submitted by a worker; its owner is the same node, which kept it.
        var outer = ReplayTasks.Remote.CallsChecked(28);
        var nested = await Assert.ThrowsAsync<RayTaskException>(() => outer.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.NotNull(nested.FailedTaskId);
        Assert.NotEqual(outer.Id, nested.FailedTaskId);
        ReplayTasks.LastProcessId = 0;
        var replayed = Assert.Throws<ArgumentOutOfRangeException>(() => nested.Replay());
        Assert.Equal("nested: 28 is a multiple of 7 (Parameter 'value')" + Environment.NewLine + "Actual value was 28.", replayed.Message);
        Assert.Equal(Environment.ProcessId, ReplayTasks.LastProcessId);
    }

    [Fact]
    public async Task A_large_argument_stored_for_the_call_alone_is_kept_with_the_failure()
    {
        var data = new long[200_000];
        data[^1] = -5;
        var failing = ReplayTasks.Remote.SumUnlessLastIsNegative(data);
        var failure = await Assert.ThrowsAsync<RayTaskException>(() => failing.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal("the last of 200000 elements is -5", failure.RemoteMessage);

        // The argument's object lived only for the call; the capture holds it, so collecting the driver's garbage keeps it.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var replayed = await Assert.ThrowsAsync<InvalidDataException>(() => failure.ReplayAsync().WaitAsync(Timeout));
        Assert.Equal(failure.RemoteMessage, replayed.Message);
    }

    [Fact]
    public async Task An_actor_method_is_replayed_on_a_new_instance_made_from_the_constructor_arguments()
    {
        var account = ReplayAccount.Remote(10);
        Assert.Equal(3, await account.Withdraw(7).GetAsync().AsTask().WaitAsync(Timeout));

        // A failure that does not depend on the actor's state replays the same.
        var invalid = await Assert.ThrowsAsync<RayTaskException>(() => account.Withdraw(-1).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(typeof(ReplayAccount).FullName, invalid.ActorClass);
        ReplayAccount.ConstructedIn = 0;
        var replayed = Assert.Throws<ArgumentException>(() => invalid.Replay());
        Assert.Equal(invalid.RemoteMessage, replayed.Message);
        Assert.Equal(Environment.ProcessId, ReplayAccount.ConstructedIn);

        // One that does meets the constructor's state, not the failed actor's: the balance is 10 again, not 3.
        var short_ = await Assert.ThrowsAsync<RayTaskException>(() => account.Withdraw(12).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal("cannot withdraw 12: the balance is 3", short_.RemoteMessage);
        var fresh = await Assert.ThrowsAsync<InvalidOperationException>(() => short_.ReplayAsync().WaitAsync(Timeout));
        Assert.Equal("cannot withdraw 12: the balance is 10", fresh.Message);
        fixture.Ray.Kill(account);
    }

    [Fact]
    public async Task The_capture_keeps_only_the_last_failures_within_its_bounds_and_says_why_an_older_one_is_gone()
    {
        var node = fixture.Ray.Node!;
        var defaults = node.FailedCalls.SettingsOf(JobId.Embedded);
        try
        {
            node.FailedCalls.Configure(JobId.Embedded, defaults with { MaxFailures = 2, MaxBytes = 64 * 1024 });
            var failures = new List<RayTaskException>();
            for (var i = 0; i < 3; i++)
            {
                var call = ReplayTasks.Remote.FailWith("small", i);
                failures.Add(await Assert.ThrowsAsync<RayTaskException>(() => call.GetAsync().AsTask().WaitAsync(Timeout)));
            }

            Assert.Equal(2, node.FailedCalls.Usage(JobId.Embedded).Count);
            var evicted = Assert.ThrowsAny<InvalidOperationException>(() => failures[0].Replay());
            Assert.Contains("evicted", evicted.Message);
            Assert.Contains("MaxFailures", evicted.Message);
            Assert.Equal("failure 2 (5 characters)", Assert.ThrowsAny<InvalidOperationException>(() => failures[2].Replay()).Message);

            // A failure whose arguments alone pass the byte bound is not kept at all.
            var large = ReplayTasks.Remote.FailWith(new string('x', 80 * 1024), 3);
            var tooLarge = await Assert.ThrowsAsync<RayTaskException>(() => large.GetAsync().AsTask().WaitAsync(Timeout));
            var refused = Assert.ThrowsAny<InvalidOperationException>(() => tooLarge.Replay());
            Assert.Contains("MaxBytes", refused.Message);
            Assert.Equal("failure 1 (5 characters)", Assert.ThrowsAny<InvalidOperationException>(() => failures[1].Replay()).Message);
        }
        finally
        {
            node.FailedCalls.Configure(JobId.Embedded, defaults);
        }
    }

    [Fact]
    public async Task With_capture_disabled_or_for_an_exception_the_runtime_did_not_raise_replay_says_why_it_cannot()
    {
        var node = fixture.Ray.Node!;
        var defaults = node.FailedCalls.SettingsOf(JobId.Embedded);
        try
        {
            node.FailedCalls.Configure(JobId.Embedded, defaults with { Enabled = false });
            var call = ReplayTasks.Remote.Checked(35, "disabled");
            var failure = await Assert.ThrowsAsync<RayTaskException>(() => call.GetAsync().AsTask().WaitAsync(Timeout));
            var error = Assert.ThrowsAny<InvalidOperationException>(() => failure.Replay());
            Assert.Contains("disabled", error.Message);
            Assert.Contains("FailedTaskCapture.Enabled", error.Message);
        }
        finally
        {
            node.FailedCalls.Configure(JobId.Embedded, defaults);
        }

        var made = new RayTaskException("Work.F()", "System.Exception", "boom", string.Empty);
        Assert.Contains("does not say which call threw", Assert.Throws<InvalidOperationException>(() => made.Replay()).Message);
    }

    [Fact]
    public async Task A_capture_file_written_by_one_driver_is_replayed_by_another_process_and_by_raygen_replay()
    {
        using (var driver = await DriverProcess.StartAsync("capture", _directory))
        {
            await driver.WaitForLineAsync("disposed");
            Assert.Equal(0, await driver.WaitForExitAsync());
            Assert.Contains("returned: 42", driver.Output);
            Assert.Contains("failed: cannot divide 84 by zero (Parameter 'divisor')", driver.Output);
            Assert.Contains("failed: cannot withdraw 5: the balance is 3", driver.Output);
        }

        var files = Directory.GetFiles(_directory, "*" + FailedCallFile.Extension).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(2, files.Length);
        var divide = files.Single(f => f.Contains("DriverTasks.Divide", StringComparison.Ordinal));
        var withdraw = files.Single(f => f.Contains("DriverActor.Withdraw", StringComparison.Ordinal));

        // This process loads the driver's assembly and runs the call, as a debugger session would.
        var record = FailedCallFile.Read(divide);
        Assert.Equal(AppContext.BaseDirectory.TrimEnd('/'), record.AppDirectory.TrimEnd('/'));
        var replayer = new CallReplayer(CallReplayer.LoadIntoDefaultContext, NullLogger.Instance);
        var replayed = Assert.Throws<ArgumentException>(() => replayer.Run(record, CancellationToken.None));
        Assert.Equal("cannot divide 84 by zero (Parameter 'divisor')", replayed.Message);
        Assert.Equal(Environment.ProcessId, DriverTasks.LastDivideProcessId);

        // raygen replay: the recorded exception type is thrown again, so it exits with 0, and says what it ran.
        var (exitCode, output) = await RunRaygenAsync("replay", divide);
        Assert.True(exitCode == 0, output);
        Assert.Contains("DriverTasks.Divide", output);
        Assert.Contains("The call threw the recorded exception again", output);
        Assert.Contains("System.ArgumentException: cannot divide 84 by zero", output);

        (exitCode, output) = await RunRaygenAsync("replay", withdraw);
        Assert.True(exitCode == 0, output);
        Assert.Contains("the state of the actor that failed is not restored", output);
        Assert.Contains("System.InvalidOperationException: cannot withdraw 5: the balance is 3", output);

        (exitCode, output) = await RunRaygenAsync("replay", Path.Combine(_directory, "missing" + FailedCallFile.Extension));
        Assert.True(exitCode == 1, output);
    }

    [Fact]
    public async Task Raygen_replay_with_wait_for_debugger_prints_its_pid_and_waits()
    {
        var file = await FailedCallFile.WriteAsync(_directory, new Runtime.Protocol.FailedCallRecord
        {
            FormatVersion = FailedCallFile.FormatVersion,
            TaskId = Core.ProtoConversions.ToProto(ObjectId.New()),
            FunctionId = 1,
            FunctionName = "Nowhere.F()",
            AssemblyName = "Nowhere",
            AppDirectory = _directory,
        }, CancellationToken.None);
        using var raygen = Process.Start(RaygenStartInfo("replay", file, "--wait-for-debugger"))!;
        try
        {
            var deadline = DateTime.UtcNow + Timeout;
            string? line;
            do
            {
                line = await raygen.StandardOutput.ReadLineAsync().WaitAsync(Timeout);
                Assert.True(line is not null && DateTime.UtcNow < deadline, "raygen replay ended without waiting for a debugger.");
            }
            while (!line.StartsWith("Waiting for a debugger", StringComparison.Ordinal));

            Assert.Contains($"process {raygen.Id}", line);
            await Task.Delay(300);
            Assert.False(raygen.HasExited, "raygen replay did not wait for the debugger.");
        }
        finally
        {
            raygen.Kill();
            await raygen.WaitForExitAsync().WaitAsync(Timeout);
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static ProcessStartInfo RaygenStartInfo(params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(DriverProcess.FindDotnet())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "raygen.dll"));
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment["NO_COLOR"] = "1";
        return startInfo;
    }

    private static async Task<(int ExitCode, string Output)> RunRaygenAsync(params string[] arguments)
    {
        using var raygen = Process.Start(RaygenStartInfo(arguments))!;
        var output = raygen.StandardOutput.ReadToEndAsync();
        var errors = raygen.StandardError.ReadToEndAsync();
        await raygen.WaitForExitAsync().WaitAsync(Timeout);
        return (raygen.ExitCode, await output + await errors);
    }
}
