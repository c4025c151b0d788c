namespace Ray;

/// <summary>The base of every exception RayGen throws for a failure in the distributed runtime.</summary>
public class RayException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RayException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A remote function threw. Rethrown at <c>await</c>/<c>Get()</c> of its result and of every task that
/// depends on it, carrying the remote exception's type, message and stack trace. <see cref="Replay"/> runs the call
/// that threw again in this process, with the same arguments, so that a debugger stops in the remote function.
/// </summary>
public class RayTaskException : RayException
{
    /// <summary>Creates the exception.</summary>
    public RayTaskException(string functionName, string remoteExceptionType, string remoteMessage, string remoteStackTrace, int? workerProcessId = null)
        : base(FormatMessage(functionName, remoteExceptionType, remoteMessage, workerProcessId))
    {
        FunctionName = functionName;
        RemoteExceptionType = remoteExceptionType;
        RemoteMessage = remoteMessage;
        RemoteStackTrace = remoteStackTrace;
        WorkerProcessId = workerProcessId;
    }

    /// <summary>The remote function (or task name) that failed.</summary>
    public string FunctionName { get; }

    /// <summary>The full name of the exception type thrown by user code, for example <c>System.InvalidOperationException</c>.</summary>
    public string RemoteExceptionType { get; }

    /// <summary>The remote exception's message.</summary>
    public string RemoteMessage { get; }

    /// <summary>The remote exception's stack trace, as the worker saw it.</summary>
    public string RemoteStackTrace { get; }

    /// <summary>The process id of the worker that ran the task, when known.</summary>
    public int? WorkerProcessId { get; }

    /// <summary>
    /// The call that threw (the id of its result object), when the runtime knows it: this task, or the task or actor
    /// method whose failure this one passed on (a failed argument, a nested call). <see cref="Replay"/> runs that call.
    /// </summary>
    public ObjectId? FailedTaskId => FailedTask.IsNil ? null : FailedTask;

    /// <summary>
    /// The actor class when the call that threw is an actor method, else null. Replaying it makes a new instance from
    /// the actor's constructor arguments first, so the actor's state (what earlier calls did to it) may differ.
    /// </summary>
    public string? ActorClass { get; internal init; }

    /// <summary>The call that threw, as the runtime set it; nil when unknown.</summary>
    internal ObjectId FailedTask { get; init; }

    /// <summary>What runs a captured call again in this process; null for an exception the runtime did not raise.</summary>
    internal Infrastructure.IFailedCallReplayer? Replayer { get; init; }

    /// <summary>
    /// Runs the call that threw (<see cref="FailedTaskId"/>) again in this process, on the calling thread, with the same
    /// arguments deserialized from the bytes the worker read, so that a breakpoint in the remote function is hit and its
    /// exception is thrown here, where it can be inspected. For an actor method (<see cref="ActorClass"/>) a new instance
    /// is made from the actor's constructor arguments first, so the state may differ from the actor's that failed. The
    /// call's owner keeps failed calls for a bounded time (<c>RayOptions.FailedTaskCapture</c>). Returns normally when
    /// the call does not throw this time.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The call cannot be replayed: capture is disabled, the call was evicted or not kept, or this exception was not
    /// raised by a runtime in this process. The message says which.
    /// </exception>
    public void Replay(CancellationToken cancellationToken = default) => ReplayerOrThrow().Replay(this, cancellationToken);

    /// <summary>
    /// Runs the call that threw again in this process, as <see cref="Replay"/> does; a function that awaits continues on
    /// the thread pool.
    /// </summary>
    /// <exception cref="InvalidOperationException">The call cannot be replayed; the message says why.</exception>
    public Task ReplayAsync(CancellationToken cancellationToken = default) => ReplayerOrThrow().ReplayAsync(this, cancellationToken);

    private Infrastructure.IFailedCallReplayer ReplayerOrThrow()
    {
        if (FailedTask.IsNil)
        {
            throw new InvalidOperationException(
                $"This failure of {FunctionName} cannot be replayed: it does not say which call threw (it was not raised by a RayGen runtime at the call's " +
                "owner, or it was made or deserialized without its capture).");
        }

        return Replayer ?? throw new InvalidOperationException(
            $"This failure of {FunctionName} (call {FailedTask}) cannot be replayed here: it was made or deserialized outside the runtime that captured " +
            "the call. Replay it from the exception the runtime threw, or from a capture file (RayOptions.FailedTaskCapture.Directory, `raygen replay FILE`).");
    }

    /// <inheritdoc/>
    public override string? StackTrace =>
        $"{RemoteStackTrace}{Environment.NewLine}   --- end of remote stack trace ---{Environment.NewLine}{base.StackTrace}";

    private static string FormatMessage(string functionName, string type, string message, int? pid) =>
        pid is { } p
            ? $"Task {functionName} failed on worker pid {p}: {type}: {message}"
            : $"Task {functionName} failed: {type}: {message}";
}

/// <summary>The worker process running a task died, and the task ran out of retries.</summary>
public sealed class WorkerDiedException : RayException
{
    /// <summary>Creates the exception.</summary>
    public WorkerDiedException(string functionName, int workerProcessId, int? exitCode, int attempts)
        : base($"Task {functionName} failed: its worker process (pid {workerProcessId}) died" +
               (exitCode is { } code ? $" with exit code {code}" : string.Empty) +
               $" after {attempts} attempt{(attempts == 1 ? string.Empty : "s")}.")
    {
        FunctionName = functionName;
        WorkerProcessId = workerProcessId;
        ExitCode = exitCode;
        Attempts = attempts;
    }

    /// <summary>The task's function name.</summary>
    public string FunctionName { get; }

    /// <summary>The process id of the worker that died last.</summary>
    public int WorkerProcessId { get; }

    /// <summary>Its exit code, when the process could be reaped.</summary>
    public int? ExitCode { get; }

    /// <summary>How many times the task was started.</summary>
    public int Attempts { get; }
}

/// <summary>A task could not finish because the node it ran on died (it stopped answering, or it was stopped), after its retries (Ray's <c>NodeDiedError</c>).</summary>
public sealed class NodeDiedException : RayException
{
    /// <summary>Creates the exception.</summary>
    public NodeDiedException(string functionName, string nodeId, string reason, int attempts)
        : base($"Task {functionName} failed: node {nodeId}, where it ran, died ({reason}) after {attempts} attempt{(attempts == 1 ? string.Empty : "s")}.")
    {
        FunctionName = functionName;
        NodeId = nodeId;
        Attempts = attempts;
    }

    /// <summary>The task's function name.</summary>
    public string FunctionName { get; }

    /// <summary>The node that died.</summary>
    public string NodeId { get; }

    /// <summary>How many times the task was started.</summary>
    public int Attempts { get; }
}

/// <summary>The task was cancelled with <c>ray.Cancel(ref)</c>.</summary>
public sealed class TaskCancelledException : OperationCanceledException
{
    /// <summary>Creates the exception.</summary>
    public TaskCancelledException(string functionName)
        : base($"Task {functionName} was cancelled.")
    {
        FunctionName = functionName;
    }

    /// <summary>The task's function name.</summary>
    public string FunctionName { get; }
}

/// <summary>A blocking <c>Get(timeout)</c> ran out of time; the message names the task and its state.</summary>
public sealed class GetTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    public GetTimeoutException(ObjectId objectId, string description, TimeSpan timeout)
        : base($"Timed out after {timeout.TotalSeconds:0.###} s waiting for object {objectId}: {description}.")
    {
        ObjectId = objectId;
    }

    /// <summary>The object that was not ready in time.</summary>
    public ObjectId ObjectId { get; }
}

/// <summary>A task asks for resources that no node in the cluster has, so it could never run.</summary>
public sealed class InfeasibleTaskException : RayException
{
    /// <summary>Creates the exception.</summary>
    public InfeasibleTaskException(string message)
        : base(message)
    {
    }
}

/// <summary>An argument or result could not be serialized or deserialized; the message names which and why.</summary>
public sealed class RaySerializationException : RayException
{
    /// <summary>Creates the exception.</summary>
    public RaySerializationException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The object is unknown to the runtime: never created, already freed, or from another cluster.</summary>
public sealed class ObjectNotFoundException : RayException
{
    /// <summary>Creates the exception.</summary>
    public ObjectNotFoundException(ObjectId objectId)
        : base($"Object {objectId} does not exist in this cluster: it was never created here or has been freed.")
    {
        ObjectId = objectId;
    }

    /// <summary>Creates the exception with a message that says more than that the object is missing.</summary>
    public ObjectNotFoundException(ObjectId objectId, string message)
        : base(message)
    {
        ObjectId = objectId;
    }

    /// <summary>The missing object.</summary>
    public ObjectId ObjectId { get; }
}

/// <summary>
/// The object existed but can no longer be read: its owner's node died, or every copy of it was lost (Ray's
/// <c>ObjectLostError</c> and <c>OwnerDiedError</c>). <see cref="Reason"/> says which.
/// </summary>
public sealed class ObjectLostException : RayException
{
    /// <summary>Creates the exception.</summary>
    public ObjectLostException(ObjectId objectId, string reason)
        : base($"Object {objectId} was lost: {reason}.")
    {
        ObjectId = objectId;
        Reason = reason;
    }

    /// <summary>The lost object.</summary>
    public ObjectId ObjectId { get; }

    /// <summary>Why it was lost.</summary>
    public string Reason { get; }
}

/// <summary>
/// The actor is dead: killed with <c>ray.Kill</c>, its constructor threw, or its worker died and it ran out of
/// restarts. The message says which; <see cref="Exception.InnerException"/> carries a constructor's exception.
/// </summary>
public sealed class ActorDiedException : RayException
{
    /// <summary>Creates the exception.</summary>
    public ActorDiedException(ActorId actorId, string actorClass, string reason, Exception? innerException = null)
        : base($"Actor {actorClass} ({actorId}) is dead: {reason}", innerException)
    {
        ActorId = actorId;
        ActorClass = actorClass;
        Reason = reason;
    }

    /// <summary>The actor.</summary>
    public ActorId ActorId { get; }

    /// <summary>The actor's class name.</summary>
    public string ActorClass { get; }

    /// <summary>Why it died.</summary>
    public string Reason { get; }
}

/// <summary>
/// The node's object store has no room for an object: its shared memory is full of objects still in use, and
/// spilling to disk could not make room (no object could be spilled, or the spill directory is full). The message
/// gives the sizes involved.
/// </summary>
public sealed class ObjectStoreFullException : RayException
{
    /// <summary>Creates the exception.</summary>
    public ObjectStoreFullException(string message, long requestedBytes, long capacityBytes, long usedBytes)
        : base(message)
    {
        RequestedBytes = requestedBytes;
        CapacityBytes = capacityBytes;
        UsedBytes = usedBytes;
    }

    /// <summary>The size of the object that did not fit, in bytes.</summary>
    public long RequestedBytes { get; }

    /// <summary>The shared-memory capacity of the store (<c>RayOptions.ObjectStoreMemory</c>), in bytes.</summary>
    public long CapacityBytes { get; }

    /// <summary>The bytes in use in shared memory when the object did not fit.</summary>
    public long UsedBytes { get; }
}

/// <summary>
/// A stored object's bytes are damaged or gone: its segment in shared memory fails its checks (a bad header or
/// trailer, or a segment shorter than the object), or its spilled copy on disk is missing or truncated.
/// </summary>
public sealed class ObjectCorruptedException : RayException
{
    /// <summary>Creates the exception.</summary>
    public ObjectCorruptedException(ObjectId objectId, string detail)
        : base($"Object {objectId} cannot be read: {detail}")
    {
        ObjectId = objectId;
        Detail = detail;
    }

    /// <summary>What is wrong with the object's bytes.</summary>
    public string Detail { get; }

    /// <summary>The object.</summary>
    public ObjectId ObjectId { get; }
}
