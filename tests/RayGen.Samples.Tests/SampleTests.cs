using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace RayGen.Samples.Tests;

/// <summary>
/// Runs every sample in-process with small parameters and checks what it prints: results, never timings.
/// </summary>
[Collection(SamplesCollection.Name)]
public sealed class SampleTests(SamplesFixture fixture)
{
    private static readonly TimeSpan Timeout = SamplesFixture.Timeout;

    [Fact]
    public void Catalog_lists_every_sample_once()
    {
        Assert.Equal(
            ["parallel-tasks", "task-dependencies", "aggregation", "counter-actor", "message-actor", "message-stream", "large-objects", "stress-table", "parameter-server", "streaming-pipeline"],
            SampleCatalog.All.Select(sample => sample.Name));
        Assert.All(SampleCatalog.All, sample => Assert.False(string.IsNullOrWhiteSpace(sample.SeedSection)));
        Assert.Same(SampleCatalog.All[2], SampleCatalog.Find("AGGREGATION"));
        Assert.Null(SampleCatalog.Find("actors"));
    }

    [Fact]
    public async Task Large_objects_are_read_in_place_by_views_and_copied_for_arrays()
    {
        var output = new StringWriter();
        await LargeObjects.RunAsync(output, length: 1 << 20, slices: 4).WaitAsync(Timeout);
        var text = output.ToString();

        // Both ways compute the same sum; the view tasks allocate nothing while reading, the array tasks a whole copy.
        Assert.Equal(2, Regex.Matches(text, @"sum of squares = \S+ \(expected \S+: same\)").Count);
        Assert.Contains("allocated per task while reading: 0 bytes", text);
        Assert.Contains("allocated per task while reading: 8 MiB", text);
        Assert.Contains("A view in the driver: 1,048,576 elements, data[12345] = 0.345.", text);
        Assert.Matches(@"8 MiB in SharedMemory, owned by pid \d+, 1 reference\(s\) in the driver, 0 pending task\(s\), 0 open view\(s\)", text);
    }

    [Fact]
    public async Task Counter_actor_prints_0_then_2()
    {
        var output = new StringWriter();
        await CounterActor.RunAsync(output).WaitAsync(Timeout);
        Assert.Equal(["0", "2"], output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Message_actor_delivers_every_message_of_every_worker_once()
    {
        var output = new StringWriter();
        var received = await MessageActorSample.RunAsync(output, messagesPerWorker: 4, interval: TimeSpan.FromMilliseconds(50)).WaitAsync(Timeout);

        var expected = from j in Enumerable.Range(0, 3) from i in Enumerable.Range(0, 4) select $"Message {i} from worker {j}.";
        Assert.Equal(expected.Order(), received.Order());
        Assert.Contains("New messages: [", output.ToString());

        // Each worker's messages arrive in the order it sent them.
        foreach (var j in Enumerable.Range(0, 3))
        {
            Assert.Equal(
                Enumerable.Range(0, 4).Select(i => $"Message {i} from worker {j}."),
                received.Where(m => m.EndsWith($"from worker {j}.", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task Message_stream_delivers_every_message_of_every_worker_once()
    {
        // The actor runs up to four calls at once (its stream is read while messages come in), so two messages of one
        // worker may be added in either order, as with Ray's async actors: only that each arrives once is checked.
        var output = new StringWriter();
        var received = await MessageStreamSample.RunAsync(output, messagesPerWorker: 4, interval: TimeSpan.FromMilliseconds(20)).WaitAsync(Timeout);

        var expected = from j in Enumerable.Range(0, 3) from i in Enumerable.Range(0, 4) select $"Message {i} from worker {j}.";
        Assert.Equal(expected.Order(), received.Order());
        Assert.Contains("New message: 'Message ", output.ToString());
    }

    [Fact]
    public async Task Streaming_pipeline_combines_every_batch_into_the_locally_computed_summary()
    {
        var output = new StringWriter();
        var total = await StreamingPipeline.RunAsync(output, batches: 12, batchSize: 500).WaitAsync(Timeout);

        var local = StreamingPipeline.Batches(12, 500, seed: 7).SelectMany(batch => batch).ToArray();
        Assert.Equal(local.Length, total.Count);
        Assert.Equal(local.Sum(), total.Sum, tolerance: 1e-6 * local.Sum());
        Assert.Equal(local.Min(), total.Min);
        Assert.Equal(local.Max(), total.Max);
        Assert.Contains("(computed here: same)", output.ToString());
    }

    [Fact]
    public async Task Parameter_server_learns_the_true_weights()
    {
        var output = new StringWriter();
        var weights = await ParameterServerSample.RunAsync(output, workers: 3, steps: 40).WaitAsync(Timeout);
        Assert.Equal(ParameterServerSample.TrueWeights.Length, weights.Length);
        for (var i = 0; i < weights.Length; i++)
        {
            Assert.Equal(ParameterServerSample.TrueWeights[i], weights[i], tolerance: 0.05);
        }

        Assert.Contains("120 gradients applied", output.ToString());
    }

    [Fact]
    public async Task Parallel_tasks_returns_0_1_2_3_and_names_the_cpu_count()
    {
        var output = new StringWriter();
        await ParallelTasks.RunAsync(output, fooSleep: TimeSpan.FromMilliseconds(50), barSleep: TimeSpan.FromMilliseconds(20), barCount: 4)
            .WaitAsync(Timeout);

        var text = output.ToString();
        Assert.Contains("results = [0, 1, 2, 3]", text);
        var cpus = (int)fixture.Ray.ClusterResources["CPU"];
        Assert.Contains($"Node: {cpus} CPU", text);
        Assert.Contains("sequential [foo() for _ in range(4)]", text);
        Assert.Contains("ray.get([bar.remote() for _ in range(4)])", text);
        Assert.Contains("scaled down", text);
    }

    [Fact]
    public async Task Task_dependencies_product_matches_the_local_computation_and_put_arguments_are_equivalent()
    {
        const int size = 40;
        var output = new StringWriter();
        await TaskDependencies.RunAsync(output, size).WaitAsync(Timeout);

        var text = output.ToString();
        Assert.Contains($"shape ({size}, {size})", text);
        var match = Regex.Match(text, @"checksum \(sum of entries\) = (\S+)");
        Assert.True(match.Success, text);
        var remote = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var local = TaskDependencies.LocalChecksum(size);
        Assert.Equal(local, remote, tolerance: 1e-9 * Math.Max(1, Math.Abs(local)));

        Assert.Matches(@"add2\.remote\(1, 2\)\s+-> 3", text);
        Assert.Matches(@"add2\.remote\(1, ray\.put\(2\)\)\s+-> 3", text);
        Assert.Matches(@"add2\.remote\(ray\.put\(1\), ray\.put\(2\)\)\s+-> 3", text);
    }

    [Fact]
    public async Task Task_dependencies_remote_product_equals_the_local_one_entry_by_entry()
    {
        var x = TaskDependencies.Remote.CreateMatrix(7, 5, 3);
        var y = TaskDependencies.Remote.CreateMatrix(5, 4, 4);
        var product = await TaskDependencies.Remote.MultiplyMatrices(x, y).GetAsync().AsTask().WaitAsync(Timeout);

        var expected = TaskDependencies.MultiplyMatrices(TaskDependencies.CreateMatrix(7, 5, 3), TaskDependencies.CreateMatrix(5, 4, 4));
        Assert.Equal((7, 4), (product.Rows, product.Cols));
        Assert.Equal(expected.Data, product.Data);
    }

    [Fact]
    public async Task Aggregation_sums_to_36_four_ways()
    {
        var output = new StringWriter();
        await Aggregation.RunAsync(output, TimeSpan.FromMilliseconds(10)).WaitAsync(Timeout);

        var text = output.ToString();
        foreach (var label in new[] { "approach1 (linear chain, depth 7)", "tree_approach (tree, depth 3)", "while loop, slow approach", "while loop, fast approach" })
        {
            Assert.Matches(Regex.Escape(label) + @"\s*: result = 36,", text);
        }
    }

    [Fact]
    public async Task Stress_table_has_every_row_and_the_raygen_sums_equal_the_sequential_ones()
    {
        int[] sizes = [10, 20, 50];
        var output = new StringWriter();
        await StressTable.RunAsync(output, sizes, rounds: 1, warmUp: TimeSpan.FromSeconds(0.2)).WaitAsync(Timeout);

        var text = output.ToString();
        foreach (var n in sizes)
        {
            // n | sequential | RayGen | speedup | Parallel.For | speedup | sum of results | results equal
            var row = Regex.Match(text, $@"(?m)^\s*{n} \|[^|]+\|[^|]+\|[^|]+\|[^|]+\|[^|]+\|\s*(\d+) \| (.+)$");
            Assert.True(row.Success, $"no row for n = {n}:\n{text}");
            Assert.Equal(ExpectedSum(n), long.Parse(row.Groups[1].Value, CultureInfo.InvariantCulture));
            Assert.Equal("yes", row.Groups[2].Value.Trim());
        }
    }

    [Fact]
    public async Task Stress_function_results_from_raygen_equal_the_sequential_results()
    {
        var rows = await StressTable.MeasureAsync([30, 60], rounds: 1, warmUp: TimeSpan.FromSeconds(0.2)).WaitAsync(Timeout);

        Assert.Equal([30, 60], rows.Select(row => row.N));
        Assert.All(rows, row =>
        {
            Assert.Equal(ExpectedSum(row.N), row.SequentialSum);
            Assert.Equal(row.SequentialSum, row.RayGenSum);
            Assert.Equal(row.SequentialSum, row.ParallelForSum);
        });

        var values = await StressTable.RayGenAsync(fixture.Ray, 25).WaitAsync(Timeout);
        Assert.Equal(StressTable.Sequential(25), values);
    }

    // sum over the n calls of sum_{i,j<n} i*j = n * (n(n-1)/2)^2.
    private static long ExpectedSum(long n) => n * (n * (n - 1) / 2) * (n * (n - 1) / 2);
}
