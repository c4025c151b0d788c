using Ray.Core;
using Ray.Raylet;
using Ray.Runtime.Protocol;
using Xunit;

namespace Ray.Runtime.Tests.ObjectStore;

/// <summary>
/// Bad input to the object store gets a clear error and loses nothing: a missing object, a corrupted
/// segment, a damaged spilled copy, a region a worker was never given.
/// </summary>
[Collection(ObjectStoreCollection.Name)]
public sealed class ObjectStoreBadInputTests(ObjectStoreFixture fixture)
{
    private const int Large = 1 << 20; // doubles: 8 MiB

    private static readonly TimeSpan Timeout = ObjectStoreFixture.Timeout;

    private RayRuntime Ray => fixture.Ray;

    private RayletNode Node => Ray.Node!;

    [Fact]
    public async Task A_reference_to_an_object_that_does_not_exist_fails_clearly()
    {
        var missing = ObjectRef<double[]>.Create(ObjectId.New(), null);

        var error = Assert.Throws<ObjectNotFoundException>(() => missing.Get(Timeout));
        Assert.Equal(missing.Id, error.ObjectId);
        Assert.Contains(missing.Id.ToString(), error.Message);
        Assert.Throws<ObjectNotFoundException>(() => missing.GetView(Timeout));

        // Inside a task, the same error reaches the caller.
        var inTask = await Assert.ThrowsAsync<ObjectNotFoundException>(
            () => StoreTasks.Remote.SumThroughReference(new List<ObjectRef<double[]>> { missing }).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(missing.Id, inTask.ObjectId);

        // As a task's argument, it fails the task without running it.
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => StoreTasks.Remote.Sum(missing).GetAsync().AsTask().WaitAsync(Timeout));
        await AssertStoreServesAsync();
    }

    [Fact]
    public async Task A_corrupted_segment_fails_clearly_in_the_driver_and_in_tasks()
    {
        var stored = Ray.Put(ObjectStoreFixture.Doubles(Large));
        var offset = OffsetOf(stored.Id);

        WriteArena(offset + 8, [0xde, 0xad, 0xbe, 0xef]);
        var error = Assert.Throws<ObjectCorruptedException>(() => stored.Get(Timeout));
        Assert.Equal(stored.Id, error.ObjectId);
        Assert.Contains("header", error.Message);
        Assert.Throws<ObjectCorruptedException>(() => stored.GetView(Timeout));
        var inTask = await Assert.ThrowsAsync<ObjectCorruptedException>(() => StoreTasks.Remote.Sum(stored).GetAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains("header", inTask.Message);

        // A damaged trailer (an object written past its end) is caught too.
        var other = Ray.Put(ObjectStoreFixture.Doubles(Large));
        var trailer = OffsetOf(other.Id) + 60 + 4 + (Large * 8L);
        WriteArena(trailer, [0, 0, 0, 0]);
        Assert.Contains("trailer", Assert.Throws<ObjectCorruptedException>(() => other.Get(Timeout)).Message);
        await AssertStoreServesAsync();
    }

    [Fact]
    public async Task A_spilled_copy_that_is_missing_or_truncated_fails_clearly()
    {
        var (missing, truncated, fillers) = SpillTwo();
        File.Delete(SpillFile(missing.Id));
        var gone = Assert.Throws<ObjectCorruptedException>(() => missing.Get(Timeout));
        Assert.Contains("missing", gone.Message);

        using (var file = File.OpenHandle(SpillFile(truncated.Id), FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(file, 1000);
        }

        Assert.Contains("truncated", Assert.Throws<ObjectCorruptedException>(() => truncated.Get(Timeout)).Message);
        fillers.Clear();
        await AssertStoreServesAsync();
    }

    [Fact]
    public async Task A_region_a_worker_was_not_given_is_refused_and_the_node_keeps_serving()
    {
        var forger = new WorkerHandle(processId: 1, index: 99, WorkerKind.Task, JobId.Embedded);
        var id = ObjectId.New();
        Node.ObjectManager.Handle(forger, new WorkerMessage
        {
            Put = new PutObject { Id = id.ToProto(), Stored = new StoreLocation { Id = id.ToProto(), Offset = 0, Size = 1000 } },
        });

        var forged = ObjectRef<byte[]>.Create(id, null);
        var error = Assert.Throws<ObjectCorruptedException>(() => forged.Get(Timeout));
        Assert.Contains("it was not given", error.Message);

        // A read of an unknown object, and the release of a pin never taken, are answered or ignored.
        Node.ObjectManager.Handle(forger, new WorkerMessage { Read = new ReadObject { RequestId = 1, Id = ObjectId.New().ToProto() } });
        Node.ObjectManager.Handle(forger, new WorkerMessage { ReleaseRead = new ReleaseRead { Id = id.ToProto() } });
        Node.ObjectManager.Handle(forger, new WorkerMessage { AbortAllocation = new AbortAllocation { Offset = 0, Size = 1000 } });
        Node.ObjectManager.RemoveWorker(forger, null);
        await AssertStoreServesAsync();
    }

    [Fact]
    public async Task Inside_a_task_the_object_listing_and_store_stats_are_those_of_its_node()
    {
        var data = Ray.Put(new double[40_000]);
        Assert.True(await StoreTasks.Remote.ListsItsArgumentInside(data).GetAsync().AsTask().WaitAsync(Timeout));
    }

    private void WriteArena(long offset, byte[] bytes)
    {
        using var file = File.OpenHandle(Node.Store.Arena.Path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        RandomAccess.Write(file, bytes, offset);
    }

    private async Task AssertStoreServesAsync()
    {
        var data = ObjectStoreFixture.Doubles(Large, 41);
        Assert.Equal(data.Sum(), await StoreTasks.Remote.Sum(Ray.Put(data)).GetAsync().AsTask().WaitAsync(Timeout));
    }

    private long OffsetOf(ObjectId id)
    {
        Assert.True(Node.Objects.TryGet(id, out var entry));
        return entry.Stored!.Offset;
    }

    private string SpillFile(ObjectId id) => Path.Combine(Ray.GetObjectStoreStats().SpillDirectory, id + ".object");

    /// <summary>Puts two objects, then enough others that both are spilled; returns them and the others, to hold.</summary>
    private (ObjectRef<double[]>, ObjectRef<double[]>, List<ObjectRef<byte[]>>) SpillTwo()
    {
        var first = Ray.Put(ObjectStoreFixture.Doubles(Large, 1));
        var second = Ray.Put(ObjectStoreFixture.Doubles(Large, 2));
        var fillers = new List<ObjectRef<byte[]>>();
        var filler = new byte[64 << 20];
        while (!File.Exists(SpillFile(first.Id)) || !File.Exists(SpillFile(second.Id)))
        {
            Assert.True(fillers.Count < 20, "The two objects were never spilled.");
            fillers.Add(Ray.Put(filler));
        }

        return (first, second, fillers);
    }
}
