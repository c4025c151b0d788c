using Xunit;

namespace Ray.Runtime.Tests.ObjectStore;

/// <summary>Large objects go into the node's shared memory once and are read there in place, by the driver and by workers.</summary>
[Collection(ObjectStoreCollection.Name)]
public sealed class SharedMemoryTests(ObjectStoreFixture fixture)
{
    private const int Large = 1 << 20; // doubles: 8 MiB

    private static readonly TimeSpan Timeout = ObjectStoreFixture.Timeout;

    private RayRuntime Ray => fixture.Ray;

    [Fact]
    public void A_small_put_stays_inline_and_a_large_one_goes_to_shared_memory()
    {
        var small = Ray.Put(ObjectStoreFixture.Doubles(100));
        var large = Ray.Put(ObjectStoreFixture.Doubles(Large));

        var objects = Ray.ListObjects().ToDictionary(o => o.Id);
        Assert.Equal(ObjectLocation.Inline, objects[small.Id].Location);
        Assert.Equal(ObjectLocation.SharedMemory, objects[large.Id].Location);
        Assert.Equal(4 + (Large * 8L), objects[large.Id].SizeBytes);
        Assert.Equal(Environment.ProcessId, objects[large.Id].OwnerProcessId);
        Assert.Equal(1, objects[large.Id].LocalReferences);

        Assert.Equal(ObjectStoreFixture.Doubles(100), small.Get(Timeout));
        Assert.Equal(ObjectStoreFixture.Doubles(Large), large.Get(Timeout));
        GC.KeepAlive(small);
    }

    /// <summary>
    /// At most <see cref="RayOptions.MaxInlineObjectSize"/> (100 KiB) serialized bytes travel inline; one byte more goes
    /// to shared memory. A byte array serializes as a 4-byte length and its bytes. The same limit holds for a put, a
    /// task's result (serialized in the worker) and an argument given by value.
    /// </summary>
    [Fact]
    public async Task The_inline_limit_is_exactly_MaxInlineObjectSize()
    {
        const int limit = 100 * 1024;
        Assert.Equal(limit, Ray.Node!.Options.MaxInlineObjectSize);
        var atLimit = new byte[limit - 4];
        var overLimit = new byte[limit - 3];

        var puts = (AtLimit: Ray.Put(atLimit), OverLimit: Ray.Put(overLimit));
        var results = (AtLimit: StoreTasks.Remote.MakeBytes(limit - 4), OverLimit: StoreTasks.Remote.MakeBytes(limit - 3));
        await Ray.GetAsync([results.AtLimit, results.OverLimit]).WaitAsync(Timeout);
        var objects = Ray.ListObjects().ToDictionary(o => o.Id);
        foreach (var (atLimitId, overLimitId) in new[] { (puts.AtLimit.Id, puts.OverLimit.Id), (results.AtLimit.Id, results.OverLimit.Id) })
        {
            Assert.Equal((ObjectLocation.Inline, limit), (objects[atLimitId].Location, objects[atLimitId].SizeBytes));
            Assert.Equal((ObjectLocation.SharedMemory, limit + 1L), (objects[overLimitId].Location, objects[overLimitId].SizeBytes));
        }

        var store = Ray.GetObjectStoreStats().MemoryDirectory;
        Assert.DoesNotContain(store, await StoreTasks.Remote.LocateBytes(atLimit).GetAsync().AsTask().WaitAsync(Timeout) ?? "not a file mapping");
        Assert.StartsWith(store, await StoreTasks.Remote.LocateBytes(overLimit).GetAsync().AsTask().WaitAsync(Timeout));
        GC.KeepAlive(puts);
    }

    [Fact]
    public unsafe void A_view_in_the_driver_reads_the_shared_memory_in_place()
    {
        var data = ObjectStoreFixture.Doubles(Large, seed: 7);
        var stored = Ray.Put(data);

        var before = GC.GetAllocatedBytesForCurrentThread();
        using var view = stored.GetView(Timeout);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < 64 * 1024, $"Opening a view of {Large * 8} bytes allocated {allocated} bytes: it copied.");
        Assert.Equal(Large, view.Length);
        Assert.True(view.Span.SequenceEqual(data));
        fixed (double* first = view.Span)
        {
            Assert.True(
                ObjectStoreFixture.IsMappedFrom(first, Ray.GetObjectStoreStats().MemoryDirectory),
                $"The view's memory is not the store's shared memory but {ObjectStoreFixture.MappedPath(first) ?? "anonymous memory"}.");
        }

        // The elements start on a cache line, so vectorized code reads them aligned.
        fixed (double* first = view.Span)
        {
            Assert.Equal(0, (long)first % 64);
        }
    }

    [Fact]
    public async Task A_task_reads_a_put_array_through_a_view_without_a_copy()
    {
        var data = ObjectStoreFixture.Doubles(Large, seed: 3);
        var stored = Ray.Put(data);

        var place = await StoreTasks.Remote.Locate(stored).GetAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(Large, place.Length);
        Assert.NotEqual(Environment.ProcessId, place.ProcessId);
        Assert.NotNull(place.MappedFrom);
        Assert.StartsWith(Ray.GetObjectStoreStats().MemoryDirectory, place.MappedFrom);

        Assert.Equal(data.Sum(), await StoreTasks.Remote.Sum(stored).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(data.Sum(), await StoreTasks.Remote.SumCopy(stored).GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_large_argument_value_is_stored_once_and_freed_after_the_task()
    {
        var data = ObjectStoreFixture.Doubles(Large, seed: 5);
        var baseline = await fixture.SettledUsedBytesAsync();

        var place = await StoreTasks.Remote.Locate(data).GetAsync().AsTask().WaitAsync(Timeout);
        Assert.StartsWith(Ray.GetObjectStoreStats().MemoryDirectory, place.MappedFrom);
        Assert.Equal(data.Sum(), await StoreTasks.Remote.Sum(data).GetAsync().AsTask().WaitAsync(Timeout));

        // The argument objects existed for the calls only.
        await ObjectStoreFixture.WaitUntilAsync(() => Ray.GetObjectStoreStats().UsedBytes <= baseline, "the arguments' objects are freed");
    }

    [Fact]
    public async Task A_large_result_is_stored_by_the_worker_and_read_by_the_driver()
    {
        var result = StoreTasks.Remote.Make(Large, 11);
        var values = await result.GetAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(ObjectStoreFixture.Doubles(Large, 11), values);

        var info = Ray.ListObjects().Single(o => o.Id == result.Id);
        Assert.Equal(ObjectLocation.SharedMemory, info.Location);
        Assert.Equal(Environment.ProcessId, info.OwnerProcessId);

        using var view = await result.GetViewAsync().AsTask().WaitAsync(Timeout);
        Assert.True(view.Span.SequenceEqual(values));

        // A result passed on to another task is read there in place too.
        Assert.Equal(values.Sum(), await StoreTasks.Remote.Sum(result).GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_worker_puts_a_large_object_and_the_driver_and_other_tasks_read_it()
    {
        var inner = await StoreTasks.Remote.PutInside(Large, 13).GetAsync().AsTask().WaitAsync(Timeout);
        var expected = ObjectStoreFixture.Doubles(Large, 13);
        Assert.Equal(expected, await inner.GetAsync().AsTask().WaitAsync(Timeout));

        var info = Ray.ListObjects().Single(o => o.Id == inner.Id);
        Assert.Equal(ObjectLocation.SharedMemory, info.Location);
        Assert.NotEqual(Environment.ProcessId, info.OwnerProcessId);

        Assert.Equal(expected.Sum(), await StoreTasks.Remote.SumThroughReference(new List<ObjectRef<double[]>> { inner }).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(expected.Sum(), await StoreTasks.Remote.SumThroughView(new List<ObjectRef<double[]>> { inner }).GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task An_actor_takes_a_large_constructor_argument_and_views()
    {
        var initial = ObjectStoreFixture.Doubles(Large, 17);
        var keeper = ArrayKeeper.Remote(initial);
        Assert.Equal(initial.Sum(), await keeper.InitialSum().GetAsync().AsTask().WaitAsync(Timeout));

        var data = Ray.Put(ObjectStoreFixture.Doubles(Large, 19));
        Assert.Equal(ObjectStoreFixture.Doubles(Large, 19).Sum(), await keeper.SumView(data).GetAsync().AsTask().WaitAsync(Timeout));
        Ray.Kill(keeper);
    }
}
