using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Ray.ObjectStore;

/// <summary>
/// Keeps the pages just past the part of the arena that objects have used so far resident in this process's mapping,
/// so that a new object written there (a pull's destination above all) does not fault in and zero a fresh page every
/// 4 KiB on its critical path. Regions are handed out lowest offset first, so the arena's used part grows from the start
/// and a freed region is reused warm; only the growth meets fresh pages. After an allocation that reached fresh pages,
/// a background pass populates (<c>madvise(MADV_POPULATE_WRITE)</c>, one system call per chunk instead of one fault per
/// page) a margin past the touched end: twice the largest such allocation, at most <see cref="MaxMargin"/> and an eighth
/// of the arena. A store that only ever holds small objects keeps a small margin; nothing is written to the pages.
/// Kernels without the call (before Linux 5.14) and other systems leave the pages to fault in as before.
/// </summary>
internal sealed class ArenaWarmer : IDisposable
{
    /// <summary>The most that is kept warm past the touched end.</summary>
    public const long MaxMargin = 256L << 20;

    private const long Chunk = 4L << 20;
    private const int MadvPopulateWrite = 23;

    private readonly SharedMemoryArena _arena;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private long _touchedEnd;
    private long _warmEnd;
    private long _margin;
    private bool _running;
    private bool _disposed;
    private Task _pass = Task.CompletedTask;
    private static int s_unsupported = OperatingSystem.IsLinux() ? 0 : 1;

    public ArenaWarmer(SharedMemoryArena arena, ILogger logger)
    {
        _arena = arena;
        _logger = logger;
    }

    /// <summary>How far the arena is populated (for tests and stats).</summary>
    public long WarmEnd
    {
        get
        {
            lock (_lock)
            {
                return _warmEnd;
            }
        }
    }

    /// <summary>A pass still in progress, if any (tests wait for it).</summary>
    public Task Pass
    {
        get
        {
            lock (_lock)
            {
                return _pass;
            }
        }
    }

    /// <summary>A region [<paramref name="offset"/>, +<paramref name="size"/>) was handed out.</summary>
    public void Allocated(long offset, long size)
    {
        if (Volatile.Read(ref s_unsupported) != 0)
        {
            return;
        }

        var end = offset + size;
        lock (_lock)
        {
            if (_disposed || end <= _touchedEnd)
            {
                return;
            }

            // What reached past the warm part is the size of the growth to expect again.
            var fresh = end - Math.Max(offset, _warmEnd);
            _touchedEnd = end;
            _warmEnd = Math.Max(_warmEnd, end);
            if (fresh > 0)
            {
                _margin = Math.Min(Math.Max(_margin, 2 * fresh), Math.Min(MaxMargin, _arena.Capacity / 8));
            }

            if (_running || _warmEnd >= Math.Min(_arena.Capacity, _touchedEnd + _margin))
            {
                return;
            }

            _running = true;
            _pass = Task.Run(Populate);
        }
    }

    public void Dispose()
    {
        Task pass;
        lock (_lock)
        {
            _disposed = true;
            pass = _pass;
        }

        // The mapping must outlive a system call on it.
        pass.Wait(TimeSpan.FromSeconds(5));
    }

    private void Populate()
    {
        while (true)
        {
            long start, length;
            lock (_lock)
            {
                var target = Math.Min(_arena.Capacity, _touchedEnd + _margin);
                if (_disposed || _warmEnd >= target)
                {
                    _running = false;
                    return;
                }

                start = _warmEnd / Chunk * Chunk;
                length = Math.Min(Chunk, _arena.Capacity - start);
            }

            if (!_arena.Populate(start, length, MadvPopulateWrite, out var error))
            {
                Interlocked.Exchange(ref s_unsupported, 1);
                _logger.LogDebug("The object store's pages are not populated ahead of use: madvise failed with errno {Errno}.", error);
                lock (_lock)
                {
                    _running = false;
                }

                return;
            }

            lock (_lock)
            {
                _warmEnd = Math.Max(_warmEnd, start + length);
            }
        }
    }
}
