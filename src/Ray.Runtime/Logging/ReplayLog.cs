using Microsoft.Extensions.Logging;

namespace Ray.Logging;

/// <summary>The log messages of failed-call capture and replay (category <see cref="LogCategories.Replay"/>).</summary>
internal static partial class ReplayLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Debug, Message = "Kept failed call {Function} ({TaskId}, {Bytes} of arguments) for replay.")]
    public static partial void FailedCallCaptured(this ILogger logger, string function, ObjectId taskId, string bytes);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "Failed call {Function} ({TaskId}) written to {Path}; run it again with: raygen replay {Path}")]
    public static partial void FailedCallWritten(this ILogger logger, string function, ObjectId taskId, string path);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Could not write failed call {Function} ({TaskId}) to {Directory}: {Reason}")]
    public static partial void FailedCallNotWritten(this ILogger logger, string function, ObjectId taskId, string directory, string reason);

    [LoggerMessage(EventId = 203, Level = LogLevel.Information, Message = "Replaying {Function} ({TaskId}) in this process.")]
    public static partial void ReplayingTask(this ILogger logger, string function, ObjectId taskId);

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "Replaying {Function} ({TaskId}) on a new {ActorClass} made by {Constructor} from its recorded arguments: the state of the actor that failed (what its earlier calls did) is not restored, so the replay may differ.")]
    public static partial void ReplayingActorMethod(this ILogger logger, string function, ObjectId taskId, string actorClass, string constructor);
}
