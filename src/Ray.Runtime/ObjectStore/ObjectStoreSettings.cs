using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Ray.ObjectStore;

/// <summary>Turns <see cref="RayOptions"/> into the node's object store: its size, where its shared memory and spill files go.</summary>
internal static class ObjectStoreSettings
{
    /// <summary>The share of the memory available to the process that the store takes by default, as in Ray.</summary>
    public const double DefaultMemoryFraction = 0.3;

    private const string SharedMemoryRoot = "/dev/shm";

    /// <summary>Checks the options and creates the store, deleting what killed nodes left behind first.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An object store option is out of range.</exception>
    public static NodeObjectStore Create(RayOptions options, ILogger logger, string? nodeId = null) =>
        Create(Hosting.NodeOptions.FromDriver(options), logger, nodeId);

    /// <summary>Checks the node's options and creates its store, deleting what killed nodes left behind first.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An object store option is out of range.</exception>
    public static NodeObjectStore Create(Hosting.NodeOptions options, ILogger logger, string? nodeId = null)
    {
        Validate(options);
        var capacity = options.ObjectStoreMemory ?? (long)(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes * DefaultMemoryFraction);
        var memoryRoot = options.ObjectStoreDirectory ?? DefaultMemoryRoot(capacity, logger);
        var spillRoot = options.ObjectSpillDirectory ?? Path.GetTempPath();
        Directory.CreateDirectory(memoryRoot);
        Directory.CreateDirectory(spillRoot);
        nodeId ??= Guid.NewGuid().ToString("n")[..12];
        var store = new NodeObjectStore(capacity, options.ObjectSpillThreshold, memoryRoot, spillRoot, options.ObjectSpillLimit, nodeId, logger);
        logger.LogDebug(
            "Object store: {Capacity} bytes of shared memory in {Memory}, spilling above {HighWater} bytes to {Spill}.",
            store.Capacity.ToString("N0", CultureInfo.InvariantCulture),
            store.MemoryDirectory,
            store.HighWater.ToString("N0", CultureInfo.InvariantCulture),
            store.SpillDirectory);
        return store;
    }

    /// <summary>Checks the object store's options, named as a driver sets them.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An object store option is out of range.</exception>
    public static void Validate(Hosting.NodeOptions options)
    {
        if (options.ObjectStoreMemory < StoredObjectLayout.Alignment)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ObjectStoreMemory, "RayOptions.ObjectStoreMemory must be at least 64 bytes.");
        }

        if (options.MaxInlineObjectSize < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxInlineObjectSize, "RayOptions.MaxInlineObjectSize must not be negative.");
        }

        if (options.ObjectSpillThreshold is <= 0 or > 1 || double.IsNaN(options.ObjectSpillThreshold))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ObjectSpillThreshold, "RayOptions.ObjectSpillThreshold must be above 0 and at most 1.");
        }

        if (options.ObjectSpillLimit < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ObjectSpillLimit, "RayOptions.ObjectSpillLimit must not be negative.");
        }
    }

    /// <summary><c>/dev/shm</c> when it exists and has room for the whole store; else the temporary directory, as Ray does.</summary>
    private static string DefaultMemoryRoot(long capacity, ILogger logger)
    {
        if (!Directory.Exists(SharedMemoryRoot))
        {
            return Path.GetTempPath();
        }

        try
        {
            var free = new DriveInfo(SharedMemoryRoot).AvailableFreeSpace;
            if (free >= capacity)
            {
                return SharedMemoryRoot;
            }

            logger.LogWarning(
                "{Root} has only {Free} bytes free, less than the object store's {Capacity}; the store's memory-mapped file goes to {Temp} instead, " +
                "which may be slower. Give the machine (or container) a larger {Root}, or lower RayOptions.ObjectStoreMemory.",
                SharedMemoryRoot,
                free,
                capacity,
                Path.GetTempPath(),
                SharedMemoryRoot);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            logger.LogWarning("Could not read the free space of {Root} ({Reason}); the object store uses {Temp}.", SharedMemoryRoot, e.Message, Path.GetTempPath());
        }

        return Path.GetTempPath();
    }
}
