using System.Diagnostics;
using System.Globalization;
using Ray;
using RayGen.Samples;

namespace RayGen.Benchmarks;

/// <summary>
/// <c>--startup</c>: what a small application waits for before its first result: the time from the process's start to
/// <c>Main</c>, <c>InitAsync</c> (the embedded node and its worker processes, started and registered), the first task's
/// round trip, and the idle workers' memory. Time the whole process from outside as well (docs/benchmarks.md uses
/// farm-bench): this prints what happens inside it.
/// </summary>
internal static class StartupBenchmark
{
    public static async Task<int> RunAsync(TextWriter output)
    {
        var sinceStart = DateTime.Now - Process.GetCurrentProcess().StartTime;
        var stopwatch = Stopwatch.StartNew();
        await using var ray = await RayRuntime.InitAsync();
        var init = stopwatch.Elapsed;
        stopwatch.Restart();
        var first = await StressTable.Remote.StressFunction(10);
        var firstResult = stopwatch.Elapsed;
        stopwatch.Restart();
        await StressTable.Remote.StressFunction(10);
        var second = stopwatch.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(1));
        var workers = ray.WorkerProcessIds.Count;
        var memory = ActorBenchmarks.WorkerMemoryBytes(ray);
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"startup: process start to Main {sinceStart.TotalMilliseconds:0} ms; InitAsync {init.TotalMilliseconds:0} ms ({workers} workers started and registered); " +
            $"first task result {firstResult.TotalMilliseconds:0.0} ms (result {first}), second {second.TotalMilliseconds:0.00} ms; " +
            $"idle workers' anonymous memory {memory / (double)workers / (1 << 20):0.0} MiB each"));
        return 0;
    }
}
