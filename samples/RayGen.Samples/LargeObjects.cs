using System.Diagnostics;
using System.Globalization;
using MemoryPack;
using Ray;

namespace RayGen.Samples;

/// <summary>What one task saw of the shared array: its slice's sum of squares, and where and how it read it.</summary>
/// <param name="SumOfSquares">The sum of squares of its slice.</param>
/// <param name="ProcessId">The worker that ran it.</param>
/// <param name="AllocatedBytes">What the task allocated while it read the array: about nothing for a view, the whole array for a copy.</param>
[MemoryPackable]
public sealed partial record SliceResult(double SumOfSquares, int ProcessId, long AllocatedBytes);

/// <summary>
/// Seed I, "Efficiently handling large objects and numerical data", and its object store: "One object store per
/// node stores immutable objects in shared memory and allows workers to efficiently share objects on the same node
/// with minimal copying and deserialization". One large array is put once; many tasks read it in place through
/// <see cref="ArrayView{T}"/> parameters, which copy nothing, and the same tasks taking <c>double[]</c> get a copy
/// each. Then the node's objects are listed (Ray's <c>ray memory</c>), and the array is freed once its last reference
/// is gone.
/// </summary>
public static partial class LargeObjects
{
    public const string Name = "large-objects";

    /// <summary>The sum of squares of one slice of the shared array, read in place: nothing is copied.</summary>
    [Remote]
    public static SliceResult SliceSumOfSquares(ArrayView<double> data, int slice, int slices)
    {
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var span = data.Span;
        var (start, length) = Slice(span.Length, slice, slices);
        var sum = 0.0;
        foreach (var value in span.Slice(start, length))
        {
            sum += value * value;
        }

        // Read before anything else runs on this thread, so only the reading is counted.
        var allocatedWhileReading = GC.GetAllocatedBytesForCurrentThread() - allocated;
        return new SliceResult(sum, Environment.ProcessId, allocatedWhileReading);
    }

    /// <summary>The same, taking the array as a <c>double[]</c>: each call deserializes its own copy first.</summary>
    [Remote]
    public static SliceResult SliceSumOfSquaresCopy(double[] data, int slice, int slices)
    {
        var (start, length) = Slice(data.Length, slice, slices);
        var sum = 0.0;
        foreach (var value in data.AsSpan(start, length))
        {
            sum += value * value;
        }

        // The copy was made before the method ran, so count it here.
        return new SliceResult(sum, Environment.ProcessId, (long)data.Length * sizeof(double));
    }

    /// <summary>Runs the sample.</summary>
    /// <param name="output">Where the sample prints.</param>
    /// <param name="length">The number of doubles in the shared array (default 8 M: 64 MiB).</param>
    /// <param name="slices">How many tasks share it.</param>
    public static async Task RunAsync(TextWriter output, int length = 8 << 20, int slices = 8)
    {
        var ray = RayRuntime.Current;
        output.WriteLine($"Node: {NodeInfo.Describe()}.");
        var data = new double[length];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (i % 1000) / 1000.0;
        }

        var expected = data.Sum(x => x * x);

        // data_id = ray.put(data): written once into the node's shared-memory object store.
        var stopwatch = Stopwatch.StartNew();
        ObjectRef<double[]> dataId = ray.Put(data);
        output.WriteLine($"ray.Put of {Size(length * 8L)} took {Milliseconds(stopwatch.Elapsed)}.");

        output.WriteLine();
        output.WriteLine($"{slices} tasks read the array through ArrayView<double> (in place, in shared memory):");
        await RunTasksAsync(output, slice => Remote.SliceSumOfSquares(dataId, slice, slices), slices, expected);

        output.WriteLine();
        output.WriteLine($"The same {slices} tasks taking double[] (each gets a copy):");
        await RunTasksAsync(output, slice => Remote.SliceSumOfSquaresCopy(dataId, slice, slices), slices, expected);

        // In the driver, a view reads the stored array without copying it either.
        using (var view = await dataId.GetViewAsync())
        {
            output.WriteLine();
            output.WriteLine($"A view in the driver: {view.Length.ToString("N0", CultureInfo.InvariantCulture)} elements, data[12345] = {view[12345].ToString(CultureInfo.InvariantCulture)}.");
        }

        // ray memory: what the node holds, and what keeps it alive.
        output.WriteLine();
        var stats = ray.GetObjectStoreStats();
        output.WriteLine($"Object store: {Size(stats.UsedBytes)} of {Size(stats.CapacityBytes)} of shared memory in use, {stats.ObjectsInMemory} object(s), {Size(stats.SpilledBytes)} spilled.");
        foreach (var info in ray.ListObjects().Where(o => o.Id == dataId.Id))
        {
            output.WriteLine($"  {info.Id}: {Size(info.SizeBytes)} in {info.Location}, owned by pid {info.OwnerProcessId}, " +
                             $"{info.LocalReferences} reference(s) in the driver, {info.TaskReferences} pending task(s), {info.Pins} open view(s)");
        }

        output.WriteLine("The array is freed from shared memory once no reference to it remains (dataId is collected, no task or view uses it).");
        GC.KeepAlive(dataId);
    }

    private static async Task RunTasksAsync(TextWriter output, Func<int, ObjectRef<SliceResult>> submit, int slices, double expected)
    {
        // Timed on a second round: the first one compiles the task and maps the array's pages into each worker.
        _ = await RayRuntime.Current.GetAsync(Enumerable.Range(0, slices).Select(submit).ToList());
        var stopwatch = Stopwatch.StartNew();
        var results = await RayRuntime.Current.GetAsync(Enumerable.Range(0, slices).Select(submit).ToList());
        var elapsed = stopwatch.Elapsed;
        var total = results.Sum(r => r.SumOfSquares);
        output.WriteLine($"  sum of squares = {total.ToString("R", CultureInfo.InvariantCulture)} (expected {expected.ToString("R", CultureInfo.InvariantCulture)}: {(Math.Abs(total - expected) <= 1e-6 * expected ? "same" : "DIFFERENT")})");
        output.WriteLine($"  {Milliseconds(elapsed)} for all tasks (second round); workers {string.Join(", ", results.Select(r => r.ProcessId).Distinct().Order())}; " +
                         $"allocated per task while reading: {string.Join(", ", results.Select(r => Size(r.AllocatedBytes)).Distinct())}");
    }

    private static (int Start, int Length) Slice(int length, int slice, int slices)
    {
        var size = (length + slices - 1) / slices;
        var start = Math.Min(length, slice * size);
        return (start, Math.Min(size, length - start));
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.##", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.##", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.##", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " bytes",
    };

    private static string Milliseconds(TimeSpan elapsed) => elapsed.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture) + " ms";
}
