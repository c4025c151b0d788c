using Ray.Runtime.Protocol;
using Ray.Scheduling;
using Ray.Transport;

namespace Ray.Raylet;

/// <summary>The raylet's side of one registered worker: its outbound batch queue and the leases it holds.</summary>
internal sealed class WorkerHandle
{
    public WorkerHandle(int processId, int index, bool isDedicated)
    {
        ProcessId = processId;
        Index = index;
        IsDedicated = isDedicated;
        Outbound = new BatchingWriter<RayletMessage, RayletBatch>(static items =>
        {
            var batch = new RayletBatch();
            batch.Messages.AddRange(items);
            return batch;
        });
    }

    public int ProcessId { get; }

    public int Index { get; }

    /// <summary>Whether the process was started for one actor (it runs no tasks and is not replaced).</summary>
    public bool IsDedicated { get; }

    public BatchingWriter<RayletMessage, RayletBatch> Outbound { get; }

    /// <summary>Guarded by the scheduler's lock.</summary>
    public List<Lease> Leases { get; } = [];

    /// <summary>The objects it borrows, the stored objects it has pinned, the regions it is filling.</summary>
    public WorkerObjects Objects { get; } = new();

    public void Send(RayletMessage message) => Outbound.TryWrite(message);

    public override string ToString() => $"worker {Index} (pid {ProcessId})";
}
