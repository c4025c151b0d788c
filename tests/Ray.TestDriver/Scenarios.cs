using System.Diagnostics;
using Ray;

/// <summary>
/// Misuse of the public API that needs a process of its own: calls before any runtime, two runtimes at once, calls on
/// a disposed runtime, workers that crash before they register, a node without CPUs. Each step prints
/// "name: outcome", where the outcome is "ok" and a value, or the exception's type and message (on one line), or
/// "hung" when it did not finish within a few seconds; the test reads what a user would have seen.
/// </summary>
internal static class Scenarios
{
    private static readonly TimeSpan StepLimit = TimeSpan.FromSeconds(10);

    /// <summary>Runs the scenario named <paramref name="mode"/>; false when it names none.</summary>
    public static async Task<bool> TryRunAsync(string mode)
    {
        Func<Task>? scenario = mode switch
        {
            "before-init" => BeforeInitAsync,
            "init-twice" => InitTwiceAsync,
            "after-dispose" => AfterDisposeAsync,
            "workers-crash" => WorkersCrashAsync,
            "zero-cpus" => ZeroCpusAsync,
            _ => null,
        };
        if (scenario is null)
        {
            return false;
        }

        await scenario();
        Console.WriteLine("done");
        return true;
    }

    private static async Task BeforeInitAsync()
    {
        await StepAsync("current", () => RayRuntime.Current);
        await StepAsync("submit", () => ScenarioTasks.Remote.Echo(1));
        await StepAsync("init", async () => await Use(await RayRuntime.InitAsync(new RayOptions { NumCpus = 1 })));
    }

    private static async Task InitTwiceAsync()
    {
        var first = RayRuntime.InitAsync(new RayOptions { NumCpus = 1 });
        var second = RayRuntime.InitAsync(new RayOptions { NumCpus = 1 });
        await StepAsync("concurrent", async () =>
        {
            var outcomes = await Task.WhenAll(Outcome(first), Outcome(second));
            return string.Join(" | ", outcomes.Order(StringComparer.Ordinal));
        });
        var ray = first.IsCompletedSuccessfully ? first.Result : second.Result;
        await StepAsync("again", async () => await RayRuntime.InitAsync(new RayOptions { NumCpus = 1 }));
        await StepAsync("use", () => ScenarioTasks.Remote.Echo(41).Get(StepLimit));
        await ray.DisposeAsync();
        await StepAsync("workers left", WorkersLeft);
    }

    private static async Task AfterDisposeAsync()
    {
        var ray = await RayRuntime.InitAsync(new RayOptions { NumCpus = 1 });
        var small = ray.Put(1);
        var large = ray.Put(new double[1 << 20]);
        var pending = ScenarioTasks.Remote.WaitForCancellation();
        var awaiting = pending.GetAsync().AsTask();
        var waiting = ray.WaitAsync([pending]);
        await ray.DisposeAsync();

        await StepAsync("awaiting", async () => await awaiting);
        await StepAsync("waiting", async () => (await waiting).Ready.Count);
        await StepAsync("put small", () => ray.Put(2));
        await StepAsync("put large", () => ray.Put(new double[1 << 20]));
        await StepAsync("submit", () => ScenarioTasks.Remote.Echo(1));
        await StepAsync("get small", () => small.Get(StepLimit));
        await StepAsync("get large", () => large.Get(StepLimit).Length);
        await StepAsync("view large", () =>
        {
            using var view = large.GetView(StepLimit);
            return view.Length;
        });
        await StepAsync("get pending", () => pending.Get(StepLimit));
        await StepAsync("wait", async () => (await ray.WaitAsync([pending], timeout: StepLimit)).Ready.Count);
        await StepAsync("cancel", () => ray.Cancel(pending));
        await StepAsync("list", () => ray.ListObjects().Count);
        await StepAsync("stats", () => ray.GetObjectStoreStats().UsedBytes);
        await StepAsync("dispose again", async () => await ray.DisposeAsync());
        await StepAsync("current", () => RayRuntime.Current);
        await StepAsync("init again", async () => await Use(await RayRuntime.InitAsync(new RayOptions { NumCpus = 1 })));
    }

    private static async Task WorkersCrashAsync()
    {
        // The host fails on a missing startup hook before the worker's Main runs, so no worker ever registers. The
        // generous start timeout leaves it to the pool to notice the deaths.
        var crashing = new RayOptions
        {
            NumCpus = 2,
            WorkerStartTimeout = TimeSpan.FromMinutes(10),
            WorkerEnvironment = new Dictionary<string, string> { ["DOTNET_STARTUP_HOOKS"] = "/nonexistent/RayGen.Tests.StartupHook.dll" },
        };
        await StepAsync("init", async () => await RayRuntime.InitAsync(crashing));
        await StepAsync("workers left", WorkersLeft);
        await StepAsync("init again", async () => await Use(await RayRuntime.InitAsync(new RayOptions { NumCpus = 1 })));
    }

    private static async Task ZeroCpusAsync()
    {
        await using var ray = await RayRuntime.InitAsync(new RayOptions { NumCpus = 0 });
        await StepAsync("workers", () => ray.WorkerProcessIds.Count);
        await StepAsync("cpu task", () => ScenarioTasks.Remote.Echo(1));
        await StepAsync("zero-cpu task", () => ScenarioTasks.Remote.WithOptions(new TaskOptions { NumCpus = 0 }).Echo(41).Get(StepLimit));
    }

    /// <summary>Runs a task on a fresh runtime and disposes it: what a user does after the misuse.</summary>
    private static async Task<int> Use(RayRuntime ray)
    {
        await using (ray)
        {
            return await ScenarioTasks.Remote.Echo(41).GetAsync().AsTask().WaitAsync(StepLimit);
        }
    }

    private static async Task<string> Outcome(Task<RayRuntime> init)
    {
        try
        {
            await init;
            return "ok";
        }
        catch (Exception e)
        {
            return Describe(e);
        }
    }

    /// <summary>Worker processes this process started that are still running.</summary>
    private static int WorkersLeft() =>
        Directory.EnumerateDirectories("/proc")
            .Select(path => Path.GetFileName(path))
            .Where(name => name.All(char.IsAsciiDigit))
            .Count(pid => IsRunningWorkerOfThisProcess(pid));

    private static bool IsRunningWorkerOfThisProcess(string pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[0] is not ("Z" or "X") &&
                   fields[1] == Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) &&
                   File.ReadAllText($"/proc/{pid}/cmdline").Contains("Ray.Worker.dll", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone while we looked, or not ours to read.
            return false;
        }
    }

    private static Task StepAsync<T>(string name, Func<T> step) => StepAsync(name, () => Task.FromResult(step()));

    private static Task StepAsync(string name, Action step) => StepAsync(name, () =>
    {
        step();
        return Task.FromResult("done");
    });

    private static Task StepAsync(string name, Func<Task> step) => StepAsync(name, async () =>
    {
        await step();
        return "done";
    });

    private static async Task StepAsync<T>(string name, Func<Task<T>> step)
    {
        string outcome;
        try
        {
            var running = Task.Run(step);
            outcome = await Task.WhenAny(running, Task.Delay(StepLimit)) == running ? $"ok {await running}" : "hung";
        }
        catch (Exception e)
        {
            outcome = Describe(e);
        }

        Console.WriteLine($"{name}: {outcome}");
    }

    private static string Describe(Exception e) => $"{e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}";
}

public static partial class ScenarioTasks
{
    [Remote]
    public static int Echo(int value) => value + 1;

    [Remote]
    public static async Task<int> WaitForCancellation(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return 0;
    }
}
