using Ray;

namespace RayGen.Samples;

/// <summary>
/// <c>dotnet run --project samples/RayGen.Samples</c> runs every sample on one embedded node;
/// <c>-- aggregation</c> runs one; <c>-- --list</c> lists them; <c>-- --quick</c> runs them with small parameters.
/// With <c>RAYGEN_ADDRESS</c> set (a cluster's <c>HOST:PORT</c>, or <c>auto</c>) they run on that cluster instead.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Any(a => a is "--list" or "-l"))
        {
            foreach (var sample in SampleCatalog.All)
            {
                Console.WriteLine($"{sample.Name,-18} {sample.SeedSection}");
            }

            return 0;
        }

        if (args.Any(a => a is "--help" or "-h"))
        {
            Console.WriteLine("usage: RayGen.Samples [--list] [--quick] [sample ...]");
            Console.WriteLine("--quick runs each sample with small parameters. With RAYGEN_ADDRESS set, the samples run on that cluster.");
            Console.WriteLine("With no sample named, every sample runs in turn. Samples: " + string.Join(", ", SampleCatalog.All.Select(s => s.Name)));
            return 0;
        }

        var quick = args.Contains("--quick");
        var selected = new List<Sample>();
        foreach (var name in args.Where(a => a != "--quick"))
        {
            if (SampleCatalog.Find(name) is { } sample)
            {
                selected.Add(sample);
            }
            else
            {
                Console.Error.WriteLine($"Unknown sample '{name}'. Samples: {string.Join(", ", SampleCatalog.All.Select(s => s.Name))}.");
                return 2;
            }
        }

        if (selected.Count == 0)
        {
            selected.AddRange(SampleCatalog.All);
        }

        // ray.init(): one embedded node, one worker process per CPU (or the cluster RAYGEN_ADDRESS names).
        await using var ray = await RayRuntime.InitAsync();
        foreach (var sample in selected)
        {
            Console.WriteLine($"=== {sample.Name} (seed: {sample.SeedSection}) ===");
            await (quick ? sample.RunQuickAsync : sample.RunAsync)(Console.Out);
            Console.WriteLine();
        }

        return 0;
    }
}
