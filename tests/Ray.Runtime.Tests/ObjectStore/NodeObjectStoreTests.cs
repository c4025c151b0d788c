using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ray.ObjectStore;
using Xunit;

namespace Ray.Runtime.Tests.ObjectStore;

/// <summary>The node's store on its own, in a directory of the test's: allocation, sealing, pins, spilling and restoring.</summary>
public sealed class NodeObjectStoreTests : IDisposable
{
    private const long Capacity = 1 << 20;

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"raygen-store-test-{Guid.NewGuid():n}");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void A_sealed_object_reads_back_and_its_memory_returns_when_freed()
    {
        using var store = Create();
        var stored = Put(store, ObjectId.New(), 1000, 7);
        Assert.True(store.TryPin(stored));
        Assert.True(store.Read(stored).Span.ToArray().All(b => b == 7));
        store.Unpin(stored);

        store.Free(stored);
        Assert.Equal(0, store.Used);
        Assert.Equal(StoredState.Freed, stored.State);
        Assert.Throws<ObjectNotFoundException>(() => store.TryPin(stored));
    }

    [Fact]
    public void A_pinned_object_keeps_its_memory_after_it_is_freed_until_unpinned()
    {
        using var store = Create();
        var stored = Put(store, ObjectId.New(), 1000, 1);
        store.Pin(stored);
        store.Free(stored);
        Assert.True(store.Used > 0);
        Assert.True(store.Read(stored).Span.ToArray().All(b => b == 1));
        store.Unpin(stored);
        Assert.Equal(0, store.Used);
    }

    [Fact]
    public void A_region_its_writer_did_not_seal_is_refused_and_returned()
    {
        using var store = Create();
        var region = store.Allocate(1000);
        store.Arena.Region(region.Offset + StoredObjectLayout.HeaderSize, 1000).Span[..500].Fill(9);
        var error = Assert.Throws<ObjectCorruptedException>(() => store.Seal(ObjectId.New(), region));
        Assert.Contains("never sealed", error.Message);
        Assert.Equal(0, store.Used);

        // A region that was never handed out cannot be sealed either.
        Assert.Throws<ObjectCorruptedException>(() => store.Seal(ObjectId.New(), new StoreRegion(4096, 100)));
    }

    [Fact]
    public void A_truncated_segment_fails_reads_clearly_and_spares_the_objects_before_it()
    {
        // A store of this test's own: the node's live one is mapped by every worker, and nothing may touch a mapping
        // past the end of its file.
        using var store = Create();
        var before = Put(store, ObjectId.New(), 100_000, 2);
        var cut = Put(store, ObjectId.New(), 100_000, 3);
        using (var file = File.OpenHandle(store.Arena.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            RandomAccess.SetLength(file, cut.Offset + 1000);
            var error = Assert.Throws<ObjectCorruptedException>(() => store.Read(cut));
            Assert.Equal(cut.Id, error.ObjectId);
            Assert.Contains("truncated", error.Message);
            Assert.Contains(store.Arena.Path, error.Message);
            Assert.True(store.Read(before).Span.ToArray().All(b => b == 2));

            // Growing the file back brings zeros, not the lost bytes: the object reads as damaged, never as data.
            RandomAccess.SetLength(file, store.Arena.Capacity);
            Assert.Contains("trailer", Assert.Throws<ObjectCorruptedException>(() => store.Read(cut)).Message);
        }
    }

    [Fact]
    public void The_least_recently_used_unpinned_objects_spill_and_come_back_on_a_pin()
    {
        using var store = Create();
        var size = (Capacity / 4) - 1024;
        var oldest = Put(store, ObjectId.New(), size, 1);
        var pinned = Put(store, ObjectId.New(), size, 2);
        store.Pin(pinned);
        var third = Put(store, ObjectId.New(), size, 3);

        // A fourth does not fit under the high-water mark (80%): the oldest unpinned object goes to disk.
        var fourth = Put(store, ObjectId.New(), size, 4);
        Assert.Equal(StoredState.Spilled, oldest.State);
        Assert.Equal(StoredState.Resident, pinned.State);
        Assert.Equal(1, store.Stats().SpilledObjects);
        Assert.True(File.Exists(oldest.SpillPath));

        // Reading it brings it back (spilling another one to make room).
        store.Pin(oldest);
        Assert.Equal(StoredState.Resident, oldest.State);
        Assert.True(store.Read(oldest).Span.ToArray().All(b => b == 1));
        store.Unpin(oldest);
        Assert.Equal(1, store.Stats().RestoreCount);
        Assert.Contains(StoredState.Spilled, new[] { third.State, fourth.State });

        // Freeing spilled objects deletes their files.
        foreach (var stored in new[] { oldest, third, fourth })
        {
            store.Free(stored);
        }

        store.Unpin(pinned);
        store.Free(pinned);
        Assert.Equal(0, store.Stats().SpilledBytes);
        Assert.Equal(0, store.Used);
        Assert.Empty(Directory.GetFiles(store.SpillDirectory, "*.object"));
    }

    [Fact]
    public void With_no_room_on_disk_a_full_store_says_so_with_the_sizes()
    {
        using var store = Create(spillLimit: 0);
        var size = (Capacity / 2) - 1024;
        Put(store, ObjectId.New(), size, 1);
        Put(store, ObjectId.New(), size, 2);
        var error = Assert.Throws<ObjectStoreFullException>(() => store.Allocate(size));
        Assert.Equal(size, error.RequestedBytes);
        Assert.Equal(Capacity, error.CapacityBytes);
        Assert.Contains("ObjectSpillLimit", error.Message);
        Assert.Contains("2 object(s)", error.Message);
    }

    /// <summary>
    /// The first object's spill file leads to <c>/dev/full</c>, where every write fails with ENOSPC as on a full disk:
    /// the spill fails, the object stays in memory and readable, and no file is left. Once its file can be written
    /// again (the failed one was removed), the next object that needs room spills it, and it reads back from disk.
    /// </summary>
    [Fact]
    public void A_spill_that_finds_the_disk_full_keeps_the_object_in_memory_and_spilling_resumes_when_it_can()
    {
        using var store = Create();
        var size = (Capacity / 4) - 1024;
        var first = ObjectId.New();
        var spillFile = Path.Combine(store.SpillDirectory, first + ".object");
        File.CreateSymbolicLink(spillFile, "/dev/full");

        // The fourth object passes the high-water mark, so the least recently used (the first) is spilled: in vain.
        var stored = new[] { first, ObjectId.New(), ObjectId.New(), ObjectId.New() }.Select((id, i) => Put(store, id, size, (byte)(i + 1))).ToList();
        Assert.All(stored, s => Assert.Equal(StoredState.Resident, s.State));
        Assert.Equal(0, store.Stats().SpillCount);
        Assert.False(File.Exists(spillFile) || new FileInfo(spillFile).LinkTarget is not null, "The failed spill left its file behind.");
        Assert.True(store.Read(stored[0]).Span.ToArray().All(b => b == 1));

        // A fifth needs memory that only spilling can free: now the first one's write succeeds (and the next one's, to
        // get back under the high-water mark).
        Put(store, ObjectId.New(), size, 5);
        Assert.Equal(StoredState.Spilled, stored[0].State);
        Assert.Equal(2, store.Stats().SpillCount);
        store.Pin(stored[0]);
        Assert.True(store.Read(stored[0]).Span.ToArray().All(b => b == 1));
        store.Unpin(stored[0]);
    }

    /// <summary>As in Ray: <c>/dev/shm</c> when it has room for the whole store, else the temporary directory, with a warning.</summary>
    [Fact]
    public void The_shared_memory_falls_back_to_the_temporary_directory_when_dev_shm_is_too_small()
    {
        var logger = new WarningsLogger();
        var options = new RayOptions { ObjectSpillDirectory = _root };
        using (var fits = ObjectStoreSettings.Create(options with { ObjectStoreMemory = 1 << 20 }, logger))
        {
            Assert.StartsWith("/dev/shm/", fits.MemoryDirectory);
        }

        Assert.Empty(logger.Warnings);

        // Pages are taken only as objects are written, so a store larger than /dev/shm costs nothing until used.
        var tooLarge = new DriveInfo("/dev/shm").AvailableFreeSpace + (1L << 30);
        using (var fallback = ObjectStoreSettings.Create(options with { ObjectStoreMemory = tooLarge }, logger))
        {
            Assert.StartsWith(Path.GetTempPath(), fallback.MemoryDirectory);
            var warning = Assert.Single(logger.Warnings);
            Assert.Contains("/dev/shm has only", warning);
            Assert.Contains(Path.GetTempPath(), warning);
        }
    }

    [Fact]
    public void Memory_pressure_collects_garbage_first_and_backs_off_when_that_frees_nothing()
    {
        using var store = Create();
        var size = (Capacity / 4) - 1024;
        var garbage = new Queue<StoredObject>();
        var collections = 0;
        store.CollectGarbage = () =>
        {
            collections++;
            while (garbage.TryDequeue(out var stored))
            {
                store.Free(stored);
            }

            return Task.CompletedTask;
        };

        // Dropped objects are freed by the collection, so nothing spills, however often the store fills up.
        for (var i = 0; i < 12; i++)
        {
            garbage.Enqueue(Put(store, ObjectId.New(), size, 1));
        }

        Assert.Equal(0, store.Stats().SpillCount);
        Assert.True(collections >= 3, $"{collections} collections");

        // With every object in use, a collection frees nothing; the next puts spill without collecting again at once.
        var live = Enumerable.Range(0, 8).Select(_ => Put(store, ObjectId.New(), size, 2)).ToList();
        var afterFruitless = collections;
        Put(store, ObjectId.New(), size, 3);
        Assert.Equal(afterFruitless, collections);
        Assert.True(store.Stats().SpillCount > 0);
        GC.KeepAlive(live);
    }

    [Fact]
    public void A_new_store_deletes_the_directories_of_stores_whose_node_is_gone()
    {
        Directory.CreateDirectory(_root);
        var abandoned = Path.Combine(_root, "raygen-999999-deadnode");
        Directory.CreateDirectory(abandoned);
        File.WriteAllText(Path.Combine(abandoned, "node.lock"), "999999 12345");
        File.WriteAllText(Path.Combine(abandoned, "objects"), "left behind");

        using var live = Create();
        using var other = Create();
        Assert.False(Directory.Exists(abandoned));

        // A running store's directory is locked, so another store leaves it alone.
        Assert.True(Directory.Exists(live.MemoryDirectory));
        Assert.True(Directory.Exists(other.MemoryDirectory));
        live.Dispose();
        Assert.False(Directory.Exists(live.MemoryDirectory));
    }

    private static StoredObject Put(NodeObjectStore store, ObjectId id, long size, byte fill)
    {
        var region = store.Allocate(size);
        store.Arena.Region(region.Offset + StoredObjectLayout.HeaderSize, (int)size).Span.Fill(fill);
        store.Arena.Seal(region.Offset, id, size);
        return store.Seal(id, region);
    }

    private NodeObjectStore Create(long? spillLimit = null) =>
        new(Capacity, 0.8, _root, _root, spillLimit, Guid.NewGuid().ToString("n")[..12], NullLogger.Instance);

    private sealed class WarningsLogger : ILogger
    {
        public List<string> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Warning)
            {
                Warnings.Add(formatter(state, exception));
            }
        }
    }
}
