using Ray.Raylet;

namespace Ray.Scheduling;

/// <summary>
/// Resources granted to one worker for one scheduling class. The worker runs a lease's tasks one at a time,
/// so several short tasks can be queued behind each other on one grant (pipelining) without oversubscribing
/// the node; a task that blocks in <c>Get</c> lets the next one start. The grant is returned when the lease
/// has no task left.
/// </summary>
internal sealed class Lease(ulong id, WorkerHandle worker, SchedulingClass schedulingClass)
{
    public ulong Id { get; } = id;

    public WorkerHandle Worker { get; } = worker;

    /// <summary>The job and resource shape of the tasks it runs.</summary>
    public SchedulingClass Class { get; } = schedulingClass;

    public ResourceSet Resources => Class.Resources;

    public HashSet<TaskRecord> Tasks { get; } = [];

    public int Blocked { get; set; }

    /// <summary>The expected run time of the tasks sent on this lease and not finished, in microseconds.</summary>
    public double BacklogMicros { get; set; }

    /// <summary>Tasks that hold the lease's slot: sent and neither finished nor blocked.</summary>
    public int Active => Tasks.Count - Blocked;
}

/// <summary>
/// Tasks that may share queues and leases: same job (a worker runs one job's code) and same resource shape.
/// </summary>
internal readonly record struct SchedulingClass(JobId Job, ResourceSet Resources);
