using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.CompilerServices;
using Ray;

namespace RayGen.Samples;

/// <summary>One row of the seed's Table 1 as measured here: seconds for <c>[stress_function(n) for _ in range(n)]</c> three ways.</summary>
/// <param name="N">The input size n.</param>
/// <param name="SequentialSeconds">Plain C#, one call after another.</param>
/// <param name="RayGenSeconds">n remote calls, then a get of all results.</param>
/// <param name="ParallelForSeconds"><c>Parallel.For</c> in this process, for reference.</param>
/// <param name="SequentialSum">The sum of the n results computed sequentially.</param>
/// <param name="RayGenSum">The sum of the n results RayGen returned.</param>
/// <param name="ParallelForSum">The sum of the n results <c>Parallel.For</c> computed.</param>
public sealed record StressRow(
    int N,
    double SequentialSeconds,
    double RayGenSeconds,
    double ParallelForSeconds,
    long SequentialSum,
    long RayGenSum,
    long ParallelForSum)
{
    /// <summary>Sequential time over RayGen time.</summary>
    public double RayGenSpeedup => SequentialSeconds / RayGenSeconds;

    /// <summary>Sequential time over <c>Parallel.For</c> time.</summary>
    public double ParallelForSpeedup => SequentialSeconds / ParallelForSeconds;
}

/// <summary>
/// Seed V "Tuning and profiling" and VI "Summarizing Performance": <c>stress_function(n)</c>, an O(n²) sum of
/// <c>i * j</c>, run n times sequentially and as n RayGen tasks, for n = 100 … 1000 (Table 1). One task per
/// call, as the seed submits them: no batching.
/// </summary>
public static partial class StressTable
{
    public const string Name = "stress-table";

    /// <summary>How long <see cref="MeasureAsync"/> runs the three ways before it measures, unless told otherwise.</summary>
    public static readonly TimeSpan DefaultWarmUp = TimeSpan.FromSeconds(1);

    /// <summary>The longest the default warm-up waits for the JIT to become quiet.</summary>
    public static readonly TimeSpan MaxWarmUp = TimeSpan.FromSeconds(15);

    /// <summary>The default warm-up ends once the JIT compiled for less than this fraction of two windows of <see cref="JitQuietWindow"/> in a row.</summary>
    private const double JitQuietFraction = 0.02;

    private static readonly TimeSpan JitQuietWindow = TimeSpan.FromSeconds(0.5);

    /// <summary>The seed's input sizes.</summary>
    public static IReadOnlyList<int> SeedSizes { get; } = [100, 200, 300, 500, 700, 1000];

    /// <summary>The seed's Table 1 (Python, 1 node, 4 cores): sequential and Ray seconds by n.</summary>
    public static IReadOnlyDictionary<int, (double Sequential, double Ray)> SeedFigures { get; } = new Dictionary<int, (double, double)>
    {
        [100] = (0.3270, 2.0011),
        [200] = (2.6102, 2.8617),
        [300] = (9.6823, 5.8519),
        [500] = (46.1485, 28.4275),
        [700] = (117.5654, 77.6339),
        [1000] = (387.8440, 227.4916),
    };

    /// <summary>The seed's <c>stress_function(num)</c>: <c>sum(i * j for i in range(num) for j in range(num))</c>.</summary>
    /// <remarks>Never inlined, so sequential C#, <c>Parallel.For</c> and the workers all run one compiled copy of it (inlined
    /// into the sequential loop, its code and speed depended on what the JIT had seen before).</remarks>
    [Remote]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static long StressFunction(int num)
    {
        long sum = 0;
        for (var i = 0; i < num; i++)
        {
            for (var j = 0; j < num; j++)
            {
                sum += (long)i * j;
            }
        }

        return sum;
    }

    /// <summary>Runs the sample: measures every size and prints the table.</summary>
    /// <param name="output">Where the sample prints.</param>
    /// <param name="sizes">The values of n; the seed's by default.</param>
    /// <param name="rounds">Timed rounds per size; each cell is the median.</param>
    /// <param name="warmUp">A fixed warm-up; by default, until the JIT is quiet (see <see cref="MeasureAsync"/>).</param>
    public static async Task RunAsync(TextWriter output, IReadOnlyList<int>? sizes = null, int rounds = 3, TimeSpan? warmUp = null)
    {
        sizes ??= SeedSizes;
        output.WriteLine($"Node: {NodeInfo.Describe()}.");
        output.WriteLine($"[stress_function(n) for _ in range(n)]: n calls of an O(n^2) loop; RayGen submits n tasks and gets all results, as the seed does.");
        var rows = await MeasureAsync(sizes, rounds, warmUp);
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"Each cell is the median of {rounds} round{(rounds == 1 ? "" : "s")}, after {WarmUpSeconds:0.#} s of untimed warm-up rounds at n = {sizes.Min()}{(warmUp is null ? " (until the JIT was quiet)" : "")}."));
        output.WriteLine();
        WriteTable(output, rows);
    }

    /// <summary>Measures each size: sequential C#, RayGen, and Parallel.For; each figure is the median of <paramref name="rounds"/> rounds.</summary>
    /// <param name="sizes">The values of n.</param>
    /// <param name="rounds">Timed rounds per size.</param>
    /// <param name="warmUp">
    /// How long to run the three ways at the smallest n first. If null: at least <see cref="DefaultWarmUp"/>, and on until
    /// this process's JIT compiled for under 2 % of each of the last two half seconds (at most <see cref="MaxWarmUp"/>).
    /// </param>
    /// <param name="cancellationToken">Ends the measurement.</param>
    public static async Task<IReadOnlyList<StressRow>> MeasureAsync(IReadOnlyList<int> sizes, int rounds = 3, TimeSpan? warmUp = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        var ray = RayRuntime.Current;

        // Warm-up: the three ways at the smallest n, so that the JIT has compiled the hot code of this process and of every
        // worker (and loaded the assembly there) before a round counts. Tiering the runtime's code up takes this process's
        // JIT several seconds of CPU on a small machine, which the workers need: a fixed second was not enough, so unless
        // told a fixed time, it goes on until the JIT is quiet.
        WarmUpSeconds = await WarmUpAsync(ray, sizes.Min(), warmUp, cancellationToken);

        var rows = new List<StressRow>();
        foreach (var n in sizes)
        {
            var sequential = new double[rounds];
            var rayGen = new double[rounds];
            var parallel = new double[rounds];
            long sequentialSum = 0, rayGenSum = 0, parallelSum = 0;
            for (var round = 0; round < rounds; round++)
            {
                var stopwatch = Stopwatch.StartNew();
                sequentialSum = Sequential(n).Sum();
                sequential[round] = stopwatch.Elapsed.TotalSeconds;

                stopwatch.Restart();
                rayGenSum = (await RayGenAsync(ray, n, cancellationToken)).Sum();
                rayGen[round] = stopwatch.Elapsed.TotalSeconds;

                stopwatch.Restart();
                parallelSum = ParallelFor(n).Sum();
                parallel[round] = stopwatch.Elapsed.TotalSeconds;
            }

            rows.Add(new StressRow(n, Median(sequential), Median(rayGen), Median(parallel), sequentialSum, rayGenSum, parallelSum));
        }

        return rows;
    }

    /// <summary>Prints the measured table and, for the sizes the seed measured, the seed's Python figures.</summary>
    public static void WriteTable(TextWriter output, IReadOnlyList<StressRow> rows)
    {
        var cores = Environment.ProcessorCount;
        output.WriteLine($"{"n",6} | {"sequential",12} | {"RayGen",12} | {"speedup",8} | {"Parallel.For",12} | {"speedup",8} | {"sum of results",18} | results equal");
        output.WriteLine(new string('-', 114));
        foreach (var row in rows)
        {
            var equal = row.SequentialSum == row.RayGenSum && row.SequentialSum == row.ParallelForSum;
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{row.N,6} | {row.SequentialSeconds,10:0.0000} s | {row.RayGenSeconds,10:0.0000} s | {row.RayGenSpeedup,7:0.00}x | {row.ParallelForSeconds,10:0.0000} s | {row.ParallelForSpeedup,7:0.00}x | {row.SequentialSum,18} | {(equal ? "yes" : $"NO (RayGen {row.RayGenSum}, Parallel.For {row.ParallelForSum})")}"));
        }

        output.WriteLine($"speedup = sequential / parallel time on this machine ({cores} cores); the ideal is {cores}x.");
        var seedRows = rows.Where(row => SeedFigures.ContainsKey(row.N)).ToList();
        if (seedRows.Count == 0)
        {
            return;
        }

        output.WriteLine();
        output.WriteLine("The seed's Table 1 (Python and Ray, 1 node, 4 cores) for the same n:");
        output.WriteLine($"{"n",6} | {"Python seq.",12} | {"Ray",12} | {"speedup",8} | {"C# seq. here",12} | {"RayGen here",12}");
        output.WriteLine(new string('-', 78));
        foreach (var row in seedRows)
        {
            var (python, ray) = SeedFigures[row.N];
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{row.N,6} | {python,10:0.0000} s | {ray,10:0.0000} s | {python / ray,7:0.00}x | {row.SequentialSeconds,10:0.0000} s | {row.RayGenSeconds,10:0.0000} s"));
        }
    }

    /// <summary><c>[stress_function(n) for _ in range(n)]</c> in plain C#.</summary>
    public static long[] Sequential(int n)
    {
        var results = new long[n];
        for (var k = 0; k < n; k++)
        {
            results[k] = StressFunction(n);
        }

        return results;
    }

    /// <summary>The same list computed with <c>Parallel.For</c> in this process.</summary>
    public static long[] ParallelFor(int n)
    {
        var results = new long[n];
        Parallel.For(0, n, k => results[k] = StressFunction(n));
        return results;
    }

    /// <summary><c>ray.get([stress_function.remote(n) for _ in range(n)])</c>.</summary>
    public static Task<long[]> RayGenAsync(RayRuntime ray, int n, CancellationToken cancellationToken = default)
    {
        var references = new ObjectRef<long>[n];
        for (var k = 0; k < n; k++)
        {
            references[k] = Remote.StressFunction(n);
        }

        return ray.GetAsync(references, cancellationToken);
    }

    /// <summary>How long the last <see cref="MeasureAsync"/> warmed up, in seconds.</summary>
    public static double WarmUpSeconds { get; private set; }

    private static async Task<double> WarmUpAsync(RayRuntime ray, int n, TimeSpan? fixedTime, CancellationToken cancellationToken)
    {
        var minimum = fixedTime ?? DefaultWarmUp;
        var warming = Stopwatch.StartNew();
        var windowStart = TimeSpan.Zero;
        var compiledBefore = JitInfo.GetCompilationTime();
        var quietWindows = 0;
        while (true)
        {
            Sequential(n);
            ParallelFor(n);
            await RayGenAsync(ray, n, cancellationToken);

            var elapsed = warming.Elapsed;
            if (elapsed < minimum)
            {
                continue;
            }

            if (fixedTime is not null || elapsed >= MaxWarmUp)
            {
                return elapsed.TotalSeconds;
            }

            var window = elapsed - windowStart;
            if (window >= JitQuietWindow)
            {
                // Two quiet windows in a row: tiering pauses for a moment before its first burst of tier-1 compilations.
                var compiled = JitInfo.GetCompilationTime();
                quietWindows = (compiled - compiledBefore).Ticks < window.Ticks * JitQuietFraction ? quietWindows + 1 : 0;
                if (quietWindows == 2)
                {
                    return elapsed.TotalSeconds;
                }

                compiledBefore = compiled;
                windowStart = elapsed;
            }
        }
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
