using System.Runtime.CompilerServices;
using Xunit;

namespace Ray.Runtime.Tests.ObjectStore;

/// <summary>
/// An object is freed when no reference to it remains: no live <see cref="ObjectRef"/> in any process, no pending
/// task that uses it, no object holding it, no open view. Memory stays within the store's capacity.
/// </summary>
[Collection(ObjectStoreCollection.Name)]
public sealed class ObjectLifetimeTests(ObjectStoreFixture fixture)
{
    private const int Large = 1 << 20; // doubles: 8 MiB

    private static readonly TimeSpan Timeout = ObjectStoreFixture.Timeout;

    private RayRuntime Ray => fixture.Ray;

    [Fact]
    public async Task Putting_and_dropping_100_MiB_a_thousand_times_stays_within_the_store()
    {
        var data = new byte[100 << 20];
        data[0] = 1;
        data[^1] = 2;
        await fixture.SettledUsedBytesAsync();
        var before = Ray.GetObjectStoreStats();

        for (var i = 0; i < 1000; i++)
        {
            PutAndDrop(Ray, data);
        }

        var after = Ray.GetObjectStoreStats();
        Assert.True(after.PeakUsedBytes <= after.CapacityBytes, $"Peak use {after.PeakUsedBytes} exceeds the capacity {after.CapacityBytes}.");

        // Dropped objects are freed, in memory and on disk. A put may spill one that its collection has not released in
        // time (the store waits a bounded while for that, then spills: how many depends on the machine's load), but a
        // spilled object that nothing references is deleted too, so nothing stays.
        await ObjectStoreFixture.WaitUntilAsync(
            () => Ray.GetObjectStoreStats() is var now && now.UsedBytes <= before.UsedBytes && now.SpilledObjects <= before.SpilledObjects,
            "every dropped object is freed, in memory and on disk");
    }

    [Fact]
    public async Task Workers_putting_and_dropping_large_objects_stay_within_the_store()
    {
        await fixture.SettledUsedBytesAsync();
        var before = Ray.GetObjectStoreStats();

        // 4 tasks x 100 x 20 MiB: 8 GiB through a 512 MiB store. The store asks the workers to collect their garbage
        // and waits for their releases, so dropped objects are freed rather than spilled.
        var puts = Enumerable.Range(0, 4).Select(_ => StoreTasks.Remote.PutAndDrop(20 << 20, 100)).ToList();
        Assert.All(await Ray.GetAsync(puts).WaitAsync(Timeout), count => Assert.Equal(100, count));

        var after = Ray.GetObjectStoreStats();
        Assert.True(after.PeakUsedBytes <= after.CapacityBytes);
        Assert.Equal(before.SpillCount, after.SpillCount);

        // What idle workers still hold as garbage goes as soon as the room is needed: a put of most of the store fits
        // without spilling anything.
        var large = Ray.Put(new byte[400 << 20]);
        Assert.Equal(before.SpillCount, Ray.GetObjectStoreStats().SpillCount);
        GC.KeepAlive(large);
    }

    [Fact]
    public async Task A_dropped_reference_frees_its_object()
    {
        var id = PutAndForget(Ray, ObjectStoreFixture.Doubles(Large));
        await ObjectStoreFixture.WaitUntilAsync(() => Ray.ListObjects().All(o => o.Id != id), "the object is freed");
    }

    [Fact]
    public async Task A_pending_task_keeps_its_argument_alive()
    {
        var started = await fixture.SettledUsedBytesAsync();
        using var gate = new Gate();
        var (id, task) = SubmitHoldingOnly(Ray, ObjectStoreFixture.Doubles(Large), gate.Path);

        // The driver dropped its reference; the task, held until released, still uses the object.
        await ObjectStoreFixture.WaitUntilAsync(() => Ray.ListObjects().Single(o => o.Id == id).LocalReferences == 0, "the driver's reference is released");
        Assert.Equal(1, Ray.ListObjects().Single(o => o.Id == id).TaskReferences);

        gate.Release(1);
        Assert.Equal(Large, await task.GetAsync().AsTask().WaitAsync(Timeout));
        await ObjectStoreFixture.WaitUntilAsync(() => Ray.ListObjects().All(o => o.Id != id), "the argument is freed once the task is done");
        await ObjectStoreFixture.WaitUntilAsync(() => Ray.GetObjectStoreStats().UsedBytes <= started, "its memory is free again");
    }

    [Fact]
    public async Task An_open_view_keeps_the_memory_until_it_is_disposed()
    {
        var baseline = await fixture.SettledUsedBytesAsync();
        var (id, view) = ViewAndForget(Ray, ObjectStoreFixture.Doubles(Large, 23));

        // No reference is left, so the object is gone from the table; its bytes stay readable while the view is open.
        await ObjectStoreFixture.WaitUntilAsync(() => Ray.ListObjects().All(o => o.Id != id), "the object leaves the table");
        Assert.True(Ray.GetObjectStoreStats().UsedBytes > baseline);
        Assert.True(view.Span.SequenceEqual(ObjectStoreFixture.Doubles(Large, 23)));

        view.Dispose();
        Assert.Throws<ObjectDisposedException>(() => view.Span.Length);
        Assert.Equal(baseline, Ray.GetObjectStoreStats().UsedBytes);
    }

    [Fact]
    public async Task A_worker_holding_a_reference_keeps_the_object_until_it_lets_go()
    {
        var keeper = ArrayKeeper.Remote(new double[1]);
        var id = await KeepOnlyInActor(Ray, keeper, ObjectStoreFixture.Doubles(Large, 29));

        await ObjectStoreFixture.WaitUntilAsync(() => Ray.ListObjects().Single(o => o.Id == id).LocalReferences == 0, "the driver's reference is released");
        var info = Ray.ListObjects().Single(o => o.Id == id);
        Assert.Equal(1, info.BorrowingWorkers);
        Assert.Equal(ObjectStoreFixture.Doubles(Large, 29).Sum(), await keeper.SumKept().GetAsync().AsTask().WaitAsync(Timeout));

        await keeper.Forget().GetAsync().AsTask().WaitAsync(Timeout);
        await ObjectStoreFixture.WaitUntilAsync(() => Ray.ListObjects().All(o => o.Id != id), "the worker's release frees the object");
        Ray.Kill(keeper);
    }

    [Fact]
    public async Task An_object_holding_references_keeps_them_alive()
    {
        var (outer, innerId) = NestOnly(Ray, ObjectStoreFixture.Doubles(Large, 31));

        await ObjectStoreFixture.WaitUntilAsync(() => Ray.ListObjects().Single(o => o.Id == innerId).LocalReferences == 0, "the inner reference is released");
        Assert.Equal(1, Ray.ListObjects().Single(o => o.Id == innerId).ContainedIn);

        var inner = (await outer.GetAsync().AsTask().WaitAsync(Timeout)).Single();
        Assert.Equal(ObjectStoreFixture.Doubles(Large, 31), await inner.GetAsync().AsTask().WaitAsync(Timeout));
        GC.KeepAlive(inner);

        var outerId = outer.Id;
        outer = null!;
        inner = null!;
        await ObjectStoreFixture.WaitUntilAsync(() => Ray.ListObjects().All(o => o.Id != outerId && o.Id != innerId), "both objects are freed");
    }

    [Fact]
    public async Task A_dead_worker_gives_back_what_it_held_and_was_writing()
    {
        var baseline = await fixture.SettledUsedBytesAsync();
        var marker = Path.Combine(Path.GetTempPath(), $"raygen-test-{Guid.NewGuid():n}");
        try
        {
            var forever = StoreTasks.Remote.WithOptions(new TaskOptions { MaxRetries = 0 }).PutForever(marker);
            await ObjectStoreFixture.WaitUntilAsync(() => File.Exists(marker) && File.ReadAllText(marker).Length > 0, "the task has put objects");
            Assert.True(Ray.GetObjectStoreStats().UsedBytes > baseline);

            var pid = int.Parse(File.ReadAllText(marker));
            System.Diagnostics.Process.GetProcessById(pid).Kill();
            await Assert.ThrowsAsync<WorkerDiedException>(() => forever.GetAsync().AsTask().WaitAsync(Timeout));
            await ObjectStoreFixture.WaitUntilAsync(() => Ray.GetObjectStoreStats().UsedBytes <= baseline, "the dead worker's objects and regions are given back");
        }
        finally
        {
            File.Delete(marker);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void PutAndDrop(RayRuntime ray, byte[] data) => ray.Put(data);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ObjectId PutAndForget(RayRuntime ray, double[] data) => ray.Put(data).Id;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (ObjectId, ObjectRef<int>) SubmitHoldingOnly(RayRuntime ray, double[] data, string gate)
    {
        var stored = ray.Put(data);
        return (stored.Id, StoreTasks.Remote.HoldUntilReleased(stored, gate));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (ObjectId, ArrayView<double>) ViewAndForget(RayRuntime ray, double[] data)
    {
        var stored = ray.Put(data);
        return (stored.Id, stored.GetView(Timeout));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<ObjectId> KeepOnlyInActor(RayRuntime ray, ActorHandle<ArrayKeeper> keeper, double[] data)
    {
        var stored = ray.Put(data);
        await keeper.Keep(new List<ObjectRef<double[]>> { stored }).GetAsync().AsTask().WaitAsync(Timeout);
        return stored.Id;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (ObjectRef<List<ObjectRef<double[]>>>, ObjectId) NestOnly(RayRuntime ray, double[] data)
    {
        var inner = ray.Put(data);
        return (ray.Put(new List<ObjectRef<double[]>> { inner }), inner.Id);
    }
}
