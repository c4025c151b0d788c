using Ray.Infrastructure;
using Ray.Runtime.Protocol;

namespace Ray.Core;

/// <summary>
/// A failure stored in place of an object's value: the wire form (<see cref="ErrorInfo"/>) plus the
/// conversion to the exception a caller sees at <c>await</c>/<c>Get()</c>. Storing the error in the object
/// is what makes every dependent task fail with the same cause.
/// </summary>
internal static class RayErrors
{
    public static ErrorInfo TaskFailed(string functionName, Exception exception, int pid)
    {
        if (exception is ObjectStoreFullException or ObjectCorruptedException or ObjectNotFoundException)
        {
            // The caller sees the store's own exception, with the sizes or the object involved.
            var error = FromStore(exception);
            error.FunctionName = functionName;
            error.WorkerPid = pid;
            return error;
        }

        if (exception is RayTaskException remote)
        {
            // A failure that travelled through a nested task keeps its original cause, and the call that threw it.
            return new ErrorInfo
            {
                Kind = ErrorKind.TaskFailed,
                FunctionName = remote.FunctionName,
                ExceptionType = remote.RemoteExceptionType,
                Message = remote.RemoteMessage,
                StackTrace = remote.RemoteStackTrace,
                WorkerPid = remote.WorkerProcessId ?? pid,
                FailedTask = remote.FailedTask.IsNil ? null : remote.FailedTask.ToProto(),
                ActorClass = remote.ActorClass ?? string.Empty,
            };
        }

        return new ErrorInfo
        {
            Kind = ErrorKind.TaskFailed,
            FunctionName = functionName,
            ExceptionType = exception.GetType().FullName ?? exception.GetType().Name,
            Message = exception.Message,
            StackTrace = exception.StackTrace ?? string.Empty,
            WorkerPid = pid,
        };
    }

    public static ErrorInfo WorkerDied(string functionName, int pid, int? exitCode, int attempts) => new()
    {
        Kind = ErrorKind.WorkerDied,
        FunctionName = functionName,
        WorkerPid = pid,
        HasExitCode = exitCode.HasValue,
        ExitCode = exitCode ?? 0,
        Attempts = attempts,
    };

    public static ErrorInfo Cancelled(string functionName) => new() { Kind = ErrorKind.Cancelled, FunctionName = functionName };

    /// <summary>The node a task ran on died, and the task has no retries left.</summary>
    public static ErrorInfo NodeDied(string functionName, Guid node, string reason, int attempts) => new()
    {
        Kind = ErrorKind.NodeDied,
        FunctionName = functionName,
        Reason = reason,
        Message = node.ToString("n"),
        Attempts = attempts,
    };

    /// <summary>The task's job ended (its driver went away) before the task finished.</summary>
    public static ErrorInfo JobEnded(string functionName, JobId job) =>
        new() { Kind = ErrorKind.Cancelled, FunctionName = functionName, Message = $"job {job} ended" };

    public static ErrorInfo Infeasible(string functionName, string message) => new()
    {
        Kind = ErrorKind.Infeasible,
        FunctionName = functionName,
        Message = message,
    };

    public static ErrorInfo System(string functionName, string message) => new()
    {
        Kind = ErrorKind.System,
        FunctionName = functionName,
        Message = message,
    };

    /// <summary>The object can no longer be read (its owner's node died, or its copies are gone).</summary>
    public static ErrorInfo Lost(ObjectId id, string reason) => new() { Kind = ErrorKind.ObjectLost, Reason = reason, ObjectId = id.ToProto() };

    public static ErrorInfo NotFound(ObjectId id) => new() { Kind = ErrorKind.ObjectNotFound, Message = id.ToString(), ObjectId = id.ToProto() };

    /// <summary>The wire form of an <see cref="ObjectStoreFullException"/> or <see cref="ObjectCorruptedException"/>.</summary>
    public static ErrorInfo FromStore(Exception exception) => exception switch
    {
        ObjectStoreFullException full => new ErrorInfo
        {
            Kind = ErrorKind.ObjectStoreFull,
            Message = full.Message,
            RequestedBytes = (ulong)full.RequestedBytes,
            CapacityBytes = (ulong)full.CapacityBytes,
            UsedBytes = (ulong)full.UsedBytes,
        },
        ObjectCorruptedException corrupted => new ErrorInfo
        {
            Kind = ErrorKind.ObjectCorrupted,
            Message = corrupted.Detail,
            ObjectId = corrupted.ObjectId.ToProto(),
        },
        ObjectNotFoundException missing => NotFound(missing.ObjectId),
        _ => System("the object store", exception.Message),
    };

    /// <summary>
    /// The exception the caller sees for a stored error. A <see cref="RayTaskException"/> replays the call that threw
    /// through <paramref name="replayer"/> (this process's runtime); without one, <see cref="RayTaskException.Replay"/> says why it cannot.
    /// </summary>
    public static Exception ToException(ErrorInfo error, IFailedCallReplayer? replayer = null) => error.Kind switch
    {
        ErrorKind.TaskFailed => new RayTaskException(
            error.FunctionName, error.ExceptionType, error.Message, error.StackTrace, error.WorkerPid == 0 ? null : error.WorkerPid)
        {
            FailedTask = error.FailedTask.ToObjectId(),
            ActorClass = error.ActorClass.Length > 0 ? error.ActorClass : null,
            Replayer = replayer,
        },
        ErrorKind.WorkerDied => new WorkerDiedException(
            error.FunctionName, error.WorkerPid, error.HasExitCode ? error.ExitCode : null, error.Attempts),
        ErrorKind.Cancelled => new TaskCancelledException(error.FunctionName),
        ErrorKind.NodeDied => new NodeDiedException(error.FunctionName, error.Message, error.Reason, error.Attempts),
        ErrorKind.Infeasible => new InfeasibleTaskException(error.Message),
        ErrorKind.ObjectNotFound => new ObjectNotFoundException(error.ObjectId.ToObjectId()),
        ErrorKind.ObjectLost => new ObjectLostException(error.ObjectId.ToObjectId(), error.Reason),
        ErrorKind.ObjectStoreFull => new ObjectStoreFullException(error.Message, (long)error.RequestedBytes, (long)error.CapacityBytes, (long)error.UsedBytes),
        ErrorKind.ObjectCorrupted => new ObjectCorruptedException(error.ObjectId.ToObjectId(), error.Message),
        ErrorKind.ActorDied => new ActorDiedException(
            new ActorId(error.ActorId.ToObjectId()),
            error.ActorClass,
            error.Reason,
            error.ExceptionType.Length > 0
                ? new RayTaskException(error.FunctionName, error.ExceptionType, error.Message, error.StackTrace, error.WorkerPid == 0 ? null : error.WorkerPid)
                : null),
        _ => new RayException($"Task {error.FunctionName} could not run: {error.Message}"),
    };
}
