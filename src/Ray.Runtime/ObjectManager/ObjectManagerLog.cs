using Microsoft.Extensions.Logging;

namespace Ray.ObjectManager;

/// <summary>What object transfer logs (category <c>Ray.ObjectManager</c>), compiled once.</summary>
internal static partial class ObjectManagerLog
{
    [LoggerMessage(EventId = 60, Level = LogLevel.Debug, Message = "Sent object {Id} ({Bytes} bytes) to {Peer} in {Milliseconds:0.0} ms.")]
    public static partial void ObjectServed(this ILogger logger, ObjectId id, long bytes, string peer, double milliseconds);

    [LoggerMessage(EventId = 61, Level = LogLevel.Debug, Message = "Stopped sending object {Id} to {Peer} after {Bytes} bytes: {Reason}")]
    public static partial void ObjectServeAbandoned(this ILogger logger, ObjectId id, string peer, long bytes, string reason);

    [LoggerMessage(EventId = 62, Level = LogLevel.Debug, Message = "Pulled object {Id} ({Bytes} bytes) in {Milliseconds:0.0} ms over {Streams} stream(s).")]
    public static partial void ObjectPulled(this ILogger logger, ObjectId id, long bytes, double milliseconds, int streams);

    [LoggerMessage(EventId = 63, Level = LogLevel.Warning, Message = "Pulling object {Id} from {Location} failed at byte {Position}: {Reason}; trying another location.")]
    public static partial void PullRetrying(this ILogger logger, ObjectId id, string location, long position, string reason);

    [LoggerMessage(EventId = 64, Level = LogLevel.Warning, Message = "{Message}")]
    public static partial void PullFailed(this ILogger logger, string message);

    [LoggerMessage(EventId = 65, Level = LogLevel.Warning, Message = "Closed the object stream from {Peer}: {Reason}.")]
    public static partial void ObjectStreamBroken(this ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 66, Level = LogLevel.Error, Message = "Refused the object stream from {Peer}: {Reason}")]
    public static partial void ObjectStreamRefused(this ILogger logger, string peer, string reason);
}
