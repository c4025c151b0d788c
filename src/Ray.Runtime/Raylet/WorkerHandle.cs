using Ray.Runtime.Protocol;
using Ray.Scheduling;
using Ray.Transport;

namespace Ray.Raylet;

/// <summary>The raylet's side of one registered worker: its outbound batch queue and the leases it holds.</summary>
internal sealed class WorkerHandle
{
    public WorkerHandle(int processId, int index, WorkerKind kind, JobId job)
    {
        Job = job;
        ProcessId = processId;
        Index = index;
        Kind = kind;
        Outbound = new BatchingWriter<RayletMessage, RayletBatch>(static items =>
        {
            var batch = new RayletBatch();
            batch.Messages.AddRange(items);
            return batch;
        });
    }

    public int ProcessId { get; }

    /// <summary>The job the worker runs for (the job of the driver, for a driver's connection).</summary>
    public JobId Job { get; }

    public int Index { get; }

    /// <summary>What the process is for: tasks, actors, or one actor.</summary>
    public WorkerKind Kind { get; }

    public BatchingWriter<RayletMessage, RayletBatch> Outbound { get; }

    /// <summary>
    /// Whether the process maps the node's shared memory (a worker, a driver on this machine); a driver on another
    /// machine is sent the bytes of stored objects instead of their place in the store.
    /// </summary>
    public bool MapsStore { get; init; } = true;

    /// <summary>Set when the raylet ends the process to force-cancel a task it runs. Guarded by the scheduler's lock.</summary>
    public bool ForceKilled { get; set; }

    /// <summary>Guarded by the scheduler's lock.</summary>
    public List<Lease> Leases { get; } = [];

    /// <summary>The objects it borrows, the stored objects it has pinned, the regions it is filling.</summary>
    public WorkerObjects Objects { get; } = new();

    public void Send(RayletMessage message) => Outbound.TryWrite(message);

    public override string ToString() => Kind == WorkerKind.Task ? $"worker {Index} (pid {ProcessId})" : $"{Kind.ToString().ToLowerInvariant()} worker {Index} (pid {ProcessId})";
}
