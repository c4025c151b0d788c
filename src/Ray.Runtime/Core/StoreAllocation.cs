using Ray.ObjectStore;

namespace Ray.Core;

/// <summary>
/// A region of the node's shared-memory store that this process is filling with a new object. It becomes an object
/// when sealed under an id (the raylet checks the seal); a region that will not be sealed must be aborted, so that
/// its memory goes back to the store.
/// </summary>
internal abstract class StoreAllocation(SharedMemoryArena arena, StoreRegion region)
{
    public StoreRegion Region { get; } = region;

    /// <summary>Where the payload goes.</summary>
    public Memory<byte> Payload { get; } = arena.Region(region.Offset + StoredObjectLayout.HeaderSize, checked((int)region.PayloadSize));

    /// <summary>Writes the header and trailer that make the payload object <paramref name="id"/>; the raylet is told next.</summary>
    public void Seal(ObjectId id) => arena.Seal(Region.Offset, id, Region.PayloadSize);

    /// <summary>Gives the region back unsealed.</summary>
    public abstract void Abort();
}

/// <summary>A pinned read of a stored object; disposing it ends the pin (once).</summary>
internal sealed class StoredRead(ReadOnlyMemory<byte> payload, Action release) : IDisposable
{
    private Action? _release = release;

    public ReadOnlyMemory<byte> Payload { get; } = payload;

    public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
}

/// <summary>
/// A serialized result that carries more than its bytes: the store region holding it (a large result, sealed
/// under the task's id by the executor) and the references it holds. Travels as the <see cref="ReadOnlyMemory{T}"/>
/// that generated invokers return; the executor finds it with <c>MemoryMarshal.TryGetMemoryManager</c>.
/// </summary>
internal sealed class SerializedResult : System.Buffers.MemoryManager<byte>
{
    private readonly Memory<byte> _bytes;

    public SerializedResult(Memory<byte> bytes, StoreAllocation? allocation, ObjectRef[]? contained)
    {
        _bytes = bytes;
        Allocation = allocation;
        Contained = contained;
    }

    public StoreAllocation? Allocation { get; }

    public ObjectRef[]? Contained { get; }

    public override Span<byte> GetSpan() => _bytes.Span;

    public override System.Buffers.MemoryHandle Pin(int elementIndex = 0) => _bytes[elementIndex..].Pin();

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
