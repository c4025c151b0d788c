using System.Security.Authentication;
using Grpc.Core;

namespace Ray.Transport;

/// <summary>What a failed call to another process of the cluster means for the user.</summary>
internal static class ClusterErrors
{
    private const string TlsFlags = "--tls-cert, --tls-key and --tls-ca, or RayOptions.TlsCertificatePath, TlsKeyPath and TlsCaPath";

    /// <summary>
    /// An exception that says what went wrong talking to <paramref name="peer"/>, from a gRPC status.
    /// <paramref name="tls"/> says whether this side called with TLS: a connection that a node closes before HTTP/2
    /// begins means one thing with TLS (the node refused this side's certificate) and another without (the node
    /// expects TLS).
    /// </summary>
    public static RayException FromRpc(RpcException e, string peer, bool tls) => e.StatusCode switch
    {
        StatusCode.Unauthenticated => new RayException($"{Capitalize(peer)} refused the call: {e.Status.Detail}", e),

        // A connection that fails before the call starts is UNAVAILABLE or, for some failures of the HTTP/2 layer, INTERNAL.
        StatusCode.Unavailable or StatusCode.Internal when Innermost<AuthenticationException>(e.Status.DebugException) is { } handshake => new RayException(
            $"The TLS handshake with {peer} failed: {Messages(handshake)} In a cluster with TLS every node, driver and CLI command " +
            $"holds a certificate of the cluster's CA and trusts that CA alone ({TlsFlags}); a node without TLS fails every handshake.",
            e),
        StatusCode.Unavailable or StatusCode.Internal when ClosedBeforeHttp2(e.Status.DebugException) => new RayException(
            tls
                ? $"{Capitalize(peer)} closed the connection right after the TLS handshake: it refused this side's certificate " +
                  "(one the cluster's CA did not issue, or not meant for clients; the node logs why), or it does not use TLS."
                : $"{Capitalize(peer)} closed the connection before HTTP/2 began: it uses TLS, which this side did not ask for " +
                  $"(give it a certificate of the cluster's CA: {TlsFlags}), or it is not a RayGen node.",
            e),
        StatusCode.Unavailable => new RayException(
            $"Could not reach {peer}: {e.Status.Detail}. Is the cluster running (raygen status), and is the address right?", e),
        StatusCode.FailedPrecondition => new RayException($"{Capitalize(peer)} refused: {e.Status.Detail}", e),
        _ => new RayException($"A call to {peer} failed with {e.StatusCode}: {e.Status.Detail}", e),
    };

    /// <summary>
    /// Whether the server ended the connection before its HTTP/2 preface: what a TLS endpoint does to a plain-text
    /// client, and what a mutual-TLS server does once it has refused the client's certificate (under TLS 1.3 the
    /// client learns of that only after its side of the handshake is done). SocketsHttpHandler says so in one of
    /// three ways, depending on where the close finds it: an invalid or ended response while it waits for the
    /// server's SETTINGS frame; a plain <see cref="IOException"/> while it writes its own preface; or, for a request
    /// that waited for that connection, an error of no kind and no cause (the connection shut down before it carried
    /// a request).
    /// </summary>
    private static bool ClosedBeforeHttp2(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case HttpRequestException { HttpRequestError: HttpRequestError.InvalidResponse or HttpRequestError.ResponseEnded }:
                case HttpIOException { HttpRequestError: HttpRequestError.InvalidResponse or HttpRequestError.ResponseEnded }:
                case HttpRequestException { HttpRequestError: HttpRequestError.Unknown, InnerException: null }:
                case HttpRequestException { InnerException: { } inner } when inner.GetType() == typeof(IOException):
                    return true;
            }
        }

        return false;
    }

    private static T? Innermost<T>(Exception? exception)
        where T : Exception
    {
        T? found = null;
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is T match)
            {
                found = match;
            }
        }

        return found;
    }

    /// <summary>The messages of <paramref name="exception"/> and the exceptions inside it, each ending its sentence.</summary>
    private static string Messages(Exception exception)
    {
        var messages = new List<string>();
        for (var e = exception; e is not null; e = e.InnerException)
        {
            var message = e.Message.TrimEnd();
            messages.Add(message.EndsWith('.') ? message : message + ".");
        }

        return string.Join(' ', messages);
    }

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
