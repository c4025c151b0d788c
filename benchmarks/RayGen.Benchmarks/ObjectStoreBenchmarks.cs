using System.Globalization;
using Ray;

namespace RayGen.Benchmarks;

/// <summary>The remote functions of the object store rows.</summary>
public static partial class StoreBenchTasks
{
    /// <summary>Ray's <c>do_put</c>: puts a large array <paramref name="count"/> times (one array, as the single-client row does).</summary>
    [Remote]
    public static int PutLarge(int elements, int count)
    {
        var data = new long[elements];
        var ray = RayRuntime.Current;
        for (var i = 0; i < count; i++)
        {
            _ = ray.Put(data);
        }

        return count;
    }

    /// <summary>Ray's <c>do_put_small</c>: 100 puts of a small value.</summary>
    [Remote]
    public static int PutSmall(int count)
    {
        var ray = RayRuntime.Current;
        for (var i = 0; i < count; i++)
        {
            _ = ray.Put(0);
        }

        return count;
    }

    /// <summary>Ray's <c>create_object_containing_ref</c>: a result that holds 10,000 references.</summary>
    [Remote]
    public static List<ObjectRef<int>> CreateObjectContainingRefs(int count)
    {
        var ray = RayRuntime.Current;
        var references = new List<ObjectRef<int>>(count);
        for (var i = 0; i < count; i++)
        {
            references.Add(ray.Put(1));
        }

        return references;
    }

    /// <summary>Reads one element of a view argument: the cost of receiving a stored array without copying it.</summary>
    [Remote]
    public static long ViewFirst(ArrayView<long> data) => data.Length == 0 ? 0 : data[0];
}

/// <summary>
/// The object store rows: Ray's put rows (<c>single_client_put_gigabytes</c>, <c>multi_client_put_gigabytes</c>,
/// <c>multi_client_put_calls</c>, <c>single_client_get_object_containing_10k_refs</c>) and large gets through
/// <c>Get</c> and through a zero-copy view, in the driver and as a task argument. For the large rows the in-process
/// column is memcpy of the same bytes measured in the same run, so RayGen/in-proc is the fraction of what the
/// machine can copy.
/// </summary>
internal static class ObjectStoreBenchmarks
{
    /// <summary>Ray's <c>np.zeros(100 * 1024 * 1024, dtype=np.int64)</c>: 800 MiB, which Ray counts as 0.8 "GB" (1000 MiB).</summary>
    private const int PutElements = 100 * 1024 * 1024;

    private const double RayGigabytesPerPut = 0.8;

    /// <summary>The zero-copy target is stated for 1 GiB.</summary>
    private const int ViewBytes = 1 << 30;

    /// <summary>
    /// The large get reads 100 MiB: each get makes a new array, and with 800 MiB arrays the .NET garbage collector takes
    /// seconds of fresh pages before it reuses their memory, in RayGen and in the baseline alike, which would measure the
    /// collector rather than the read.
    /// </summary>
    private const int GetElements = 100 * 1024 * 1024 / 8;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static IEnumerable<MicroBenchmark> All(Settings settings)
    {
        var scale = settings.Quick ? 16 : 1;
        var elements = PutElements / scale;
        var gigabytes = RayGigabytesPerPut / scale;
        var viewBytes = ViewBytes / scale;

        // Allocated on first use, so that a filter that skips these rows allocates nothing.
        var source = new Lazy<long[]>(() => Filled(elements));
        var destination = new Lazy<long[]>(() => Filled(elements));
        var getElements = GetElements / scale;
        var getSource = new Lazy<long[]>(() => Filled(getElements));
        var stored = new Lazy<ObjectRef<long[]>>(() => RayRuntime.Current.Put(getSource.Value));
        var viewStored = new Lazy<ObjectRef<long[]>>(() => RayRuntime.Current.Put(Filled(viewBytes / 8)));
        var inProcess = Filled(1024);
        var containing = new Lazy<ObjectRef<List<ObjectRef<int>>>>(() => StoreBenchTasks.Remote.CreateObjectContainingRefs(10_000));
        var completed = Enumerable.Range(0, 10_000).Select(Task.FromResult).ToList();
        const int clients = 10;
        const int putsPerClient = 10;
        var clientElements = elements / 10;
        var clientSource = new Lazy<long[]>(() => Filled(clientElements));
        var clientDestinations = new Lazy<long[][]>(() => Enumerable.Range(0, clients).Select(_ => Filled(clientElements)).ToArray());

        // First: later rows keep arrays of hundreds of MiB alive, which makes the collector let many new arrays
        // take fresh pages before it collects, and this row makes a new array per get.
        yield return new MicroBenchmark(
            "single_client_get_gigabytes",
            "GB/s",
            null,
            RayGigabytesPerPut * getElements / PutElements,
            async () => _ = await stored.Value,
            () =>
            {
                ParallelCopy(getSource.Value, GC.AllocateUninitializedArray<long>(getElements));
                return Task.CompletedTask;
            },
            $"await of a stored long[{getElements:N0}] ({Bytes(getElements * 8L)}): a new array, filled with one copy from shared memory / a new uninitialized array and memcpy into it (on up to 4 threads, as RayGen copies)")
        {
            MinWarmUpOperations = 8,
        };

        yield return new MicroBenchmark(
            "single_client_put_gigabytes",
            "GB/s",
            19.86,
            gigabytes,
            () =>
            {
                _ = RayRuntime.Current.Put(source.Value);
                return Task.CompletedTask;
            },
            () =>
            {
                ParallelCopy(source.Value, destination.Value);
                return Task.CompletedTask;
            },
            $"ray.Put of a long[{elements:N0}] ({Bytes(elements * 8L)}, dropped at once, as Ray's put_large) / memcpy of the same bytes into a warm buffer on up to 4 threads (what the machine can copy; RayGen copies large objects the same way); GB as Ray counts them (0.8 per 800 MiB)",
            new Target(">= half of memcpy bandwidth for a large put", (rate, memcpy) => (rate >= 0.5 * memcpy, $"{Gb(rate)} GB/s, {(rate / memcpy).ToString("0.00", Invariant)} of memcpy's {Gb(memcpy)} GB/s")))
        {
            MinWarmUpOperations = 8,
        };

        yield return new MicroBenchmark(
            "multi_client_put_gigabytes",
            "GB/s",
            38.14,
            clients * putsPerClient * gigabytes / 10,
            async () =>
            {
                var puts = new ObjectRef<int>[clients];
                for (var i = 0; i < clients; i++)
                {
                    puts[i] = StoreBenchTasks.Remote.PutLarge(clientElements, putsPerClient);
                }

                _ = await RayRuntime.Current.GetAsync(puts);
            },
            () => Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(() =>
            {
                for (var i = 0; i < putsPerClient; i++)
                {
                    clientSource.Value.AsSpan().CopyTo(clientDestinations.Value[client]);
                }
            }))),
            $"{clients} tasks each put a long[{clientElements:N0}] ({Bytes(clientElements * 8L)}) {putsPerClient} times (Ray's do_put; one array per task) / {clients} x Task.Run each doing {putsPerClient} memcpys of the same size")
        {
            MinWarmUpOperations = 3,
        };

        yield return new MicroBenchmark(
            "single_client_get_view",
            "views/s",
            null,
            1,
            () =>
            {
                using var view = viewStored.Value.GetView();
                return view.Length == viewBytes / 8 ? Task.CompletedTask : throw new InvalidOperationException("The view has the wrong length.");
            },
            () => inProcess.AsMemory().Length == 1024 ? Task.CompletedTask : throw new InvalidOperationException(),
            $"GetView() of a stored long[] of {Bytes(viewBytes)} and Dispose() (no copy) / AsMemory() of an array in process",
            new Target($"a same-node view of 1 GiB in < 1 ms{(scale > 1 ? " (--quick measures a smaller object)" : string.Empty)}", (rate, _) => (1e3 / rate < 1, $"{(1e6 / rate).ToString("0.0", Invariant)} us per view")));

        yield return new MicroBenchmark(
            "single_client_tasks_sync_view_arg",
            "tasks/s",
            null,
            1,
            async () => _ = await StoreBenchTasks.Remote.ViewFirst(viewStored.Value),
            async () => _ = await Task.Run(() => inProcess.AsMemory().Span[0]),
            $"a task taking the stored {Bytes(viewBytes)} array as ArrayView<long> (mapped in the worker, no copy), submitted and awaited one at a time / Task.Run reading the array in process");

        yield return new MicroBenchmark(
            "multi_client_put_calls",
            "puts/s",
            16526.4,
            clients * 100,
            async () =>
            {
                var puts = new ObjectRef<int>[clients];
                for (var i = 0; i < clients; i++)
                {
                    puts[i] = StoreBenchTasks.Remote.PutSmall(100);
                }

                _ = await RayRuntime.Current.GetAsync(puts);
            },
            () => Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(() =>
            {
                for (var i = 0; i < 100; i++)
                {
                    _ = Task.FromResult(i);
                }
            }))),
            $"{clients} tasks each put(0) 100 times (Ray's do_put_small) / {clients} x Task.Run each making 100 completed futures");

        yield return new MicroBenchmark(
            "single_client_get_object_containing_10k_refs",
            "gets/s",
            13.37,
            1,
            async () => _ = await containing.Value,
            () => Task.FromResult(new List<Task<int>>(completed)),
            "await of a task's result that holds 10,000 ObjectRefs (each deserialized reference is counted) / copying a list of 10,000 completed futures");
    }

    /// <summary>memcpy split over up to 4 threads, as the runtime copies large objects: the machine's copy bandwidth.</summary>
    private static void ParallelCopy(long[] source, long[] destination)
    {
        var threads = Math.Min(4, Environment.ProcessorCount);
        var chunk = (source.Length + threads - 1) / threads;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
        {
            var start = i * chunk;
            var count = Math.Min(chunk, source.Length - start);
            if (count > 0)
            {
                source.AsSpan(start, count).CopyTo(destination.AsSpan(start, count));
            }
        });
    }

    private static long[] Filled(int length)
    {
        var values = new long[length];
        for (var i = 0; i < values.Length; i += 512)
        {
            values[i] = i;
        }

        return values;
    }

    private static string Gb(double rate) => rate.ToString("0.0", Invariant);

    private static string Bytes(long bytes) => bytes >= 1L << 30
        ? (bytes / (double)(1L << 30)).ToString("0.##", Invariant) + " GiB"
        : (bytes / (double)(1L << 20)).ToString("0.##", Invariant) + " MiB";
}
