using Microsoft.Extensions.Logging.Abstractions;
using Ray.ObjectStore;
using Xunit;

namespace Ray.Runtime.Tests.ObjectStore;

/// <summary>
/// The pages past the arena's used part are populated ahead of use (resident in the process's mapping, as its smaps
/// shows), by as much as the allocations that reached fresh pages suggest, within a bound.
/// </summary>
public sealed class ArenaWarmerTests : IDisposable
{
    private const long MiB = 1 << 20;

    private readonly SharedMemoryArena _arena = SharedMemoryArena.Create(
        Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"raygen-warmer-{Guid.NewGuid():n}"), 64 * MiB);

    public void Dispose()
    {
        _arena.Dispose();
        File.Delete(_arena.Path);
    }

    [Fact]
    public async Task An_allocation_into_fresh_pages_warms_twice_its_size_past_the_used_part()
    {
        using var warmer = new ArenaWarmer(_arena, NullLogger.Instance);
        Assert.Equal(0, ResidentBytes());

        warmer.Allocated(0, 3 * MiB);
        await warmer.Pass.WaitAsync(TimeSpan.FromSeconds(30));

        // 3 MiB used and 6 more ahead, populated in whole 4 MiB chunks.
        Assert.Equal(12 * MiB, warmer.WarmEnd);
        Assert.True(ResidentBytes() >= 12 * MiB, $"{ResidentBytes()} bytes of the arena are resident");

        // A small region inside the warm part changes nothing.
        warmer.Allocated(4 * MiB, 64 << 10);
        await warmer.Pass.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(12 * MiB, warmer.WarmEnd);
    }

    [Fact]
    public async Task The_margin_is_at_most_an_eighth_of_the_arena()
    {
        using var warmer = new ArenaWarmer(_arena, NullLogger.Instance);

        warmer.Allocated(0, 32 * MiB);
        await warmer.Pass.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(40 * MiB, warmer.WarmEnd);
        var resident = ResidentBytes();
        Assert.True(resident is >= 8 * MiB and <= 40 * MiB, $"{resident} bytes of the arena are resident");
    }

    /// <summary>The arena's resident bytes in this process, from <c>/proc/self/smaps</c> (0 where there is none).</summary>
    private long ResidentBytes()
    {
        if (!File.Exists("/proc/self/smaps"))
        {
            return 0;
        }

        long total = 0;
        var inArena = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            if (line.Length > 0 && char.IsAsciiHexDigit(line[0]) && line.Contains('-'))
            {
                inArena = line.EndsWith(_arena.Path, StringComparison.Ordinal);
            }
            else if (inArena && line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                total += long.Parse(line["Rss:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        return total;
    }
}
