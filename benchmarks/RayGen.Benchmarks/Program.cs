using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Ray;
using RayGen.Samples;

namespace RayGen.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/RayGen.Benchmarks [-- --quick] [--filter name]</c>: Ray's
/// <c>ray microbenchmark</c> rows for tasks and small objects, each against the same work done in-process
/// with <c>Task.Run</c>, and the seed's stress table.
/// </summary>
public static class Program
{
    /// <summary>The name under which the seed's stress table is selected with <c>--filter</c>.</summary>
    public const string SeedTableName = "seed_stress_table";

    /// <summary>The name under which creating many actors is selected with <c>--filter</c>.</summary>
    public const string ActorCreationName = "actor_creation_10k";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static Task<int> Main(string[] args) => RunAsync(args, Console.Out);

    /// <summary>Runs the benchmarks and prints the tables to <paramref name="output"/>.</summary>
    /// <param name="args">Command-line options: <c>--quick</c>, <c>--filter name</c> (repeatable, substring), <c>--rounds n</c>, <c>--round-seconds s</c>.</param>
    /// <param name="output">Where the tables go.</param>
    /// <param name="runtime">A runtime already started in this process (tests share one); null starts and stops one here.</param>
    /// <returns>0 on success, 2 on bad arguments.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter output, RayRuntime? runtime = null)
    {
        if (args.Any(a => a is "--help" or "-h"))
        {
            output.WriteLine("usage: RayGen.Benchmarks [--quick] [--filter name]... [--rounds n] [--round-seconds s] [--warm-up s] [--sizes n,n,...] [--profile] [--cluster]");
            output.WriteLine("--startup (alone): InitAsync, the first task's round trip and the idle workers' memory of a fresh process");
            output.WriteLine("--warm-up: seconds of warm-up per row (default 1; the seed table's default goes on until the JIT is quiet)");
            output.WriteLine("--sizes: the seed table's values of n; --profile: after the seed table, CPU by process and thread in each of its phases");
            output.WriteLine($"--cluster: the cluster rows on three local node processes: {string.Join(", ", Cluster.ClusterBenchmarks.Names)}");
            output.WriteLine($"rows: {string.Join(", ", MicroBenchmarks.All(Settings.Default).Select(c => c.Name).Append(ActorCreationName).Append(SeedTableName))}");
            return 0;
        }

        if (args is ["--startup"])
        {
            return await StartupBenchmark.RunAsync(output);
        }

        var cluster = args.Contains("--cluster");
        if (!Settings.TryParse(args.Where(a => a != "--cluster").ToArray(), output, out var settings))
        {
            return 2;
        }

        if (cluster)
        {
            return await Cluster.ClusterBenchmarks.RunAsync(output, settings, nodes: 3);
        }

        var cases = MicroBenchmarks.All(settings).Where(c => settings.Selects(c.Name)).ToList();
        var runSeedTable = settings.Selects(SeedTableName);
        var runActorCreation = settings.Selects(ActorCreationName);
        if (cases.Count == 0 && !runSeedTable && !runActorCreation)
        {
            output.WriteLine($"No benchmark matches the filter. Rows: {string.Join(", ", MicroBenchmarks.All(settings).Select(c => c.Name).Append(SeedTableName))}.");
            return 2;
        }

        var ownsRuntime = runtime is null;
        runtime ??= await RayRuntime.InitAsync();
        try
        {
            WriteHeader(output, runtime, settings);
            if (cases.Count > 0)
            {
                await RunMicroBenchmarksAsync(output, settings, cases);
            }

            if (runActorCreation)
            {
                await ActorBenchmarks.RunCreationAsync(output, runtime, settings.Quick ? 500 : 10_000);
                output.WriteLine();
            }

            if (runSeedTable)
            {
                await RunSeedTableAsync(output, settings);
            }
        }
        finally
        {
            if (ownsRuntime)
            {
                await runtime.DisposeAsync();
            }
        }

        return 0;
    }

    private static void WriteHeader(TextWriter output, RayRuntime runtime, Settings settings)
    {
        var optimized = typeof(Program).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled != true;
        output.WriteLine("RayGen microbenchmarks (Ray's `ray microbenchmark` rows) and the seed's stress table");
        output.WriteLine($"date (UTC): {DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", Invariant)}; .NET {Environment.Version}; build: {(optimized ? "Release (optimized)" : "DEBUG (not optimized: use -c Release for real figures)")}");
        output.WriteLine($"machine: {Environment.ProcessorCount} cores; load average at start: {LoadAverage()}; node: {NodeDescription(runtime)}");
        output.WriteLine($"method: {settings.WarmUp.TotalSeconds.ToString("0.##", Invariant)} s warm-up, then {settings.Rounds} timed rounds of >= {settings.RoundTime.TotalSeconds.ToString("0.##", Invariant)} s each; " +
                         "figures are the median round's rate" + (settings.Quick ? " (--quick: short runs, figures are rough)" : string.Empty));
        output.WriteLine();
    }

    private static async Task RunMicroBenchmarksAsync(TextWriter output, Settings settings, List<MicroBenchmark> cases)
    {
        var results = new List<(MicroBenchmark Case, Measurement RayGen, Measurement Baseline)>();
        foreach (var benchmark in cases)
        {
            var rayGen = await MeasureAsync(benchmark.RayGen, benchmark.Multiplier, benchmark.MinWarmUpOperations, settings);
            var baseline = await MeasureAsync(benchmark.Baseline, benchmark.Multiplier, benchmark.MinWarmUpOperations, settings);
            results.Add((benchmark, rayGen, baseline));
        }

        output.WriteLine($"{"row",-34} | {"RayGen",12} | {"(min - max of rounds)",23} | {"in-process",12} | {"RayGen/in-proc",14} | {"Ray, 64 vCPU",12} | {"RayGen/Ray",10} | {"B/unit",8} | unit");
        output.WriteLine(new string('-', 171));
        foreach (var (benchmark, rayGen, baseline) in results)
        {
            var ray = benchmark.RayFigure is { } figure ? Rate(figure) : "-";
            var versusRay = benchmark.RayFigure is { } reference ? Ratio(rayGen.Median / reference) : "-";
            output.WriteLine(
                $"{benchmark.Name,-34} | {Rate(rayGen.Median),12} | {Rate(rayGen.Min) + " - " + Rate(rayGen.Max),23} | {Rate(baseline.Median),12} | " +
                $"{Ratio(rayGen.Median / baseline.Median),14} | {ray,12} | {versusRay,10} | {Bytes(rayGen.AllocatedPerUnit),8} | {benchmark.Unit}");
        }

        output.WriteLine("B/unit: bytes this process (the driver and its embedded node) allocated per call or task during RayGen's rounds.");
        output.WriteLine();
        output.WriteLine("What each row does (RayGen / in-process baseline):");
        foreach (var (benchmark, _, _) in results)
        {
            output.WriteLine($"  {benchmark.Name}: {benchmark.Description}");
        }

        output.WriteLine();
        output.WriteLine("Ray's figures: ray-project/ray release/perf_metrics/microbenchmark.json (m5.16xlarge, 64 vCPUs).");
        output.WriteLine("Targets on this project's 2-core machines (ARCHITECTURE.md section 5):");
        foreach (var (benchmark, rayGen, baseline) in results)
        {
            if (benchmark.Target is { } target)
            {
                var (met, measured) = target.Check(rayGen.Median, baseline.Median);
                output.WriteLine($"  {benchmark.Name}: target {target.Text}; measured {measured}: {(met ? "MET" : "NOT MET")}");
            }
        }

        output.WriteLine();
    }

    private static async Task RunSeedTableAsync(TextWriter output, Settings settings)
    {
        var sizes = settings.SeedSizes ?? (settings.Quick ? (IReadOnlyList<int>)[100, 200] : StressTable.SeedSizes);
        var rounds = settings.Quick ? 1 : settings.Rounds;
        output.WriteLine($"{SeedTableName}: the seed's Table 1, [stress_function(n) for _ in range(n)], n tasks per row (the stress-table sample); " +
                         $"median of {rounds} round{(rounds == 1 ? "" : "s")} per cell");
        // Unless --warm-up or --quick fixes it, the table warms up until the driver's JIT is quiet (StressTable.MeasureAsync).
        var rows = await StressTable.MeasureAsync(sizes, rounds, settings.FixedWarmUp ? settings.WarmUp : null);
        output.WriteLine($"warm-up: {StressTable.WarmUpSeconds.ToString("0.0", Invariant)} s at n = {sizes.Min()}{(settings.FixedWarmUp ? "" : " (until the JIT was quiet)")}");
        StressTable.WriteTable(output, rows);
        output.WriteLine();
        var cores = Environment.ProcessorCount;
        var large = rows.Where(r => r.N >= 500).ToList();
        output.WriteLine($"Targets: speedup >= 0.9 x {cores} cores = {(0.9 * cores).ToString("0.0", Invariant)}x at n >= 500 " +
                         (large.Count == 0 ? "(no such row in this run)" : $"({string.Join(", ", large.Select(r => $"n={r.N}: {Ratio(r.RayGenSpeedup)}"))}): {(large.All(r => r.RayGenSpeedup >= 0.9 * cores) ? "MET" : "NOT MET")}"));
        output.WriteLine($"         never slower than sequential ({string.Join(", ", rows.Select(r => $"n={r.N}: {Ratio(r.RayGenSpeedup)}"))}): {(rows.All(r => r.RayGenSpeedup >= 1.0) ? "MET" : "NOT MET")}");
        if (settings.Profile)
        {
            output.WriteLine();
            await ProfileSeedTableAsync(output, sizes, rounds);
        }
    }

    private static async Task ProfileSeedTableAsync(TextWriter output, IReadOnlyList<int> sizes, int rounds)
    {
        if (!CpuProfile.IsSupported)
        {
            output.WriteLine("--profile: this machine has no per-thread scheduler statistics (/proc/PID/task/TID/schedstat); use perf or dotnet-trace.");
            return;
        }

        var ray = RayRuntime.Current;
        var workers = ray.WorkerProcessIds;
        output.WriteLine($"--profile: the seed table again ({rounds} round{(rounds == 1 ? "" : "s")} per n), CPU by process and thread per phase; workers: {string.Join(", ", workers.Order())}");
        output.WriteLine();
        // One snapshot per phase, not per round: reading /proc costs about a millisecond, more than a small round.
        var profile = new CpuProfile();
        foreach (var n in sizes)
        {
            var before = CpuProfile.Take(workers);
            for (var round = 0; round < rounds; round++)
            {
                StressTable.Sequential(n);
            }

            var afterSequential = CpuProfile.Take(workers);
            for (var round = 0; round < rounds; round++)
            {
                await StressTable.RayGenAsync(ray, n);
            }

            var afterRayGen = CpuProfile.Take(workers);
            for (var round = 0; round < rounds; round++)
            {
                StressTable.ParallelFor(n);
            }

            var afterParallel = CpuProfile.Take(workers);
            profile.Add($"n={n} sequential", before, afterSequential);
            profile.Add($"n={n} RayGen", afterSequential, afterRayGen);
            profile.Add($"n={n} Parallel.For", afterRayGen, afterParallel);
        }

        profile.Write(output);
    }

    internal static async Task<Measurement> MeasureAsync(Func<Task> operation, double multiplier, int minWarmUpOperations, Settings settings)
    {
        var stopwatch = Stopwatch.StartNew();
        var warmUps = 0;
        do
        {
            await operation();
            warmUps++;
        }
        while (stopwatch.Elapsed < settings.WarmUp || warmUps < minWarmUpOperations);

        var rates = new double[settings.Rounds];
        long operations = 0;
        var allocated = GC.GetTotalAllocatedBytes(precise: false);
        for (var round = 0; round < rates.Length; round++)
        {
            long count = 0;
            stopwatch.Restart();
            do
            {
                await operation();
                count++;
            }
            while (stopwatch.Elapsed < settings.RoundTime);

            rates[round] = multiplier * count / stopwatch.Elapsed.TotalSeconds;
            operations += count;
        }

        allocated = GC.GetTotalAllocatedBytes(precise: false) - allocated;
        return Measurement.Of(rates, allocated / (multiplier * operations));
    }

    private static string NodeDescription(RayRuntime runtime) =>
        $"{runtime.ClusterResources.GetValueOrDefault("CPU").ToString(Invariant)} CPUs, {runtime.WorkerProcessIds.Count} worker processes";

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    internal static string Rate(double value) => value switch
    {
        >= 100 => value.ToString("N0", Invariant),
        >= 10 => value.ToString("0.0", Invariant),
        _ => value.ToString("0.00", Invariant),
    };

    /// <summary>A size in bytes, scaled (KiB, MiB) when large.</summary>
    internal static string Bytes(double value) => value switch
    {
        double.NaN => "-",
        >= 10 * 1024 * 1024 => (value / (1024 * 1024)).ToString("0", Invariant) + " MiB",
        >= 10 * 1024 => (value / 1024).ToString("0", Invariant) + " KiB",
        _ => value.ToString("0", Invariant),
    };

    internal static string Ratio(double value) => value >= 10
        ? value.ToString("0", Invariant) + "x"
        : value.ToString("0.00", Invariant) + "x";
}

/// <summary>
/// A row's median, slowest and fastest round in operations per second, and the bytes this process allocated per unit
/// (a call, a task) while they ran: the driver's own and its embedded node's, not the workers'.
/// </summary>
internal readonly record struct Measurement(double Median, double Min, double Max, double AllocatedPerUnit = double.NaN)
{
    /// <summary>The median, slowest and fastest of <paramref name="rates"/> (which it sorts).</summary>
    public static Measurement Of(double[] rates, double allocatedPerUnit = double.NaN)
    {
        Array.Sort(rates);
        var middle = rates.Length / 2;
        var median = rates.Length % 2 == 1 ? rates[middle] : (rates[middle - 1] + rates[middle]) / 2;
        return new Measurement(median, rates[0], rates[^1], allocatedPerUnit);
    }
}

/// <summary>The command-line options.</summary>
internal sealed record Settings(bool Quick, TimeSpan WarmUp, int Rounds, TimeSpan RoundTime, IReadOnlyList<string> Filters)
{
    /// <summary>The seed table's values of n (<c>--sizes 500,1000</c>); null for the seed's own.</summary>
    public IReadOnlyList<int>? SeedSizes { get; init; }

    /// <summary>The warm-up was given (<c>--warm-up</c>, <c>--quick</c>): the seed table then warms up for exactly that long.</summary>
    public bool FixedWarmUp { get; init; }

    /// <summary><c>--profile</c>: after the seed table, run it again and print where each process's CPU went.</summary>
    public bool Profile { get; init; }

    /// <summary>The settings of a run without options.</summary>
    public static Settings Default { get; } = new(false, TimeSpan.FromSeconds(1), 5, TimeSpan.FromSeconds(2), []);

    /// <summary>Whether the row (or table) named <paramref name="name"/> is selected.</summary>
    public bool Selects(string name) =>
        Filters.Count == 0 || Filters.Any(filter => name.Contains(filter, StringComparison.OrdinalIgnoreCase));

    public static bool TryParse(string[] args, TextWriter output, out Settings settings)
    {
        var quick = false;
        int? rounds = null;
        double? roundSeconds = null;
        double? warmUpSeconds = null;
        var filters = new List<string>();
        List<int>? sizes = null;
        var profile = false;
        settings = null!;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    quick = true;
                    break;
                case "--filter" when i + 1 < args.Length:
                    filters.Add(args[++i]);
                    break;
                case "--rounds" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var r) && r > 0:
                    rounds = r;
                    i++;
                    break;
                case "--round-seconds" when i + 1 < args.Length && double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var s) && s > 0:
                    roundSeconds = s;
                    i++;
                    break;
                case "--warm-up" when i + 1 < args.Length && double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var w) && w >= 0:
                    warmUpSeconds = w;
                    i++;
                    break;
                case "--profile":
                    profile = true;
                    break;
                case "--sizes" when i + 1 < args.Length && TryParseSizes(args[i + 1], out var parsed):
                    sizes = parsed;
                    i++;
                    break;
                default:
                    output.WriteLine($"Unknown or incomplete option '{args[i]}'. Try --help.");
                    return false;
            }
        }

        settings = new Settings(
            quick,
            TimeSpan.FromSeconds(warmUpSeconds ?? (quick ? 0.1 : 1)),
            rounds ?? (quick ? 3 : 5),
            TimeSpan.FromSeconds(roundSeconds ?? (quick ? 0.1 : 2)),
            filters)
        {
            SeedSizes = sizes,
            Profile = profile,
            FixedWarmUp = quick || warmUpSeconds is not null,
        };
        return true;
    }

    private static bool TryParseSizes(string text, out List<int> sizes)
    {
        sizes = [];
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, CultureInfo.InvariantCulture, out var n) || n < 1)
            {
                return false;
            }

            sizes.Add(n);
        }

        return sizes.Count > 0;
    }
}
