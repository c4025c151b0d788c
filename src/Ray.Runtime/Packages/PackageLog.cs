using Microsoft.Extensions.Logging;

namespace Ray.Logging;

// The package store's, the package cache's and packaging's messages (category Ray.Packages), kept beside the code
// that logs them; the event ids 80-89 are theirs.
internal static partial class RayLog
{
    [LoggerMessage(EventId = 80, Level = LogLevel.Debug, Message = "Packaged {Directory} as {Id}: {Files} file(s), {Size}, in {ElapsedMs} ms.")]
    public static partial void PackageCreated(this ILogger logger, string directory, string id, int files, string size, long elapsedMs);

    [LoggerMessage(EventId = 81, Level = LogLevel.Debug, Message = "Not packaging '{Path}': {Reason}.")]
    public static partial void PackageFileSkipped(this ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 82, Level = LogLevel.Warning, Message = "Not packaging '{Path}': {Reason}; nodes that run the job from the package will not have it.")]
    public static partial void PackageFileLeftOut(this ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 83, Level = LogLevel.Information, Message = "Stored package {Id} ({Size}).")]
    public static partial void PackageStored(this ILogger logger, string id, string size);

    [LoggerMessage(EventId = 84, Level = LogLevel.Warning, Message = "Refused a package request from {Peer}: {Reason}")]
    public static partial void PackageRequestRefused(this ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 85, Level = LogLevel.Information, Message = "Fetched package {Id} ({Size}) into {Directory} in {ElapsedMs} ms.")]
    public static partial void PackageFetched(this ILogger logger, string id, string size, string directory, long elapsedMs);

    [LoggerMessage(EventId = 86, Level = LogLevel.Debug, Message = "Deleted '{Path}', left behind by an interrupted upload or extraction.")]
    public static partial void PackageLeftoverDeleted(this ILogger logger, string path);
}
