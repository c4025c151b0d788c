using System.Globalization;
using System.Runtime.CompilerServices;
using Ray;

namespace RayGen.Benchmarks;

/// <summary>The producers of the streaming rows: the same items as a stream (one object each) and as one list (one object).</summary>
public static partial class StreamBenchTasks
{
    /// <summary>0 to <paramref name="count"/> - 1, one item each.</summary>
    [Remote]
    public static async IAsyncEnumerable<int> SmallItems(int count)
    {
        for (var i = 0; i < count; i++)
        {
            yield return i;
        }

        await Task.CompletedTask;
    }

    /// <summary>The same numbers as one list.</summary>
    [Remote]
    public static List<int> SmallList(int count) => Enumerable.Range(0, count).ToList();

    /// <summary><paramref name="count"/> arrays of <paramref name="elements"/> longs, one item each (each goes through the store).</summary>
    [Remote]
    public static async IAsyncEnumerable<long[]> LargeItems(int count, int elements)
    {
        var item = StreamBenchmarks.Filled(elements);
        for (var i = 0; i < count; i++)
        {
            yield return item;
        }

        await Task.CompletedTask;
    }

    /// <summary>The same arrays as one list, one object.</summary>
    [Remote]
    public static List<long[]> LargeList(int count, int elements)
    {
        var item = StreamBenchmarks.Filled(elements);
        return Enumerable.Repeat(item, count).ToList();
    }
}

/// <summary>
/// Streaming rows (no Ray figure: Ray's microbenchmark has none): items per second of a stream of small items read as
/// values in the driver, and GB/s of a stream of large ones, each beside the same data returned by one task as one
/// list. The baseline is the same items enumerated from an <c>IAsyncEnumerable</c> in process (for large items, copied
/// once each, as a reader gets a copy).
/// </summary>
internal static class StreamBenchmarks
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static IEnumerable<MicroBenchmark> All(Settings settings)
    {
        var smallCount = settings.Quick ? 2_000 : 20_000;
        var largeCount = settings.Quick ? 4 : 16;
        var largeElements = (settings.Quick ? 2 : 8) * 1024 * 1024 / 8;
        var gigabytes = largeCount * largeElements * 8.0 / 1e9;

        yield return new MicroBenchmark(
            "stream_small_items",
            "items/s",
            null,
            smallCount,
            async () => Expect(await SumAsync(StreamBenchTasks.Remote.SmallItems(smallCount).ReadAllAsync()), SumBelow(smallCount)),
            async () => Expect(await SumAsync(LocalItems(smallCount)), SumBelow(smallCount)),
            $"a task streams {smallCount:N0} ints, the driver reads each value as it comes (await foreach over ReadAllAsync) / the same ints from an IAsyncEnumerable in process");

        yield return new MicroBenchmark(
            "list_small_items",
            "items/s",
            null,
            smallCount,
            async () => Expect((await StreamBenchTasks.Remote.SmallList(smallCount)).Sum(x => (long)x), SumBelow(smallCount)),
            async () => Expect(await SumAsync(LocalItems(smallCount)), SumBelow(smallCount)),
            $"the same {smallCount:N0} ints returned by one task as one List<int> and awaited / the same baseline");

        yield return new MicroBenchmark(
            "stream_large_items_gigabytes",
            "GB/s",
            null,
            gigabytes,
            async () =>
            {
                var read = 0;
                await foreach (var item in StreamBenchTasks.Remote.LargeItems(largeCount, largeElements).ReadAllAsync())
                {
                    read += item.Length == largeElements ? 1 : throw new InvalidOperationException("An item has the wrong length.");
                }

                Expect(read, largeCount);
            },
            () => CopyLocallyAsync(largeCount, largeElements),
            $"a task streams {largeCount} long[{largeElements:N0}] ({largeElements * 8 >> 20} MiB each, through the store), the driver reads each as a new array / {largeCount} copies of such an array in process");

        yield return new MicroBenchmark(
            "list_large_items_gigabytes",
            "GB/s",
            null,
            gigabytes,
            async () => Expect((await StreamBenchTasks.Remote.LargeList(largeCount, largeElements)).Count, largeCount),
            () => CopyLocallyAsync(largeCount, largeElements),
            $"the same {largeCount} arrays returned by one task as one List<long[]> (one {largeCount * largeElements * 8L >> 20} MiB object) and awaited / the same baseline");
    }

    /// <summary>An array of <paramref name="elements"/> longs with every page written.</summary>
    public static long[] Filled(int elements)
    {
        var array = GC.AllocateUninitializedArray<long>(elements);
        array.AsSpan().Fill(7);
        return array;
    }

    private static async IAsyncEnumerable<int> LocalItems(int count, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < count; i++)
        {
            yield return i;
        }

        await Task.CompletedTask;
    }

    private static async Task<long> SumAsync(IAsyncEnumerable<int> items)
    {
        long sum = 0;
        await foreach (var item in items)
        {
            sum += item;
        }

        return sum;
    }

    private static Task CopyLocallyAsync(int count, int elements)
    {
        var source = Source(elements);
        for (var i = 0; i < count; i++)
        {
            var copy = GC.AllocateUninitializedArray<long>(elements);
            source.AsSpan().CopyTo(copy);
        }

        return Task.CompletedTask;
    }

    private static long[]? s_source;

    private static long[] Source(int elements) => s_source is { } source && source.Length == elements ? source : s_source = Filled(elements);

    /// <summary>0 + 1 + ... + (<paramref name="count"/> - 1).</summary>
    private static long SumBelow(int count) => (long)count * (count - 1) / 2;

    private static void Expect(long actual, long expected)
    {
        if (actual != expected)
        {
            throw new InvalidOperationException(string.Create(Invariant, $"The items came back wrong: {actual} instead of {expected}."));
        }
    }
}
