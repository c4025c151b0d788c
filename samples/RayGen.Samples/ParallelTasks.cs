using System.Diagnostics;
using Ray;

namespace RayGen.Samples;

/// <summary>
/// Seed II "Asynchronous Computation in Ray" (ten one-second <c>bar()</c> tasks against ten sequential
/// <c>foo()</c> calls) and III "Parallelism with Tasks" (four <c>foo(x)</c> tasks, <c>[0, 1, 2, 3]</c>).
/// </summary>
public static partial class ParallelTasks
{
    public const string Name = "parallel-tasks";

    /// <summary>The seed's <c>foo(x)</c>: sleeps, then returns <paramref name="x"/>.</summary>
    [Remote]
    public static int Foo(int x, int sleepMs)
    {
        Thread.Sleep(sleepMs);
        return x;
    }

    /// <summary>The seed's remote <c>bar()</c>: sleeps, returns nothing.</summary>
    [Remote]
    public static void Bar(int sleepMs) => Thread.Sleep(sleepMs);

    /// <summary>The seed's plain (not remote) <c>foo()</c> of section II: sleeps in the caller.</summary>
    public static void LocalFoo(int sleepMs) => Thread.Sleep(sleepMs);

    /// <summary>Runs both examples.</summary>
    /// <param name="output">Where the sample prints.</param>
    /// <param name="fooSleep">How long <c>foo(x)</c> sleeps; the seed's 1 s by default.</param>
    /// <param name="barSleep">How long <c>foo()</c>/<c>bar()</c> sleep in the first example; 0.2 s by default instead of the seed's 1 s, so it does not take 10 s.</param>
    /// <param name="barCount">How many <c>bar()</c> tasks; the seed's 10 by default.</param>
    public static async Task RunAsync(TextWriter output, TimeSpan? fooSleep = null, TimeSpan? barSleep = null, int barCount = 10)
    {
        var fooMs = (int)(fooSleep ?? TimeSpan.FromSeconds(1)).TotalMilliseconds;
        var barMs = (int)(barSleep ?? TimeSpan.FromMilliseconds(200)).TotalMilliseconds;
        var cpus = NodeInfo.Cpus;
        output.WriteLine($"Node: {NodeInfo.Describe()}.");
        output.WriteLine($"Each task reserves 1 CPU, so at most {cpus} of them run at the same time on this node.");

        // Untimed warm-up: the first task on each worker loads this assembly there.
        var warmUp = new ObjectRef[cpus];
        for (var i = 0; i < cpus; i++)
        {
            warmUp[i] = Remote.Bar(0);
        }

        foreach (var reference in warmUp)
        {
            await reference;
        }

        // Section II: [foo() for _ in range(10)] against ray.get([bar.remote() for _ in range(10)]).
        output.WriteLine();
        output.WriteLine($"Section II: {barCount} x foo() in a loop against {barCount} x bar.remote(); each sleeps {NodeInfo.Seconds(TimeSpan.FromMilliseconds(barMs))}" +
                         (barMs == 1000 ? "." : " (the seed sleeps 1 s; scaled down here)."));
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < barCount; i++)
        {
            LocalFoo(barMs);
        }

        var sequential = stopwatch.Elapsed;
        output.WriteLine($"  sequential [foo() for _ in range({barCount})]:        {NodeInfo.Seconds(sequential)}");

        stopwatch.Restart();
        var bars = new ObjectRef[barCount];
        for (var i = 0; i < barCount; i++)
        {
            bars[i] = Remote.Bar(barMs);
        }

        foreach (var bar in bars)
        {
            await bar;
        }

        var parallel = stopwatch.Elapsed;
        var rounds = (barCount + cpus - 1) / cpus;
        output.WriteLine($"  ray.get([bar.remote() for _ in range({barCount})]): {NodeInfo.Seconds(parallel)}" +
                         $" (expected about ceil({barCount} / {cpus} CPUs) x {NodeInfo.Seconds(TimeSpan.FromMilliseconds(barMs))} = {NodeInfo.Seconds(TimeSpan.FromMilliseconds(rounds * barMs))})");
        output.WriteLine($"  With the seed's 1 s sleeps: {barCount} s sequentially, about {rounds} s on this {cpus}-CPU node, about 1 s only with at least {barCount} CPUs.");

        // Section III: four foo(x) tasks in parallel, then ray.get(result_ids).
        output.WriteLine();
        output.WriteLine($"Section III: foo(x) sleeps {NodeInfo.Seconds(TimeSpan.FromMilliseconds(fooMs))} and returns x; starting 4 tasks.");
        stopwatch.Restart();
        var resultIds = new List<ObjectRef<int>>();
        for (var i = 0; i < 4; i++)
        {
            resultIds.Add(Remote.Foo(i, fooMs));
        }

        var results = await RayRuntime.Current.GetAsync(resultIds);
        var elapsed = stopwatch.Elapsed;
        var fooRounds = (4 + cpus - 1) / cpus;
        output.WriteLine($"  results = [{string.Join(", ", results)}]");
        output.WriteLine($"  elapsed {NodeInfo.Seconds(elapsed)} (expected about ceil(4 / {cpus} CPUs) x {NodeInfo.Seconds(TimeSpan.FromMilliseconds(fooMs))} = " +
                         $"{NodeInfo.Seconds(TimeSpan.FromMilliseconds(fooRounds * fooMs))}; the seed's \"this will take 1 second\" needs at least 4 CPUs)");
    }
}
