using Microsoft.Extensions.Logging;

namespace Ray.Logging;

/// <summary>
/// The categories RayGen logs under (filter them with <c>AddFilter("Ray.Scheduler", LogLevel.Debug)</c> and the
/// like); the README lists what each says.
/// </summary>
internal static class LogCategories
{
    public const string Raylet = "Ray.Raylet";
    public const string Scheduler = "Ray.Scheduler";
    public const string Actors = "Ray.Actors";
    public const string WorkerPool = "Ray.WorkerPool";
    public const string ObjectStore = "Ray.ObjectStore";
    public const string ObjectManager = "Ray.ObjectManager";
    public const string Worker = "Ray.Worker";
    public const string Gcs = "Ray.Gcs";
    public const string Packages = "Ray.Packages";

    /// <summary>The links between nodes, drivers and the CLI: refused calls (a missing or wrong token), TLS problems.</summary>
    public const string Transport = "Ray.Transport";

    /// <summary>Failures no one looked at: a fire-and-forget call that failed and whose result was dropped unread.</summary>
    public const string UnhandledErrors = "Ray.UnhandledErrors";

    /// <summary>Failed calls kept for replay, written to capture files, and replayed.</summary>
    public const string Replay = "Ray.Replay";
}

/// <summary>RayGen's log messages that may come often, compiled once (<see cref="LoggerMessageAttribute"/>).</summary>
internal static partial class RayLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Node {NodeId} started: resources {Resources}; object store {Capacity} in {Directory}.")]
    public static partial void NodeStarted(this ILogger logger, string nodeId, string resources, string capacity, string directory);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Job {Job} started on node {NodeId} with {Workers} worker process(es), its code from {AppDirectory}.")]
    public static partial void JobStarted(this ILogger logger, JobId job, string nodeId, int workers, string appDirectory);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "Job {Job} ended on node {NodeId}: {Reason}.")]
    public static partial void JobEnded(this ILogger logger, JobId job, string nodeId, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Worker {Index} (pid {Pid}) exited with code {ExitCode}; starting a replacement.")]
    public static partial void WorkerReplaced(this ILogger logger, int index, int pid, int exitCode);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "Started {Kind} worker {Index} with pid {Pid}.")]
    public static partial void WorkerStarted(this ILogger logger, string kind, int index, int pid);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Worker {Index} (pid {Pid}) exited with code {ExitCode} while the node stops.")]
    public static partial void WorkerExitedWhileStopping(this ILogger logger, int index, int pid, int exitCode);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Worker pid {Pid} died (exit code {ExitCode}) while running {Task}; retrying (attempt {Attempt} of {MaxAttempts}).")]
    public static partial void TaskRetriedAfterWorkerDied(this ILogger logger, int pid, string exitCode, string task, int attempt, int maxAttempts);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Task {Task} threw {ExceptionType}: {Message}; retrying (attempt {Attempt} of {MaxAttempts}, RetryExceptions is set).")]
    public static partial void TaskRetriedAfterException(this ILogger logger, string task, string exceptionType, string message, int attempt, int maxAttempts);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "Node {Node}, where {Task} ran, died ({Reason}); retrying (attempt {Attempt} of {MaxAttempts}).")]
    public static partial void TaskRetriedAfterNodeDied(this ILogger logger, string task, string node, string reason, int attempt, int maxAttempts);

    [LoggerMessage(EventId = 14, Level = LogLevel.Information, Message = "Streaming call {Task} runs again (attempt {Attempt}) and goes on after the {Items} item(s) its earlier attempts delivered.")]
    public static partial void StreamResumed(this ILogger logger, string task, int attempt, int items);

    [LoggerMessage(EventId = 15, Level = LogLevel.Debug, Message = "Dropped item {Index} of streaming call {Task} from {Sender}: it is not the next item of the attempt that runs now.")]
    public static partial void StreamItemDropped(this ILogger logger, long index, ObjectId task, string sender);

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning, Message = "Could not hand the references in item {Index} of streaming call {Task} to its owner: {Reason}")]
    public static partial void StreamItemHandOffFailed(this ILogger logger, long index, ObjectId task, string reason);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "Task {Task} was cancelled with force: ending worker pid {Pid}, which is replaced.")]
    public static partial void TaskForceCancelled(this ILogger logger, string task, int pid);

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "Actor {Class} {Id}: {How}; restarting ({Restart} of {Max}).")]
    public static partial void ActorRestarting(this ILogger logger, string @class, ActorId id, string how, int restart, int max);

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "Ignored a {Kind} message from {Sender}.")]
    public static partial void IgnoredMessage(this ILogger logger, string kind, string sender);

    [LoggerMessage(EventId = 50, Level = LogLevel.Information, Message = "Node {NodeId} at {Address} joined the cluster{Head}.")]
    private static partial void NodeJoined(this ILogger logger, string nodeId, string address, string head);

    public static void NodeJoined(this ILogger logger, string nodeId, string address, bool isHead) =>
        logger.NodeJoined(nodeId, address, isHead ? " (head)" : string.Empty);

    [LoggerMessage(EventId = 51, Level = LogLevel.Warning, Message = "Node {NodeId} at {Address} is dead: {Reason}.")]
    public static partial void NodeDied(this ILogger logger, string nodeId, string address, string reason);

    [LoggerMessage(EventId = 52, Level = LogLevel.Information, Message = "Job {Job} added: driver pid {Pid} on node {NodeId}.")]
    public static partial void JobAdded(this ILogger logger, JobId job, int pid, string nodeId);

    [LoggerMessage(EventId = 40, Level = LogLevel.Error, Message = "Unhandled error in {Task}, whose result was dropped without being read: {Error}")]
    public static partial void UnhandledError(this ILogger logger, string task, string error);
}
