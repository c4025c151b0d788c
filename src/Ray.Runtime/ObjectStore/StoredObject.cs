namespace Ray.ObjectStore;

/// <summary>Where a stored object's bytes are.</summary>
internal enum StoredState
{
    /// <summary>In the shared-memory arena.</summary>
    Resident,

    /// <summary>In the arena, and being copied to disk; readable meanwhile.</summary>
    Spilling,

    /// <summary>On disk only; the next read restores it.</summary>
    Spilled,

    /// <summary>Being copied back from disk into the arena.</summary>
    Restoring,

    /// <summary>Gone: its last reference was dropped and nothing reads it.</summary>
    Freed,
}

/// <summary>A region the object store handed out for a new object; the object exists once the region is sealed.</summary>
/// <param name="Offset">The region's offset in the arena.</param>
/// <param name="PayloadSize">The bytes of payload the region holds.</param>
internal readonly record struct StoreRegion(long Offset, long PayloadSize)
{
    public long Size => StoredObjectLayout.RegionSize(PayloadSize);
}

/// <summary>
/// One sealed object in the node's store. All mutable state is guarded by the store's lock. An object is read only
/// while pinned (a read in progress, an open view); a pinned object is neither spilled nor has its region reused.
/// </summary>
internal sealed class StoredObject(ObjectId id, long payloadSize)
{
    public ObjectId Id { get; } = id;

    public long PayloadSize { get; } = payloadSize;

    public long RegionSize => StoredObjectLayout.RegionSize(PayloadSize);

    /// <summary>The region's offset in the arena, while <see cref="State"/> is resident or spilling.</summary>
    public long Offset { get; set; } = -1;

    public StoredState State { get; set; }

    public int Pins { get; set; }

    /// <summary>The object's last reference is gone; its region is released when the last pin is.</summary>
    public bool FreeRequested { get; set; }

    /// <summary>The file holding its bytes while spilled.</summary>
    public string? SpillPath { get; set; }

    /// <summary>When it was last sealed or pinned (<see cref="Environment.TickCount64"/>), for least-recently-used spilling.</summary>
    public long LastUsed { get; set; }

    /// <summary>Completes when a restore in progress ends.</summary>
    public Task? Restoring { get; set; }
}
