namespace Ray.ObjectStore;

/// <summary>
/// Hands out regions of the shared-memory arena: best fit from a free list kept by offset (to merge neighbours
/// when a region is returned) and by size (to find the smallest block that fits). Objects in the arena are at
/// least the inline threshold large, so the lists stay short. Not thread-safe: the object store holds its lock.
/// </summary>
internal sealed class ArenaAllocator
{
    private readonly SortedSet<long> _freeOffsets = [];
    private readonly Dictionary<long, long> _freeSizes = [];
    private readonly SortedSet<(long Size, long Offset)> _bySize = [];

    public ArenaAllocator(long capacity)
    {
        Capacity = capacity;
        if (capacity > 0)
        {
            AddFree(0, capacity);
        }
    }

    public long Capacity { get; }

    /// <summary>Bytes handed out and not returned.</summary>
    public long Used { get; private set; }

    /// <summary>The largest region that could be handed out now.</summary>
    public long LargestFree => _bySize.Count == 0 ? 0 : _bySize.Max.Size;

    /// <summary>Takes <paramref name="size"/> bytes; false when no free block is large enough.</summary>
    public bool TryAllocate(long size, out long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        var fits = _bySize.GetViewBetween((size, long.MinValue), (long.MaxValue, long.MaxValue)).Min;
        if (fits.Size < size)
        {
            offset = -1;
            return false;
        }

        RemoveFree(fits.Offset, fits.Size);
        if (fits.Size > size)
        {
            AddFree(fits.Offset + size, fits.Size - size);
        }

        Used += size;
        offset = fits.Offset;
        return true;
    }

    /// <summary>Returns a region, merging it with free neighbours.</summary>
    public void Free(long offset, long size)
    {
        var end = offset + size;
        var previous = _freeOffsets.GetViewBetween(long.MinValue, offset).Max;
        var hasPrevious = _freeSizes.TryGetValue(previous, out var previousSize) && previous <= offset;
        var next = _freeOffsets.GetViewBetween(offset, long.MaxValue).Min;
        var hasNext = _freeSizes.TryGetValue(next, out var nextSize) && next >= offset;
        if (offset < 0 || size <= 0 || end > Capacity || (hasPrevious && previous + previousSize > offset) || (hasNext && next < end))
        {
            throw new InvalidOperationException($"Region [{offset}, {end}) was not handed out by this allocator.");
        }

        Used -= size;
        if (hasNext && next == end)
        {
            RemoveFree(next, nextSize);
            size += nextSize;
        }

        if (hasPrevious && previous + previousSize == offset)
        {
            RemoveFree(previous, previousSize);
            offset = previous;
            size += previousSize;
        }

        AddFree(offset, size);
    }

    private void AddFree(long offset, long size)
    {
        _freeOffsets.Add(offset);
        _freeSizes[offset] = size;
        _bySize.Add((size, offset));
    }

    private void RemoveFree(long offset, long size)
    {
        _freeOffsets.Remove(offset);
        _freeSizes.Remove(offset);
        _bySize.Remove((size, offset));
    }
}
