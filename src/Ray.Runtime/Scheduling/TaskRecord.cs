using Ray.Infrastructure;
using Ray.ObjectStore;
using Ray.Raylet;

namespace Ray.Scheduling;

/// <summary>Where a task is in its life; <c>raygen list tasks</c> will show this.</summary>
internal enum TaskState
{
    /// <summary>Waiting for its <see cref="ObjectRef"/> arguments.</summary>
    PendingArgs,

    /// <summary>Arguments ready, waiting for resources or a worker.</summary>
    Queued,

    /// <summary>Sent to a worker.</summary>
    Running,

    /// <summary>Sent to another node to run there; this node owns it and waits for its outcome.</summary>
    Forwarded,

    /// <summary>Its result (a value or an error) is stored.</summary>
    Finished,
}

/// <summary>
/// A submitted task as the raylet tracks it: the spec (function, arguments, resources, retry policy) and its
/// state. The task's id is the id of its return object. Mutable fields are guarded by the scheduler's lock.
/// </summary>
internal sealed class TaskRecord
{
    public required ObjectId Id { get; init; }

    public required ulong FunctionId { get; init; }

    public required string FunctionName { get; init; }

    public required string AssemblyName { get; init; }

    public required TaskArgument[] Arguments { get; init; }

    public required ResourceSet Resources { get; init; }

    public required int MaxRetries { get; init; }

    public required bool RetryExceptions { get; init; }

    /// <summary>
    /// The object the task makes, when this node owns the task; null for a task another node forwarded here to run
    /// (its owner keeps the result: <see cref="Done"/> sends it there).
    /// </summary>
    public required ObjectEntry? Result { get; init; }

    /// <summary>Where the cluster should run it.</summary>
    public Placement Placement { get; init; } = Placement.Default;

    /// <summary>For a task forwarded here: where its outcome goes (to its owner). Called once, outside the scheduler's lock.</summary>
    public Action<TaskRecord, TaskResult>? Done { get; init; }

    /// <summary>
    /// Set for a streaming generator (Ray's <c>num_returns="streaming"</c>): the unread items at which it pauses, -1 for
    /// no limit. Its items are objects of their own; where it runs, each is written to its stream (the owner's) or sent on
    /// with <see cref="ItemDone"/>.
    /// </summary>
    public int? GeneratorBackpressure { get; init; }

    /// <summary>For a streaming task forwarded here: where each item goes (to its owner), in order, outside the scheduler's lock.</summary>
    public Action<TaskRecord, int, TaskResult>? ItemDone { get; init; }

    /// <summary>
    /// For a streaming task: the items accepted so far, over all attempts. A retry skips that many, so a reader never sees
    /// an item twice; an item with another index (from an attempt given up on) is dropped.
    /// </summary>
    public int StreamItems { get; set; }

    /// <summary>For a streaming task: how many items its reader has taken, as last heard; sent with each attempt, for backpressure.</summary>
    public long StreamConsumed { get; set; }

    /// <summary>The node this node forwarded the task to, while it runs there; empty when it runs here or waits.</summary>
    public Guid ForwardedTo { get; set; }

    /// <summary>Nodes that sent the task back for want of room; placement avoids them while others can run it.</summary>
    public HashSet<Guid>? SpilledFrom { get; set; }

    /// <summary>
    /// The objects the task keeps alive until it ends, counted as <see cref="ReferenceKind.Task"/>: its future
    /// arguments and the references inside its argument values.
    /// </summary>
    public required ObjectId[] References { get; init; }

    /// <summary>The name shown to people: the task's own name, or the function's.</summary>
    public string DisplayName => Name ?? FunctionName;

    public string? Name { get; init; }

    public TaskState State { get; set; }

    public int PendingArguments { get; set; }

    public int Attempts { get; set; }

    public bool CancelRequested { get; set; }

    public Lease? Lease { get; set; }

    /// <summary>The stored arguments pinned for the worker running it, released when that run ends.</summary>
    public List<StoredObject>? PinnedArguments { get; set; }

    /// <summary>What the scheduler expected this task to run for when it sent it, in microseconds.</summary>
    public double EstimateMicros { get; set; }

    public string Describe() => State switch
    {
        TaskState.PendingArgs => $"task {DisplayName} is waiting for {PendingArguments} argument(s) to be ready",
        TaskState.Queued => $"task {DisplayName} is queued, waiting for resources {Resources} or a free worker",
        TaskState.Running => $"task {DisplayName} is running on worker pid {Lease?.Worker.ProcessId} (attempt {Attempts})",
        TaskState.Forwarded => $"task {DisplayName} runs on node {ForwardedTo:n} (attempt {Attempts})",
        _ => $"task {DisplayName} has finished",
    };
}
