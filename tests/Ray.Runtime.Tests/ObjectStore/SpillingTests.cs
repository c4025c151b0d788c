using System.Runtime.CompilerServices;
using Xunit;

namespace Ray.Runtime.Tests.ObjectStore;

/// <summary>
/// Above the high-water mark, objects still referenced spill to disk and come back transparently on the next read;
/// when neither memory nor disk has room, the caller gets <see cref="ObjectStoreFullException"/> with the sizes,
/// and the node keeps serving.
/// </summary>
[Collection(ObjectStoreCollection.Name)]
public sealed class SpillingTests(ObjectStoreFixture fixture)
{
    private const int Hundred = 100 << 20; // bytes
    private const int HundredMiBOfDoubles = Hundred / 8;

    private static readonly TimeSpan Timeout = ObjectStoreFixture.Timeout;

    private RayRuntime Ray => fixture.Ray;

    [Fact]
    public async Task Referenced_objects_spill_above_the_high_water_mark_and_are_restored_on_read()
    {
        await fixture.SettledUsedBytesAsync();
        var before = Ray.GetObjectStoreStats();
        var references = Enumerable.Range(0, 8).Select(seed => Ray.Put(ObjectStoreFixture.Doubles(HundredMiBOfDoubles, seed))).ToList();

        var spilled = Ray.GetObjectStoreStats();
        Assert.True(spilled.SpillCount > before.SpillCount, "Nothing was spilled although 800 MiB were put into a 512 MiB store.");
        Assert.True(spilled.PeakUsedBytes <= spilled.CapacityBytes);
        Assert.Contains(Ray.ListObjects(), o => o.Location == ObjectLocation.Spilled && references.Any(r => r.Id == o.Id));
        Assert.True(Directory.EnumerateFiles(spilled.SpillDirectory).Any(), "The spill directory holds no file.");

        // Every object reads back whole, from memory or from disk, in the driver and in a worker.
        for (var seed = 0; seed < references.Count; seed++)
        {
            var values = await references[seed].GetAsync().AsTask().WaitAsync(Timeout);
            AssertDoubles(values, seed);
        }

        // A task whose argument is on disk when it is dispatched reads it back itself.
        var seedOnDisk = references.FindIndex(r => Ray.ListObjects().Single(o => o.Id == r.Id).Location == ObjectLocation.Spilled);
        Assert.Equal(Expected(seedOnDisk), await StoreTasks.Remote.Sum(references[seedOnDisk]).GetAsync().AsTask().WaitAsync(Timeout));
        using (var view = await references[1].GetViewAsync().AsTask().WaitAsync(Timeout))
        {
            Assert.Equal(1.0, view[0]);
        }

        Assert.True(Ray.GetObjectStoreStats().RestoreCount > before.RestoreCount, "No spilled object was read back.");

        // Dropping the references frees memory and disk alike.
        references.Clear();
        await ObjectStoreFixture.WaitUntilAsync(
            () => Ray.GetObjectStoreStats() is var now && now.SpilledBytes == before.SpilledBytes && now.UsedBytes <= before.UsedBytes,
            "spilled and resident objects are freed");
        Assert.DoesNotContain(Directory.EnumerateFiles(Ray.GetObjectStoreStats().SpillDirectory), f => f.EndsWith(".object", StringComparison.Ordinal));
    }

    [Fact]
    public void An_object_larger_than_the_store_fails_at_once()
    {
        var error = Assert.Throws<ObjectStoreFullException>(() => Ray.Put(new byte[600 << 20]));
        Assert.Contains("larger than the whole object store", error.Message);
        Assert.Equal(ObjectStoreFixture.Capacity, error.CapacityBytes);
        Assert.True(error.RequestedBytes > 600L << 20);
    }

    [Fact]
    public async Task A_store_full_of_open_views_refuses_a_new_object_and_recovers()
    {
        var views = new List<ArrayView<double>>();
        try
        {
            // Four views pin 400 MiB: unspillable, and above the high-water mark.
            for (var seed = 0; seed < 4; seed++)
            {
                views.Add(PutAndView(Ray, seed));
            }

            var error = Assert.Throws<ObjectStoreFullException>(() => Ray.Put(new byte[150 << 20]));
            Assert.Contains("pinned", error.Message);
            Assert.Equal(ObjectStoreFixture.Capacity, error.CapacityBytes);
            Assert.True(error.UsedBytes >= 400L << 20, $"Used {error.UsedBytes}");
            Assert.Equal(4 + (150L << 20), error.RequestedBytes);
            Assert.All(views, (view, seed) => Assert.Equal(seed, view[0]));
        }
        finally
        {
            views.ForEach(v => v.Dispose());
        }

        // Nothing was lost: the node serves, and the same put fits once the views are closed.
        var fits = Ray.Put(new byte[150 << 20]);
        Assert.Equal(150 << 20, (await fits.GetAsync().AsTask().WaitAsync(Timeout)).Length);
    }

    [Fact]
    public async Task When_neither_memory_nor_disk_has_room_the_put_fails_with_the_sizes()
    {
        var held = new List<ObjectRef<byte[]>>();
        var data = new byte[Hundred];
        ObjectStoreFullException? error = null;
        for (var i = 0; i < 20 && error is null; i++)
        {
            try
            {
                held.Add(Ray.Put(data));
            }
            catch (ObjectStoreFullException e)
            {
                error = e;
            }
        }

        Assert.NotNull(error);
        Assert.Contains("ObjectSpillLimit", error.Message);
        Assert.InRange(held.Count, 12, 16);
        Assert.True(Ray.GetObjectStoreStats().SpilledBytes <= ObjectStoreFixture.SpillLimit);

        // The node still serves: objects in memory read back. A spilled one needs room in memory to come back, which
        // there is none of, so reading it fails the same clear way, and works once other objects are dropped.
        Assert.Equal(Hundred, (await held[^1].GetAsync().AsTask().WaitAsync(Timeout)).Length);
        var spilled = held.First(r => Ray.ListObjects().Single(o => o.Id == r.Id).Location == ObjectLocation.Spilled);
        await Assert.ThrowsAsync<ObjectStoreFullException>(() => spilled.GetAsync().AsTask().WaitAsync(Timeout));

        held.Clear();
        await ObjectStoreFixture.WaitUntilAsync(() => Ray.GetObjectStoreStats().SpilledBytes <= Hundred + 4096, "the other objects are freed");
        Assert.Equal(Hundred, (await spilled.GetAsync().AsTask().WaitAsync(Timeout)).Length);
        Assert.Equal(Hundred, (await Ray.Put(data).GetAsync().AsTask().WaitAsync(Timeout)).Length);
    }

    [Fact]
    public async Task A_result_too_large_for_the_store_fails_its_task_with_ObjectStoreFullException()
    {
        var result = StoreTasks.Remote.WithOptions(new TaskOptions { MaxRetries = 0 }).Make(80 << 20, 1);
        var error = await Assert.ThrowsAsync<ObjectStoreFullException>(() => result.GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains("larger than the whole object store", error.Message);
        Assert.Equal(ObjectStoreFixture.Capacity, error.CapacityBytes);
        Assert.Equal(4.0, await StoreTasks.Remote.Sum(new double[] { 1, 3 }).GetAsync().AsTask().WaitAsync(Timeout));
    }

    private static double Expected(int seed) => ObjectStoreFixture.Doubles(HundredMiBOfDoubles, seed).Sum();

    private static void AssertDoubles(double[] values, int seed)
    {
        Assert.Equal(HundredMiBOfDoubles, values.Length);
        Assert.Equal(seed, values[0]);
        Assert.Equal(((values.Length - 1) * 0.5) + seed, values[^1]);
        Assert.Equal(((values.Length / 2) * 0.5) + seed, values[values.Length / 2]);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ArrayView<double> PutAndView(RayRuntime ray, int seed) => ray.Put(ObjectStoreFixture.Doubles(HundredMiBOfDoubles, seed)).GetView(Timeout);
}
