namespace Ray;

/// <summary>Where an object's value is.</summary>
public enum ObjectLocation
{
    /// <summary>Its task has not finished.</summary>
    Pending,

    /// <summary>Small: held in the raylet's memory and sent inside messages.</summary>
    Inline,

    /// <summary>Large: in the node's shared-memory object store.</summary>
    SharedMemory,

    /// <summary>Large, and spilled to disk; the next read brings it back into shared memory.</summary>
    Spilled,

    /// <summary>Its task failed; the object holds the error.</summary>
    Failed,

    /// <summary>Large, and in the shared memory of other nodes only; reading it here pulls a copy.</summary>
    OtherNode,
}

/// <summary>
/// One object of the node and what keeps it alive, from <see cref="RayRuntime.ListObjects"/> (Ray's <c>ray memory</c>).
/// An object is freed when <see cref="ReferenceCount"/> is zero and no read or view has it pinned.
/// </summary>
public sealed record ObjectInfo
{
    /// <summary>The object.</summary>
    public required ObjectId Id { get; init; }

    /// <summary>The size of its serialized value (0 while pending).</summary>
    public required long SizeBytes { get; init; }

    /// <summary>Where its value is.</summary>
    public required ObjectLocation Location { get; init; }

    /// <summary>The process that created it: the driver, or the worker that submitted its task or put it.</summary>
    public required int OwnerProcessId { get; init; }

    /// <summary><see cref="ObjectRef"/> instances to it alive in the driver process.</summary>
    public required int LocalReferences { get; init; }

    /// <summary>Worker processes holding at least one <see cref="ObjectRef"/> to it.</summary>
    public required int BorrowingWorkers { get; init; }

    /// <summary>Pending tasks, actor calls and actors that take it as an argument.</summary>
    public required int TaskReferences { get; init; }

    /// <summary>Other objects whose values hold a reference to it.</summary>
    public required int ContainedIn { get; init; }

    /// <summary>Reads in progress and open <see cref="ArrayView{T}"/>s, which keep it in memory.</summary>
    public required int Pins { get; init; }

    /// <summary>Other nodes of the cluster holding references to it.</summary>
    public int BorrowingNodes { get; init; }

    /// <summary>Whether it is an item of a stream that no reader has taken yet, which the stream keeps for its reader.</summary>
    public bool UnreadInStream { get; init; }

    /// <summary>Everything that keeps the object alive.</summary>
    public int ReferenceCount => LocalReferences + BorrowingWorkers + TaskReferences + ContainedIn + BorrowingNodes + (UnreadInStream ? 1 : 0);

    /// <summary>One line, as <c>ray memory</c> prints an object: id, size, where, owner, and what holds it.</summary>
    public override string ToString() =>
        $"{Id} {Core.ByteSize.Format(SizeBytes)} {Location} owner pid {OwnerProcessId}: {LocalReferences} local, {BorrowingWorkers} borrowing worker(s), " +
        $"{TaskReferences} task(s), in {ContainedIn} object(s), {Pins} pin(s)";
}
