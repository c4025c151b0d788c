using System.Globalization;
using Microsoft.Extensions.Logging;
using Ray.Core;

namespace Ray.ObjectStore;

/// <summary>
/// The node's shared-memory object store (Ray's plasma store): hands out regions of the arena for new objects,
/// seals them, pins them while they are read, spills the least recently used unpinned objects to disk when memory
/// passes the high-water mark, restores them on the next read, and frees them when their last reference is gone.
/// When neither memory nor disk has room, <see cref="Allocate"/> throws <see cref="ObjectStoreFullException"/> with
/// the sizes involved; nothing is lost and the node keeps running. Disk I/O runs outside the lock.
/// </summary>
internal sealed class NodeObjectStore : IDisposable
{
    /// <summary>The largest payload one object may have: a span over it is indexed by an int.</summary>
    public const long MaxPayloadSize = int.MaxValue - (2 * StoredObjectLayout.Alignment);

    /// <summary>How long a full store waits for other processes to drop references before it gives up.</summary>
    private static readonly TimeSpan FullRetryWindow = TimeSpan.FromSeconds(2);

    /// <summary>
    /// After collections that freed nothing (the store is full of objects in use), the next one waits this long, so
    /// that a large heap is not collected on every put; after one that freed memory, the next may come at once.
    /// </summary>
    private const long FruitlessReclaimBackoffMs = 1000;

    /// <summary>How many collections in a row must free nothing before the store backs off.</summary>
    private const int FruitlessReclaimsBeforeBackoff = 2;

    /// <summary>How long a collection may take before the store spills instead of waiting for the workers' releases.</summary>
    private static readonly TimeSpan ReclaimTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Spilling stops while the spill disk has less than this fraction of its size free (as in Ray).</summary>
    private const double DiskReserveFraction = 0.05;

    private readonly object _lock = new();
    private readonly ArenaAllocator _allocator;
    private readonly Dictionary<long, long> _pending = [];
    private readonly HashSet<StoredObject> _resident = [];
    private readonly NodeDirectory _memoryDirectory;
    private readonly NodeDirectory _spillDirectory;
    private readonly long? _spillLimit;
    private readonly ILogger _logger;
    private long _spilledBytes;
    private long _spilledObjects;
    private long _peakUsed;
    private long _spillCount;
    private long _restoreCount;
    private readonly object _reclaimLock = new();
    private Task? _reclaim;
    private long _lastFruitlessReclaim = long.MinValue / 2;
    private int _fruitlessReclaims;
    private long _freedBytes;

    public NodeObjectStore(long capacity, double spillThreshold, string memoryRoot, string spillRoot, long? spillLimit, string nodeId, ILogger logger)
    {
        _logger = logger;
        _spillLimit = spillLimit;
        NodeDirectory.DeleteStale(memoryRoot, logger);
        if (spillRoot != memoryRoot)
        {
            NodeDirectory.DeleteStale(spillRoot, logger);
        }

        Capacity = capacity / StoredObjectLayout.Alignment * StoredObjectLayout.Alignment;
        HighWater = (long)(Capacity * spillThreshold);
        _memoryDirectory = NodeDirectory.Create(memoryRoot, nodeId, string.Empty);
        _spillDirectory = NodeDirectory.Create(spillRoot, nodeId, "-spill");
        try
        {
            Arena = SharedMemoryArena.Create(Path.Combine(_memoryDirectory.Path, "objects"), Math.Max(Capacity, StoredObjectLayout.Alignment));
        }
        catch
        {
            _memoryDirectory.Dispose();
            _spillDirectory.Dispose();
            throw;
        }

        _allocator = new ArenaAllocator(Capacity);
    }

    public SharedMemoryArena Arena { get; }

    /// <summary>Bytes of shared memory objects may use.</summary>
    public long Capacity { get; }

    /// <summary>Above this many bytes in use, new objects make older ones spill to disk.</summary>
    public long HighWater { get; }

    /// <summary>The directory holding the arena.</summary>
    public string MemoryDirectory => _memoryDirectory.Path;

    /// <summary>The directory spilled objects are written to.</summary>
    public string SpillDirectory => _spillDirectory.Path;

    /// <summary>
    /// Frees what garbage holds: forces a collection in the driver (so dropped <see cref="ObjectRef"/>s release their
    /// objects) and asks the workers to do the same; the task completes when the workers' releases have arrived.
    /// Set by the node.
    /// </summary>
    public Func<Task>? CollectGarbage { get; set; }

    /// <summary>Takes a region for a new object of <paramref name="payloadSize"/> bytes, making room if it must.</summary>
    /// <exception cref="ObjectStoreFullException">The object is larger than the store, or no room could be made.</exception>
    public StoreRegion Allocate(long payloadSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadSize);
        var size = StoredObjectLayout.RegionSize(payloadSize);
        if (payloadSize > MaxPayloadSize || size > Capacity)
        {
            var limit = payloadSize > MaxPayloadSize ? $"the largest object the store takes ({ByteSize.Format(MaxPayloadSize)})" : $"the whole object store ({ByteSize.Format(Capacity)})";
            throw new ObjectStoreFullException(
                $"An object of {ByteSize.Format(payloadSize)} is larger than {limit}; it can never be stored. " +
                "Split it into smaller objects, or raise RayOptions.ObjectStoreMemory.",
                payloadSize,
                Capacity,
                Used);
        }

        if (TryAllocate(payloadSize, HighWater, out var region))
        {
            return region;
        }

        Reclaim();
        if (TryAllocate(payloadSize, HighWater, out region))
        {
            return region;
        }

        Spill(size);
        if (TryAllocate(payloadSize, Capacity, out region))
        {
            return region;
        }

        // Objects held only by garbage in worker processes go once the workers have collected it: wait for memory to
        // be freed (each free wakes the waiters), spilling again between waits, for a bounded time.
        var deadline = Environment.TickCount64 + (long)FullRetryWindow.TotalMilliseconds;
        while (Environment.TickCount64 is var now && now < deadline)
        {
            lock (_lock)
            {
                if (TryAllocate(payloadSize, Capacity, out region))
                {
                    return region;
                }

                Monitor.Wait(_lock, TimeSpan.FromMilliseconds(Math.Clamp(deadline - now, 1, 100)));
            }

            Spill(size);
            if (TryAllocate(payloadSize, Capacity, out region))
            {
                return region;
            }
        }

        throw Full(payloadSize);
    }

    /// <summary>Gives back a region that was never sealed (its writer failed); unknown regions are ignored.</summary>
    public void Abort(StoreRegion region)
    {
        lock (_lock)
        {
            if (_pending.Remove(region.Offset, out var payloadSize) && payloadSize == region.PayloadSize)
            {
                FreeRegion(region.Offset, region.Size);
            }
        }
    }

    /// <summary>Makes the object in <paramref name="region"/> readable, after checking that its writer sealed it as <paramref name="id"/>.</summary>
    /// <exception cref="ObjectCorruptedException">The region was not handed out, or does not hold the sealed object.</exception>
    public StoredObject Seal(ObjectId id, StoreRegion region)
    {
        lock (_lock)
        {
            if (!_pending.TryGetValue(region.Offset, out var payloadSize) || payloadSize != region.PayloadSize)
            {
                throw new ObjectCorruptedException(id, $"its region (offset {region.Offset}, {region.PayloadSize} bytes) was not handed out by this store for a new object");
            }

            _pending.Remove(region.Offset);
        }

        if (Arena.Check(region.Offset, id, region.PayloadSize) is { } problem)
        {
            lock (_lock)
            {
                FreeRegion(region.Offset, region.Size);
            }

            throw new ObjectCorruptedException(id, problem);
        }

        var stored = new StoredObject(id, region.PayloadSize)
        {
            Offset = region.Offset,
            State = StoredState.Resident,
            LastUsed = Environment.TickCount64,
        };
        lock (_lock)
        {
            _resident.Add(stored);
        }

        return stored;
    }

    /// <summary>Pins the object if it is in memory now; false if it must be restored from disk first.</summary>
    public bool TryPin(StoredObject stored)
    {
        lock (_lock)
        {
            if (stored.State is StoredState.Resident or StoredState.Spilling)
            {
                stored.Pins++;
                stored.LastUsed = Environment.TickCount64;
                return true;
            }

            return stored.State == StoredState.Freed ? throw new ObjectNotFoundException(stored.Id) : false;
        }
    }

    /// <summary>Pins the object, restoring it from disk first if it was spilled; blocks meanwhile.</summary>
    public void Pin(StoredObject stored)
    {
        while (!TryPin(stored))
        {
            var wait = StartOrJoinRestore(stored, out var restore);
            if (restore is not null)
            {
                Restore(stored, restore);
            }

            // Rethrows a failed restore's error, whoever did it.
            wait.GetAwaiter().GetResult();
        }
    }

    /// <summary>Pins the object, restoring it from disk (on the thread pool) first if it was spilled.</summary>
    public async ValueTask PinAsync(StoredObject stored, CancellationToken cancellationToken)
    {
        while (!TryPin(stored))
        {
            var wait = StartOrJoinRestore(stored, out var restore);
            if (restore is not null)
            {
                await Task.Run(() => Restore(stored, restore), CancellationToken.None).ConfigureAwait(false);
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Ends one pin; the region goes back to the free list if the object was freed meanwhile.</summary>
    public void Unpin(StoredObject stored)
    {
        lock (_lock)
        {
            if (stored.Pins <= 0)
            {
                return;
            }

            stored.Pins--;
            if (stored.Pins == 0 && stored.FreeRequested && stored.State == StoredState.Resident)
            {
                ReleaseRegion(stored);
            }
        }
    }

    /// <summary>The object's last reference is gone: release its memory (once unpinned) or its spilled copy.</summary>
    public void Free(StoredObject stored)
    {
        string? spillFile = null;
        lock (_lock)
        {
            if (stored.FreeRequested)
            {
                return;
            }

            stored.FreeRequested = true;
            switch (stored.State)
            {
                case StoredState.Resident:
                    _resident.Remove(stored);
                    if (stored.Pins == 0)
                    {
                        ReleaseRegion(stored);
                    }

                    break;
                case StoredState.Spilled:
                    spillFile = stored.SpillPath;
                    ForgetSpilled(stored);
                    stored.State = StoredState.Freed;
                    break;

                // A spill or a restore in progress sees the request when it ends.
            }
        }

        DeleteQuietly(spillFile);
    }

    /// <summary>The payload of a pinned object, read in place.</summary>
    public ReadOnlyMemory<byte> Read(StoredObject stored) => Arena.Read(stored.Offset, stored.Id, stored.PayloadSize);

    /// <summary>Bytes of shared memory in use (objects and regions being written).</summary>
    public long Used
    {
        get
        {
            lock (_lock)
            {
                return _allocator.Used;
            }
        }
    }

    public ObjectStoreStats Stats()
    {
        lock (_lock)
        {
            return new ObjectStoreStats
            {
                CapacityBytes = Capacity,
                HighWaterBytes = HighWater,
                UsedBytes = _allocator.Used,
                PeakUsedBytes = _peakUsed,
                ObjectsInMemory = _resident.Count,
                SpilledBytes = _spilledBytes,
                SpilledObjects = _spilledObjects,
                SpillCount = _spillCount,
                RestoreCount = _restoreCount,
                MemoryDirectory = _memoryDirectory.Path,
                SpillDirectory = _spillDirectory.Path,
            };
        }
    }

    public void Dispose()
    {
        try
        {
            Arena.Dispose();
        }
        finally
        {
            DeleteFiles();
        }
    }

    /// <summary>Deletes the store's shared memory and spill files (a mapping already made stays valid until it is closed).</summary>
    public void DeleteFiles()
    {
        _memoryDirectory.Dispose();
        _spillDirectory.Dispose();
    }

    private static void DeleteQuietly(string? path)
    {
        if (path is null)
        {
            return;
        }

        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The spill directory goes with the node.
        }
    }

    private bool TryAllocate(long payloadSize, long limit, out StoreRegion region)
    {
        var size = StoredObjectLayout.RegionSize(payloadSize);
        lock (_lock)
        {
            if (_allocator.Used + size <= limit && _allocator.TryAllocate(size, out var offset))
            {
                _pending[offset] = payloadSize;
                _peakUsed = Math.Max(_peakUsed, _allocator.Used);
                region = new StoreRegion(offset, payloadSize);
                return true;
            }
        }

        region = default;
        return false;
    }

    /// <summary>Collects garbage everywhere, or joins a collection in progress, and waits (a bounded time) for it.</summary>
    private void Reclaim()
    {
        Task running;
        lock (_reclaimLock)
        {
            if (CollectGarbage is not { } collect || Environment.TickCount64 - _lastFruitlessReclaim < FruitlessReclaimBackoffMs)
            {
                return;
            }

            running = _reclaim ??= Task.Run(() => RunReclaim(collect));
        }

        running.Wait(ReclaimTimeout * 2);
    }

    private void RunReclaim(Func<Task> collect)
    {
        try
        {
            var freedBefore = Interlocked.Read(ref _freedBytes);

            // Objects that are garbage in some process are freed rather than spilled, so wait (a bounded time) for them.
            collect().Wait(ReclaimTimeout);
            var fruitless = Interlocked.Read(ref _freedBytes) == freedBefore;
            lock (_reclaimLock)
            {
                _fruitlessReclaims = fruitless ? _fruitlessReclaims + 1 : 0;
                if (_fruitlessReclaims >= FruitlessReclaimsBeforeBackoff)
                {
                    _lastFruitlessReclaim = Environment.TickCount64;
                    _fruitlessReclaims = 0;
                }
            }
        }
        finally
        {
            lock (_reclaimLock)
            {
                _reclaim = null;
            }
        }
    }

    /// <summary>Spills least recently used unpinned objects until <paramref name="size"/> more bytes fit under the high-water mark.</summary>
    private void Spill(long size)
    {
        var victims = new List<StoredObject>();
        lock (_lock)
        {
            var needed = Math.Max(_allocator.Used + size - HighWater, _allocator.LargestFree >= size ? 0 : size);
            if (needed <= 0)
            {
                return;
            }

            var room = SpillRoom() - _spilledBytes;
            foreach (var candidate in _resident.Where(o => o.Pins == 0).OrderBy(o => o.LastUsed).ToList())
            {
                if (needed <= 0 || room < candidate.RegionSize)
                {
                    break;
                }

                candidate.State = StoredState.Spilling;
                _resident.Remove(candidate);
                victims.Add(candidate);
                needed -= candidate.RegionSize;
                room -= candidate.RegionSize;
            }
        }

        foreach (var victim in victims)
        {
            SpillOne(victim);
        }
    }

    private void SpillOne(StoredObject victim)
    {
        var path = Path.Combine(_spillDirectory.Path, victim.Id + ".object");
        try
        {
            using var file = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.None, FileOptions.None, victim.RegionSize);
            RandomAccess.Write(file, Arena.Span(victim.Offset, victim.RegionSize), 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Could not spill object {Id} ({Size}) to {Path}: {Reason}", victim.Id, ByteSize.Format(victim.PayloadSize), path, e.Message);
            DeleteQuietly(path);
            path = null;
        }

        lock (_lock)
        {
            if (path is not null && victim.Pins == 0 && !victim.FreeRequested)
            {
                FreeRegion(victim.Offset, victim.RegionSize);
                victim.Offset = -1;
                victim.SpillPath = path;
                victim.State = StoredState.Spilled;
                _spilledBytes += victim.RegionSize;
                _spilledObjects++;
                _spillCount++;
                return;
            }

            // Pinned or freed while it was written (or the write failed): it stays in memory, or goes.
            victim.State = StoredState.Resident;
            if (!victim.FreeRequested)
            {
                _resident.Add(victim);
            }
            else if (victim.Pins == 0)
            {
                ReleaseRegion(victim);
            }
        }

        DeleteQuietly(path);
    }

    /// <summary>Returns a task to wait for, and <paramref name="restore"/> set when the caller must do the restore itself.</summary>
    private Task StartOrJoinRestore(StoredObject stored, out TaskCompletionSource? restore)
    {
        lock (_lock)
        {
            restore = null;
            switch (stored.State)
            {
                case StoredState.Spilled:
                    restore = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    stored.State = StoredState.Restoring;
                    stored.Restoring = restore.Task;
                    return restore.Task;
                case StoredState.Restoring:
                    return stored.Restoring!;
                case StoredState.Freed:
                    throw new ObjectNotFoundException(stored.Id);
                default:
                    return Task.CompletedTask;
            }
        }
    }

    private void Restore(StoredObject stored, TaskCompletionSource restore)
    {
        StoreRegion? region = null;
        try
        {
            region = Allocate(stored.PayloadSize);
            var target = Arena.Span(region.Value.Offset, stored.RegionSize);
            using (var file = File.OpenHandle(stored.SpillPath!, FileMode.Open, FileAccess.Read))
            {
                var length = RandomAccess.GetLength(file);
                if (length != stored.RegionSize || RandomAccess.Read(file, target, 0) != target.Length)
                {
                    throw new ObjectCorruptedException(stored.Id, $"its spilled copy '{stored.SpillPath}' holds {length} bytes, not {stored.RegionSize} (truncated)");
                }
            }

            if (Arena.Check(region.Value.Offset, stored.Id, stored.PayloadSize) is { } problem)
            {
                throw new ObjectCorruptedException(stored.Id, $"its spilled copy '{stored.SpillPath}' is damaged: {problem}");
            }

            string? spillFile;
            lock (_lock)
            {
                _pending.Remove(region.Value.Offset);
                spillFile = stored.SpillPath;
                ForgetSpilled(stored);
                stored.Offset = region.Value.Offset;
                stored.State = StoredState.Resident;
                stored.LastUsed = Environment.TickCount64;
                _restoreCount++;
                if (stored.FreeRequested)
                {
                    ReleaseRegion(stored);
                }
                else
                {
                    _resident.Add(stored);
                }
            }

            DeleteQuietly(spillFile);
            restore.TrySetResult();
        }
        catch (Exception e)
        {
            var path = stored.SpillPath;
            if (region is { } allocated)
            {
                Abort(allocated);
            }

            string? spillFile = null;
            lock (_lock)
            {
                stored.State = StoredState.Spilled;
                if (stored.FreeRequested)
                {
                    spillFile = stored.SpillPath;
                    ForgetSpilled(stored);
                    stored.State = StoredState.Freed;
                }
            }

            DeleteQuietly(spillFile);
            restore.TrySetException(e is FileNotFoundException or DirectoryNotFoundException
                ? new ObjectCorruptedException(stored.Id, $"its spilled copy '{path}' is missing")
                : e);
        }
    }

    private void ForgetSpilled(StoredObject stored)
    {
        _spilledBytes -= stored.RegionSize;
        _spilledObjects--;
        stored.SpillPath = null;
    }

    private void ReleaseRegion(StoredObject stored)
    {
        FreeRegion(stored.Offset, stored.RegionSize);
        Interlocked.Add(ref _freedBytes, stored.RegionSize);
        stored.Offset = -1;
        stored.State = StoredState.Freed;
    }

    /// <summary>Returns a region to the free list (under the lock) and wakes allocations waiting for room.</summary>
    private void FreeRegion(long offset, long size)
    {
        _allocator.Free(offset, size);
        Monitor.PulseAll(_lock);
    }

    /// <summary>How many bytes the spill directory may hold in all: its limit, or what its disk has free beyond the reserve.</summary>
    private long SpillRoom()
    {
        long disk;
        try
        {
            var drive = new DriveInfo(_spillDirectory.Path);
            disk = _spilledBytes + drive.AvailableFreeSpace - (long)(drive.TotalSize * DiskReserveFraction);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            disk = 0;
        }

        return _spillLimit is { } limit ? Math.Min(limit, disk) : disk;
    }

    private ObjectStoreFullException Full(long payloadSize)
    {
        lock (_lock)
        {
            var pinned = _resident.Count(o => o.Pins > 0);
            var room = SpillRoom() - _spilledBytes;
            var disk = _spillLimit is { } limit && room <= limit - _spilledBytes
                ? $"has {ByteSize.Format(Math.Max(0, room))} left under its limit (RayOptions.ObjectSpillLimit = {ByteSize.Format(limit)})"
                : $"has {ByteSize.Format(Math.Max(0, room))} free beyond the disk's reserve";
            return new ObjectStoreFullException(
                $"The object store has no room for an object of {ByteSize.Format(payloadSize)}: {ByteSize.Format(_allocator.Used)} of its {ByteSize.Format(Capacity)} of shared memory " +
                $"are in use by {_resident.Count} object(s) ({pinned} pinned by running tasks, reads or open views) and {_pending.Count} being written, " +
                $"and the rest could not be spilled: {ByteSize.Format(_spilledBytes)} in {_spilledObjects} object(s) are spilled to '{_spillDirectory.Path}', which {disk}. " +
                "Drop references to objects you no longer need, dispose views, or raise RayOptions.ObjectStoreMemory or ObjectSpillLimit.",
                payloadSize,
                Capacity,
                _allocator.Used);
        }
    }
}
