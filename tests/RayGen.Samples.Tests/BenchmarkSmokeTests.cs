using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace RayGen.Samples.Tests;

/// <summary>
/// Runs the benchmark entry point with <c>--quick</c> on the shared runtime: every row runs to its end (a task that
/// fails, or a check of a value, throws out of the run) and prints a rate; what the rates are is the benchmark's business.
/// </summary>
[Collection(SamplesCollection.Name)]
public sealed class BenchmarkSmokeTests(SamplesFixture fixture, ITestOutputHelper log)
{
    private static readonly string[] Rows =
    [
        "single_client_tasks_sync",
        "single_client_tasks_async",
        "single_client_tasks_and_get_batch",
        "multi_client_tasks_async",
        "single_client_get_calls",
        "single_client_put_calls",
        "single_client_wait_1k_refs",
        "stream_small_items",
        "list_small_items",
        "stream_large_items_gigabytes",
        "list_large_items_gigabytes",
    ];

    [Fact]
    public async Task Quick_run_prints_every_row_and_the_seed_table_with_equal_results()
    {
        var output = new StringWriter();
        var stopwatch = Stopwatch.StartNew();
        var exitCode = await RayGen.Benchmarks.Program.RunAsync(["--quick"], output, fixture.Ray).WaitAsync(SamplesFixture.Timeout);
        var text = output.ToString();
        log.WriteLine($"benchmark --quick took {stopwatch.Elapsed.TotalSeconds:0.0} s");
        log.WriteLine(text);

        Assert.Equal(0, exitCode);
        foreach (var row in Rows)
        {
            Assert.True(Regex.IsMatch(text, $@"(?m)^{row}\s+\|\s+[\d,.]+\s+\|"), $"row {row} is missing:\n{text}");
        }

        // The seed table's last column compares the sums of the sequential, RayGen and Parallel.For runs.
        Assert.Contains(RayGen.Benchmarks.Program.SeedTableName, text);
        Assert.Matches(@"(?m)^\s*100 \|.*\| yes$", text);
        Assert.Matches(@"(?m)^\s*200 \|.*\| yes$", text);
    }

    [Fact]
    public async Task Filter_selects_rows_by_name_and_an_unknown_option_is_rejected()
    {
        var output = new StringWriter();
        var exitCode = await RayGen.Benchmarks.Program.RunAsync(["--quick", "--filter", "put_calls"], output, fixture.Ray).WaitAsync(SamplesFixture.Timeout);
        var text = output.ToString();

        Assert.Equal(0, exitCode);
        Assert.Matches(@"(?m)^single_client_put_calls\s+\|", text);
        Assert.DoesNotMatch(@"(?m)^single_client_tasks_sync\s+\|", text);
        Assert.DoesNotContain(RayGen.Benchmarks.Program.SeedTableName, text);

        Assert.Equal(2, await RayGen.Benchmarks.Program.RunAsync(["--bogus"], new StringWriter(), fixture.Ray).WaitAsync(SamplesFixture.Timeout));
    }
}

/// <summary>
/// Runs <c>--cluster --quick</c> in a process of its own (its driver cannot share this process with the samples'
/// runtime): a local cluster of three real node processes, every cluster row printed with a figure.
/// </summary>
public sealed class ClusterBenchmarkSmokeTests(ITestOutputHelper log)
{
    [Fact]
    public async Task Cluster_quick_run_prints_every_cluster_row()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "RayGen.sln")))
        {
            root = root.Parent ?? throw new InvalidOperationException("The repository root was not found above the tests.");
        }

        var benchmarks = Path.Combine(root.FullName, "benchmarks", "RayGen.Benchmarks", "bin", configuration, "net10.0", "RayGen.Benchmarks.dll");
        Assert.True(File.Exists(benchmarks), $"The benchmarks are not built at {benchmarks}.");
        using var process = Process.Start(new ProcessStartInfo("dotnet", [benchmarks, "--cluster", "--quick"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(4));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        var text = await stdout.WaitAsync(TimeSpan.FromSeconds(30));
        log.WriteLine(text);
        log.WriteLine(await stderr.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Equal(0, process.ExitCode);
        Assert.Contains("3 node processes", text);
        foreach (var row in new[] { "multi_node_tasks_async", "cross_node_tasks_sync" })
        {
            Assert.Matches($@"(?m)^{row}\s+\|\s+[\d,.]+\s+\|", text);
        }

        // The object rows: the size moved, then GB/s.
        foreach (var row in new[] { "object_transfer_gigabytes", "broadcast_gigabytes" })
        {
            Assert.Matches($@"(?m)^{row}\s+\|\s+100 MiB\s+\|\s+[\d.]+\s+\|", text);
        }
    }
}
