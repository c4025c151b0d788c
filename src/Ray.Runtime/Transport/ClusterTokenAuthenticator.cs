using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Ray.Logging;

namespace Ray.Transport;

/// <summary>
/// Checks the <c>authorization: Bearer &lt;token&gt;</c> header of a request (or the token of an object stream's
/// request) against the cluster's token: the one check behind the gRPC interceptor, the HTTP middleware and the object
/// stream, so all refuse the same requests with the same words and log them the same way.
/// </summary>
internal sealed class ClusterTokenAuthenticator(ClusterToken token, ILogger logger)
{
    /// <summary>What a call without a token is told.</summary>
    public const string MissingMessage = $"The cluster token is missing: this call has no 'authorization: Bearer <token>' header. To supply it, {ClusterToken.HowToSupply}.";

    /// <summary>What a call with a token other than the cluster's is told.</summary>
    public const string WrongMessage = $"The cluster token is wrong: this call's is not the token of the cluster it called. To supply the right one, {ClusterToken.HowToSupply}.";

    private const string BearerPrefix = "Bearer ";

    /// <summary>
    /// Checks <paramref name="context"/>'s authorization header; on a refusal logs it (with the peer's address, never
    /// what was presented) and returns the message for the caller, else returns null.
    /// </summary>
    public string? Refusal(HttpContext context)
    {
        var headers = context.Request.Headers.Authorization;
        var operation = context.Request.Path.Value ?? "/";
        if (headers.Count == 0 || (headers.Count == 1 && string.IsNullOrEmpty(headers[0])))
        {
            return Refuse(operation, Peer(context), missing: true);
        }

        if (headers.Count == 1 && IsBearer(headers[0]!, out var presented) && token.Matches(presented))
        {
            return null;
        }

        // Two headers, another scheme or another token: all are a token that is not this cluster's.
        return Refuse(operation, Peer(context), missing: false);
    }

    /// <summary>
    /// Checks a token that arrived outside HTTP (the object stream's requests): null or empty is a missing token. On a
    /// refusal logs it as <see cref="Refusal(HttpContext)"/> does, naming <paramref name="operation"/> and
    /// <paramref name="peer"/>, and returns the message for the caller; else returns null.
    /// </summary>
    public string? Refusal(string? presented, string operation, string peer)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return Refuse(operation, peer, missing: true);
        }

        return token.Matches(presented) ? null : Refuse(operation, peer, missing: false);
    }

    private string Refuse(string operation, string peer, bool missing)
    {
        logger.CallRefused(operation, peer, missing ? "missing" : "wrong");
        return missing ? MissingMessage : WrongMessage;
    }

    // The scheme is case-insensitive (RFC 7235); the token is not.
    private static bool IsBearer(string header, out ReadOnlySpan<char> presented)
    {
        var isBearer = header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase);
        presented = isBearer ? header.AsSpan(BearerPrefix.Length) : default;
        return isBearer;
    }

    private static string Peer(HttpContext context)
    {
        var connection = context.Connection;
        return connection.RemoteIpAddress is { } address
            ? new IPEndPoint(address, connection.RemotePort).ToString()
            : "an unknown peer";
    }
}
