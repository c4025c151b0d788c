using Ray.Runtime.Protocol;

namespace Ray.Core;

/// <summary>The wire forms of <see cref="ObjectInfo"/> and <see cref="ObjectStoreStats"/>, for drivers and tasks that ask their raylet.</summary>
internal static class NodeQueries
{
    public static ObjectInfoProto ToProto(this ObjectInfo info) => new()
    {
        Id = info.Id.ToProto(),
        SizeBytes = info.SizeBytes,
        Location = (int)info.Location,
        OwnerPid = info.OwnerProcessId,
        LocalReferences = info.LocalReferences,
        BorrowingWorkers = info.BorrowingWorkers,
        TaskReferences = info.TaskReferences,
        ContainedIn = info.ContainedIn,
        Pins = info.Pins,
        UnreadInStream = info.UnreadInStream,
    };

    public static ObjectInfo FromProto(ObjectInfoProto proto) => new()
    {
        Id = proto.Id.ToObjectId(),
        SizeBytes = proto.SizeBytes,
        Location = (ObjectLocation)proto.Location,
        OwnerProcessId = proto.OwnerPid,
        LocalReferences = proto.LocalReferences,
        BorrowingWorkers = proto.BorrowingWorkers,
        TaskReferences = proto.TaskReferences,
        ContainedIn = proto.ContainedIn,
        Pins = proto.Pins,
        UnreadInStream = proto.UnreadInStream,
    };

    public static StoreStatsProto ToProto(this ObjectStoreStats stats) => new()
    {
        CapacityBytes = stats.CapacityBytes,
        HighWaterBytes = stats.HighWaterBytes,
        UsedBytes = stats.UsedBytes,
        PeakUsedBytes = stats.PeakUsedBytes,
        ObjectsInMemory = stats.ObjectsInMemory,
        SpilledBytes = stats.SpilledBytes,
        SpilledObjects = stats.SpilledObjects,
        SpillCount = stats.SpillCount,
        RestoreCount = stats.RestoreCount,
        MemoryDirectory = stats.MemoryDirectory,
        SpillDirectory = stats.SpillDirectory,
    };

    public static ObjectStoreStats FromProto(StoreStatsProto proto) => new()
    {
        CapacityBytes = proto.CapacityBytes,
        HighWaterBytes = proto.HighWaterBytes,
        UsedBytes = proto.UsedBytes,
        PeakUsedBytes = proto.PeakUsedBytes,
        ObjectsInMemory = proto.ObjectsInMemory,
        SpilledBytes = proto.SpilledBytes,
        SpilledObjects = proto.SpilledObjects,
        SpillCount = proto.SpillCount,
        RestoreCount = proto.RestoreCount,
        MemoryDirectory = proto.MemoryDirectory,
        SpillDirectory = proto.SpillDirectory,
    };
}
