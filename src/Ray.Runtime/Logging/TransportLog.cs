using Microsoft.Extensions.Logging;

namespace Ray.Logging;

/// <summary>
/// The transport's log messages (category <see cref="LogCategories.Transport"/>). None of them takes a token: what a
/// caller presented is described ("missing", "wrong"), never repeated.
/// </summary>
internal static partial class TransportLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Warning, Message = "Refused {Method} from {Peer}: the cluster token is {Problem}.")]
    public static partial void CallRefused(this ILogger logger, string method, string peer, string problem);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "The token file {Path} has mode {Mode}, so other users may read the cluster token; make it readable by its owner only (chmod 600).")]
    public static partial void TokenFileTooOpen(this ILogger logger, string path, string mode);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Refused a TLS connection from {Peer}: {Problem}.")]
    public static partial void CertificateRefused(this ILogger logger, string peer, string problem);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "Refused the TLS certificate of the server at {Host}: {Problem}.")]
    public static partial void ServerCertificateRefused(this ILogger logger, string host, string problem);
}
