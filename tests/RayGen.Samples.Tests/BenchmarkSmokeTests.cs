using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace RayGen.Samples.Tests;

/// <summary>Runs the benchmark entry point with <c>--quick</c> on the shared runtime: every row must print a positive rate.</summary>
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
    public async Task Quick_run_prints_every_row_with_a_positive_rate_and_the_seed_table()
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
            var match = Regex.Match(text, $@"(?m)^{row}\s+\|\s+([\d,.]+)\s+\|");
            Assert.True(match.Success, $"row {row} is missing:\n{text}");
            Assert.True(double.Parse(match.Groups[1].Value, NumberStyles.Number, CultureInfo.InvariantCulture) > 0, $"row {row} is not positive");
        }

        Assert.Contains(RayGen.Benchmarks.Program.SeedTableName, text);
        Assert.Matches(@"(?m)^\s*100 \|.*\| yes$", text);
        Assert.Matches(@"(?m)^\s*200 \|.*\| yes$", text);
        Assert.Contains("single_client_tasks_async: target >= 50,000", text);
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
