using System.Globalization;
using Ray;

namespace RayGen.Benchmarks.Cluster;

/// <summary>
/// One cluster row: RayGen's operation across nodes and, measured in the same run, the comparison it is read against
/// (the same work on one node, or raw loopback TCP), with how many of the row's units one operation counts for.
/// </summary>
internal sealed record ClusterBenchmark(
    string Name,
    string Unit,
    double Multiplier,
    Func<Task> Operation,
    string BesideName,
    Func<Task> Beside,
    string Description,
    string? RayFigure = null);

/// <summary>
/// <c>--cluster</c>: rows measured on a local cluster of real node processes (a head and two nodes on loopback
/// addresses), with this process as the driver. The machine's cores are shared by the nodes, so the figures show the
/// cost of crossing nodes, not the scaling a cluster of machines gives.
/// </summary>
internal static class ClusterBenchmarks
{
    private const int Batch = 1000;

    private static readonly string[] TaskRows = ["multi_node_tasks_async", "cross_node_tasks_sync"];

    public static IReadOnlyList<string> Names { get; } = [.. TaskRows, .. ObjectTransferBenchmarks.Names];

    public static async Task<int> RunAsync(TextWriter output, Settings settings, int nodes)
    {
        var rows = Names.Where(settings.Selects).ToList();
        if (rows.Count == 0)
        {
            output.WriteLine($"No cluster row matches the filter. Rows: {string.Join(", ", Names)}.");
            return 2;
        }

        var cpus = Math.Max(1, Environment.ProcessorCount / nodes);
        await using var cluster = await LocalCluster.StartAsync(nodes, cpus, objectStoreMemory: 3L << 30);
        await using var ray = await RayRuntime.InitAsync(new RayOptions { Address = cluster.Address, AuthToken = cluster.Token });
        var all = await WaitForNodesAsync(ray, nodes);
        var here = ray.NodeId;
        var other = all.First(n => n.NodeId != here).NodeId;

        output.WriteLine("RayGen cluster benchmarks");
        output.WriteLine($"date (UTC): {DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)}; .NET {Environment.Version}; " +
                         $"machine: {Environment.ProcessorCount} cores shared by {nodes} node processes ({cpus} CPUs each) on loopback addresses");
        output.WriteLine($"method: {settings.WarmUp.TotalSeconds:0.##} s warm-up, then {settings.Rounds} rounds of >= {settings.RoundTime.TotalSeconds:0.##} s; medians");
        output.WriteLine();

        var spread = NoopTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.Spread });
        var local = NoopTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(here) });
        var remote = NoopTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(other) });
        var benchmarks = new List<ClusterBenchmark>
        {
            new(
                "multi_node_tasks_async",
                "tasks/s",
                Batch,
                () => BatchAsync(ray, () => spread.SmallValue()),
                "the same batch on the driver's node",
                () => BatchAsync(ray, () => local.SmallValue()),
                $"submit {Batch} no-op tasks spread over the {nodes} nodes, then get all"),
            new(
                "cross_node_tasks_sync",
                "tasks/s",
                1,
                async () => await remote.SmallValue(),
                "the round trip on the driver's node",
                async () => await local.SmallValue(),
                "submit one no-op task pinned to another node and await it, repeatedly"),
        };

        if (!benchmarks.Any(b => rows.Contains(b.Name)))
        {
            await ObjectTransferBenchmarks.RunAsync(output, ray, all, settings);
            return 0;
        }

        output.WriteLine($"{"row",-28} | {"RayGen",10} | {"(min - max)",21} | {"beside",10} | {"ratio",7} | unit    | beside is");
        output.WriteLine(new string('-', 130));
        foreach (var benchmark in benchmarks.Where(b => rows.Contains(b.Name)))
        {
            var measured = await Program.MeasureAsync(benchmark.Operation, benchmark.Multiplier, 1, settings);
            var beside = await Program.MeasureAsync(benchmark.Beside, benchmark.Multiplier, 1, settings);
            output.WriteLine($"{benchmark.Name,-28} | {Program.Rate(measured.Median),10} | {Program.Rate(measured.Min) + " - " + Program.Rate(measured.Max),21} | " +
                             $"{Program.Rate(beside.Median),10} | {Program.Ratio(measured.Median / beside.Median),7} | {benchmark.Unit,-7} | {benchmark.BesideName}");
        }

        output.WriteLine();
        foreach (var benchmark in benchmarks.Where(b => rows.Contains(b.Name)))
        {
            output.WriteLine($"  {benchmark.Name}: {benchmark.Description}");
        }

        if (ObjectTransferBenchmarks.Names.Any(rows.Contains))
        {
            output.WriteLine();
            await ObjectTransferBenchmarks.RunAsync(output, ray, all, settings);
        }

        return 0;
    }

    private static async Task BatchAsync(RayRuntime ray, Func<ObjectRef<int>> submit)
    {
        var references = new ObjectRef<int>[Batch];
        for (var i = 0; i < references.Length; i++)
        {
            references[i] = submit();
        }

        await ray.GetAsync(references);
    }

    private static async Task<IReadOnlyList<NodeInfo>> WaitForNodesAsync(RayRuntime ray, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var nodes = (await ray.GetNodesAsync()).Where(n => n.IsAlive).ToList();
            if (nodes.Count >= count)
            {
                return nodes;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Only {nodes.Count} of {count} nodes joined the cluster.");
            }

            await Task.Delay(50);
        }
    }
}
