using Ray.Raylet;

namespace Ray.Scheduling;

/// <summary>
/// Resources granted to one worker for one scheduling class. The worker runs a lease's tasks one at a time,
/// so several short tasks can be queued behind each other on one grant (pipelining) without oversubscribing
/// the node; a task that blocks in <c>Get</c> lets the next one start. The grant is returned when the lease
/// has no task left.
/// </summary>
internal sealed class Lease(ulong id, WorkerHandle worker, ResourceSet resources)
{
    public ulong Id { get; } = id;

    public WorkerHandle Worker { get; } = worker;

    public ResourceSet Resources { get; } = resources;

    public HashSet<TaskRecord> Tasks { get; } = [];

    public int Blocked { get; set; }

    /// <summary>The expected run time of the tasks sent on this lease and not finished, in microseconds.</summary>
    public double BacklogMicros { get; set; }

    /// <summary>Tasks that hold the lease's slot: sent and neither finished nor blocked.</summary>
    public int Active => Tasks.Count - Blocked;
}
