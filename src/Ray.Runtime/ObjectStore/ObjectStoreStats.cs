namespace Ray;

/// <summary>The state of the node's shared-memory object store, from <see cref="RayRuntime.GetObjectStoreStats"/>.</summary>
public sealed record ObjectStoreStats
{
    /// <summary>Shared memory objects may use (<see cref="RayOptions.ObjectStoreMemory"/>).</summary>
    public required long CapacityBytes { get; init; }

    /// <summary>Above this, new objects make the least recently used unpinned ones spill to disk.</summary>
    public required long HighWaterBytes { get; init; }

    /// <summary>Shared memory in use now, by stored objects and objects being written.</summary>
    public required long UsedBytes { get; init; }

    /// <summary>The most shared memory that was ever in use at once.</summary>
    public required long PeakUsedBytes { get; init; }

    /// <summary>Objects in shared memory now.</summary>
    public required int ObjectsInMemory { get; init; }

    /// <summary>Bytes of objects spilled to disk now.</summary>
    public required long SpilledBytes { get; init; }

    /// <summary>Objects spilled to disk now.</summary>
    public required long SpilledObjects { get; init; }

    /// <summary>How many times an object was spilled since the node started.</summary>
    public required long SpillCount { get; init; }

    /// <summary>How many times a spilled object was read back since the node started.</summary>
    public required long RestoreCount { get; init; }

    /// <summary>The directory of the shared-memory file (under <c>/dev/shm</c> by default).</summary>
    public required string MemoryDirectory { get; init; }

    /// <summary>The directory spilled objects are written to.</summary>
    public required string SpillDirectory { get; init; }

    /// <summary>A summary line: use against capacity, objects in memory, spilling.</summary>
    public override string ToString() =>
        $"{Core.ByteSize.Format(UsedBytes)} of {Core.ByteSize.Format(CapacityBytes)} used (peak {Core.ByteSize.Format(PeakUsedBytes)}), {ObjectsInMemory} object(s) in memory; " +
        $"{SpilledObjects} spilled ({Core.ByteSize.Format(SpilledBytes)}), {SpillCount} spill(s) and {RestoreCount} restore(s) so far; memory in {MemoryDirectory}, spills in {SpillDirectory}";
}
