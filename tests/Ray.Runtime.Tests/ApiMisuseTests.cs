using System.Diagnostics;
using Xunit;

namespace Ray.Runtime.Tests;

/// <summary>
/// What users get wrong: options out of range, a second runtime, calls on a disposed one, waits on odd lists. Each
/// gets a clear exception at once, and nothing is left running. Scenarios that need a process without a runtime, or
/// one whose runtime is disposed, run in a separate driver (see Ray.TestDriver's Scenarios.cs).
/// </summary>
[Collection(RuntimeCollection.Name)]
public sealed class ApiMisuseTests(RuntimeFixture fixture)
{
    private static readonly TimeSpan Timeout = RuntimeFixture.Timeout;

    /// <summary>Options out of range, by the option's name and the value given.</summary>
    private static readonly Dictionary<string, RayOptions> OutOfRange = new()
    {
        ["NumCpus = -1"] = new RayOptions { NumCpus = -1 },
        ["NumCpus = NaN"] = new RayOptions { NumCpus = double.NaN },
        ["NumCpus = infinity"] = new RayOptions { NumCpus = double.PositiveInfinity },
        ["NumGpus = -0.5"] = new RayOptions { NumGpus = -0.5 },
        ["NumWorkers = 0"] = new RayOptions { NumWorkers = 0 },
        ["NumWorkers = -2"] = new RayOptions { NumWorkers = -2 },
        ["Resources = TPU: -1"] = new RayOptions { Resources = new Dictionary<string, double> { ["TPU"] = -1 } },
        ["Resources = TPU: NaN"] = new RayOptions { Resources = new Dictionary<string, double> { ["TPU"] = double.NaN } },
        ["Resources = (no name): 1"] = new RayOptions { Resources = new Dictionary<string, double> { [""] = 1 } },
        ["Resources = CPU: 4"] = new RayOptions { Resources = new Dictionary<string, double> { ["CPU"] = 4 } },
        ["WorkerStartTimeout = 0"] = new RayOptions { WorkerStartTimeout = TimeSpan.Zero },
        ["ObjectStoreMemory = 0"] = new RayOptions { ObjectStoreMemory = 0 },
        ["ObjectStoreMemory = -1"] = new RayOptions { ObjectStoreMemory = -1 },
        ["ObjectSpillLimit = -1"] = new RayOptions { ObjectSpillLimit = -1 },
        ["MaxInlineObjectSize = -1"] = new RayOptions { MaxInlineObjectSize = -1 },
        ["ObjectSpillThreshold = 0"] = new RayOptions { ObjectSpillThreshold = 0 },
        ["ObjectSpillThreshold = 1.5"] = new RayOptions { ObjectSpillThreshold = 1.5 },
        ["ObjectSpillThreshold = NaN"] = new RayOptions { ObjectSpillThreshold = double.NaN },
    };

    public static TheoryData<string> OptionsOutOfRange => [.. OutOfRange.Keys];

    /// <summary>
    /// Checked before anything starts, even before the check for a runtime already running in this process (the
    /// fixture's): a mistake in the options is reported as such, wherever it is made.
    /// </summary>
    [Theory]
    [MemberData(nameof(OptionsOutOfRange))]
    public async Task Options_out_of_range_are_refused_with_the_option_named(string option)
    {
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => RayRuntime.InitAsync(OutOfRange[option]).WaitAsync(Timeout));
        Assert.Contains($"RayOptions.{option.Split(' ')[0]}", error.Message);
    }

    [Fact]
    public async Task A_second_InitAsync_is_refused_while_a_runtime_runs()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RayRuntime.InitAsync(new RayOptions { NumCpus = 1 }).WaitAsync(Timeout));
        Assert.Contains("already initialized", error.Message);
        Assert.Same(fixture.Ray, RayRuntime.Current);
        Assert.Equal(3, await TestTasks.Remote.Add(1, 2).GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task WaitAsync_of_no_references_returns_at_once_with_none_as_Ray_does()
    {
        var result = await fixture.Ray.WaitAsync(Array.Empty<ObjectRef<int>>()).WaitAsync(Timeout);
        Assert.Empty(result.Ready);
        Assert.Empty(result.NotReady);
    }

    [Fact]
    public async Task WaitAsync_refuses_a_reference_listed_twice()
    {
        var one = TestTasks.Remote.Add(1, 0);
        var two = TestTasks.Remote.Add(2, 0);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => fixture.Ray.WaitAsync([one, two, one], numReturns: 2).WaitAsync(Timeout));
        Assert.Contains(one.Id.ToString(), error.Message);
        Assert.Contains("more than once", error.Message);
    }

    [Fact]
    public async Task Before_InitAsync_calls_say_to_call_it()
    {
        var steps = await RunScenarioAsync("before-init");
        Assert.StartsWith("InvalidOperationException: RayGen is not initialized", steps["current"]);
        Assert.StartsWith("InvalidOperationException: RayGen is not initialized", steps["submit"]);
        Assert.Equal("ok 42", steps["init"]);
    }

    /// <summary>Two InitAsync calls at once: one runtime starts, the other call fails and leaves no node behind.</summary>
    [Fact]
    public async Task Concurrent_InitAsync_calls_start_one_runtime_and_leave_nothing_of_the_other()
    {
        var steps = await RunScenarioAsync("init-twice");
        var outcomes = steps["concurrent"]["ok ".Length..].Split(" | ");
        Assert.Equal("ok", outcomes[1]);
        Assert.StartsWith("InvalidOperationException: RayGen is already", outcomes[0]);
        Assert.StartsWith("InvalidOperationException: RayGen is already initialized", steps["again"]);
        Assert.Equal("ok 42", steps["use"]);
        Assert.Equal("ok 0", steps["workers left"]);
    }

    /// <summary>
    /// After DisposeAsync every call on the runtime, and on the references it made, throws ObjectDisposedException
    /// at once (a get and a wait in flight included) instead of hanging, of reading memory that is gone, or of quietly working
    /// on a node that no longer runs; a new runtime can then start.
    /// </summary>
    [Fact]
    public async Task After_DisposeAsync_calls_fail_at_once_and_a_new_runtime_can_start()
    {
        var steps = await RunScenarioAsync("after-dispose");
        foreach (var step in new[] { "awaiting", "waiting", "put small", "put large", "get small", "get large", "view large", "get pending", "wait", "cancel", "list", "stats" })
        {
            Assert.True(steps[step].StartsWith("ObjectDisposedException: ", StringComparison.Ordinal), $"{step}: {steps[step]}");
            Assert.Contains("RayRuntime.InitAsync", steps[step]);
        }

        Assert.StartsWith("InvalidOperationException: RayGen is not initialized", steps["submit"]);
        Assert.StartsWith("InvalidOperationException: RayGen is not initialized", steps["current"]);
        Assert.Equal("ok done", steps["dispose again"]);
        Assert.Equal("ok 42", steps["init again"]);
    }

    /// <summary>
    /// Workers that die before they register (here the .NET host fails on a missing startup hook) fail InitAsync
    /// at once with what they wrote, not after the start timeout; nothing is left running and the next InitAsync works.
    /// </summary>
    [Fact]
    public async Task Workers_that_crash_before_registering_fail_InitAsync_with_their_error()
    {
        var steps = await RunScenarioAsync("workers-crash");
        Assert.StartsWith("RayException: Worker process pid ", steps["init"]);
        Assert.Contains("before it registered with the raylet", steps["init"]);
        Assert.Contains("RayGen.Tests.StartupHook.dll", steps["init"]);
        Assert.Equal("ok 0", steps["workers left"]);
        Assert.Equal("ok 42", steps["init again"]);
    }

    /// <summary>As in Ray, a node may offer no CPU: zero-CPU tasks run on its one worker, and a CPU task is infeasible at once.</summary>
    [Fact]
    public async Task A_node_with_zero_cpus_runs_zero_cpu_tasks_and_refuses_cpu_tasks()
    {
        var steps = await RunScenarioAsync("zero-cpus");
        Assert.Equal("ok 1", steps["workers"]);
        Assert.StartsWith("InfeasibleTaskException: ", steps["cpu task"]);
        Assert.Contains("{CPU: 1}", steps["cpu task"]);
        Assert.Equal("ok 42", steps["zero-cpu task"]);
    }

    /// <summary>Runs a scenario of Ray.TestDriver to its end and returns its steps' outcomes by name.</summary>
    private static async Task<Dictionary<string, string>> RunScenarioAsync(string scenario)
    {
        var startInfo = new ProcessStartInfo(DriverProcess.FindDotnet())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        startInfo.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Ray.TestDriver.dll"));
        startInfo.ArgumentList.Add(scenario);
        using var driver = Process.Start(startInfo)!;
        var stderr = driver.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        using var cancellation = new CancellationTokenSource(Timeout);
        while (await driver.StandardOutput.ReadLineAsync(cancellation.Token) is { } line)
        {
            lines.Add(line);
        }

        await driver.WaitForExitAsync(cancellation.Token);
        Assert.True(driver.ExitCode == 0 && lines.LastOrDefault() == "done", $"The {scenario} scenario failed (exit code {driver.ExitCode}):\n{string.Join('\n', lines)}\n{await stderr}");

        // Worker output is forwarded to the driver's stdout as "(pid=N) ..." lines; the steps are the others.
        return lines.Where(line => !line.StartsWith("(pid=", StringComparison.Ordinal) && line != "done")
            .Select(line => line.Split(": ", 2))
            .ToDictionary(parts => parts[0], parts => parts[1]);
    }
}
