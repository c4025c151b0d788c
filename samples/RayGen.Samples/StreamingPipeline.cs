using System.Globalization;
using MemoryPack;
using Ray;

namespace RayGen.Samples;

/// <summary>What one batch of readings comes to: how many, their sum, the smallest and the largest.</summary>
[MemoryPackable]
public sealed partial record BatchSummary(int Count, double Sum, double Min, double Max)
{
    /// <summary>Two summaries as one.</summary>
    public BatchSummary Merge(BatchSummary other) =>
        new(Count + other.Count, Sum + other.Sum, Math.Min(Min, other.Min), Math.Max(Max, other.Max));
}

/// <summary>
/// Beyond the seed: a streaming pipeline. A producer task streams batches of sensor readings as it makes them (Ray's
/// streaming generator, an <c>IAsyncEnumerable&lt;T&gt;</c> here); each batch goes to a transforming task as soon as it
/// exists, while the producer goes on; a consumer task combines what they made. The producer pauses when four of its
/// batches wait to be read, so a fast producer never fills memory.
/// </summary>
public static partial class StreamingPipeline
{
    public const string Name = "streaming-pipeline";

    /// <summary>The producer: <paramref name="batches"/> batches of readings, made one at a time from a fixed seed.</summary>
    [Remote(GeneratorBackpressureNumObjects = 4)]
    public static async IAsyncEnumerable<double[]> ReadBatches(int batches, int batchSize, int seed)
    {
        foreach (var batch in Batches(batches, batchSize, seed))
        {
            // Reading a batch takes a moment (a file, a socket): the transforms of earlier ones run meanwhile.
            await Task.Delay(1);
            yield return batch;
        }
    }

    /// <summary>A transforming task: one batch's summary.</summary>
    [Remote]
    public static BatchSummary Summarize(double[] batch) => new(batch.Length, batch.Sum(), batch.Min(), batch.Max());

    /// <summary>The consumer: every summary as one.</summary>
    [Remote]
    public static async Task<BatchSummary> Combine(List<ObjectRef<BatchSummary>> summaries)
    {
        var total = new BatchSummary(0, 0, double.PositiveInfinity, double.NegativeInfinity);
        foreach (var summary in summaries)
        {
            total = total.Merge(await summary);
        }

        return total;
    }

    /// <summary>The readings the producer makes, computed here to check the pipeline's answer.</summary>
    public static IEnumerable<double[]> Batches(int batches, int batchSize, int seed)
    {
        var random = new Random(seed);
        for (var b = 0; b < batches; b++)
        {
            yield return Enumerable.Range(0, batchSize).Select(_ => 20 + (random.NextDouble() * 10)).ToArray();
        }
    }

    /// <summary>Runs the sample; returns the combined summary.</summary>
    /// <param name="output">Where the sample prints.</param>
    /// <param name="batches">Batches the producer streams.</param>
    /// <param name="batchSize">Readings per batch.</param>
    public static async Task<BatchSummary> RunAsync(TextWriter output, int batches = 40, int batchSize = 10_000)
    {
        const int Seed = 7;
        output.WriteLine($"A producer streams {batches} batches of {batchSize:N0} readings; a task summarizes each batch as it arrives; a task combines them.");

        // The producer returns at once with a stream; each batch is an object of its own, read while the producer runs.
        var summaries = new List<ObjectRef<BatchSummary>>();
        var first = TimeSpan.Zero;
        var started = System.Diagnostics.Stopwatch.StartNew();
        await foreach (ObjectRef<double[]> batch in Remote.ReadBatches(batches, batchSize, Seed))
        {
            if (summaries.Count == 0)
            {
                first = started.Elapsed;
            }

            // The batch's reference goes straight to a transforming task: the driver never copies the batch itself.
            summaries.Add(Remote.Summarize(batch));
        }

        var total = await Remote.Combine(summaries);
        var expected = Batches(batches, batchSize, Seed).Select(b => new BatchSummary(b.Length, b.Sum(), b.Min(), b.Max())).Aggregate((a, b) => a.Merge(b));
        var same = total.Count == expected.Count && Math.Abs(total.Sum - expected.Sum) < 1e-6 * expected.Sum && total.Min == expected.Min && total.Max == expected.Max;
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{total.Count:N0} readings: mean {total.Sum / total.Count:0.0000}, min {total.Min:0.0000}, max {total.Max:0.0000} (computed here: {(same ? "same" : "DIFFERENT")})."));
        output.WriteLine($"The first batch reached the driver after {NodeInfo.Seconds(first)}, the whole pipeline took {NodeInfo.Seconds(started.Elapsed)}.");
        return total;
    }
}
