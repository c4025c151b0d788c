namespace Ray.Raylet;

/// <summary>
/// What a worker process is for. Tasks and actors never share a process, so a task that crashes its worker (or calls
/// <c>Environment.Exit</c>) cannot take an actor down with it; that is the node's crash-domain rule.
/// </summary>
internal enum WorkerKind
{
    /// <summary>Runs tasks; pre-started, one per CPU by default, and replaced when it dies.</summary>
    Task,

    /// <summary>Hosts actors, many per process; started as actors are created, never more than the node allows.</summary>
    Actor,

    /// <summary>Hosts one actor that asked for a process of its own (<c>DedicatedProcess</c>); ends with the actor.</summary>
    Dedicated,

    /// <summary>Not a worker: a cluster driver's connection. It submits, puts and holds references, and runs nothing.</summary>
    Driver,
}
