using System.Buffers;
using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace Ray.ObjectStore;

/// <summary>
/// The node's shared memory: one file (under <c>/dev/shm</c> by default) mapped once by the raylet and by every
/// worker of the node, in which each stored object occupies a region. Reading an object is pointer arithmetic on
/// the mapping, with no copy and no system call but one <c>fstat</c> that guards against a truncated file (reading
/// past the end of a mapped file would kill the process with SIGBUS instead of failing one read).
/// </summary>
internal sealed unsafe class SharedMemoryArena : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly MemoryMappedFile _mapping;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private int _disposed;

    private SharedMemoryArena(string path, long capacity, SafeFileHandle file)
    {
        Path = path;
        Capacity = capacity;
        _file = file;
        _mapping = MemoryMappedFile.CreateFromFile(file, mapName: null, capacity, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
        _view = _mapping.CreateViewAccessor(0, capacity, MemoryMappedFileAccess.ReadWrite);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _base = pointer + _view.PointerOffset;
    }

    /// <summary>The arena file.</summary>
    public string Path { get; }

    /// <summary>Its size in bytes; pages are allocated only when first written.</summary>
    public long Capacity { get; }

    /// <summary>Creates the arena file (sparse, <paramref name="capacity"/> bytes) and maps it.</summary>
    public static SharedMemoryArena Create(string path, long capacity)
    {
        var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite);
        try
        {
            RandomAccess.SetLength(file, capacity);
            return new SharedMemoryArena(path, capacity, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Maps an arena the raylet created; fails with a clear error when it is missing or shorter than announced.</summary>
    public static SharedMemoryArena Open(string path, long capacity)
    {
        var file = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        try
        {
            var length = RandomAccess.GetLength(file);
            if (length < capacity)
            {
                throw new RayException($"The object store's shared memory '{path}' holds {length} bytes, not the {capacity} the raylet announced.");
            }

            return new SharedMemoryArena(path, capacity, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Writable memory over a region, for the process that fills a new object.</summary>
    public Memory<byte> Region(long offset, int length)
    {
        CheckBounds(offset, length);
        return new UnmanagedMemory(_base + offset, length).Memory;
    }

    /// <summary>Seals an object whose payload was written at <paramref name="offset"/>: writes its header and trailer.</summary>
    public void Seal(long offset, ObjectId id, long payloadSize) =>
        StoredObjectLayout.Seal(Span(offset, StoredObjectLayout.RegionSize(payloadSize)), id, payloadSize);

    /// <summary>Null when the region at <paramref name="offset"/> holds object <paramref name="id"/> intact; else what is wrong.</summary>
    public string? Check(long offset, ObjectId id, long payloadSize)
    {
        var regionSize = StoredObjectLayout.RegionSize(payloadSize);
        if (offset < 0 || payloadSize < 0 || offset % StoredObjectLayout.Alignment != 0 || offset + regionSize > Capacity)
        {
            return $"its location (offset {offset}, {payloadSize} bytes) lies outside the store's {Capacity} bytes";
        }

        var length = RandomAccess.GetLength(_file);
        if (offset + regionSize > length)
        {
            return $"its segment is truncated: the object store's file '{Path}' ends at byte {length}, before the object's end at byte {offset + regionSize}";
        }

        return StoredObjectLayout.Check(Span(offset, regionSize), id, payloadSize);
    }

    /// <summary>The payload of a sealed object, read in place, after checking its header and trailer.</summary>
    /// <exception cref="ObjectCorruptedException">The region does not hold the object intact.</exception>
    public ReadOnlyMemory<byte> Read(long offset, ObjectId id, long payloadSize)
    {
        if (Check(offset, id, payloadSize) is { } problem)
        {
            throw new ObjectCorruptedException(id, problem);
        }

        return new UnmanagedMemory(_base + offset + StoredObjectLayout.HeaderSize, checked((int)payloadSize)).Memory;
    }

    /// <summary>The raw bytes of a region, for spilling it to disk and restoring it.</summary>
    public Span<byte> Span(long offset, long length)
    {
        CheckBounds(offset, length);
        return new Span<byte>(_base + offset, checked((int)length));
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _mapping.Dispose();
        _file.Dispose();
    }

    private void CheckBounds(long offset, long length)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (offset < 0 || length < 0 || offset + length > Capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Region [{offset}, {offset + length}) lies outside the arena's {Capacity} bytes.");
        }
    }

    /// <summary>Memory over part of the mapping; the mapping outlives every reader of the runtime.</summary>
    private sealed class UnmanagedMemory(byte* pointer, int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new(pointer, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
