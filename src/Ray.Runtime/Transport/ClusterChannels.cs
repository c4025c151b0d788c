using System.Net.Sockets;
using System.Security.Cryptography;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Ray.Hosting;

namespace Ray.Transport;

/// <summary>
/// TCP channels between the processes of a cluster: HTTP/2 (in the clear without TLS, which the docs say plainly),
/// the cluster token on every call, flow-control windows sized for object transfers, and the matching Kestrel settings.
/// </summary>
internal static class ClusterChannels
{
    /// <summary>HTTP/2 windows large enough that a transfer of big chunks is not throttled by acknowledgements on loopback.</summary>
    private const int WindowSize = 16 * 1024 * 1024;

    /// <summary>A channel to <paramref name="address"/> (<c>host:port</c>) that sends the token with every call.</summary>
    /// <exception cref="RayException">The address is not <c>host:port</c>.</exception>
    public static GrpcChannel Create(string address, string token, TlsFiles? tls)
    {
        var (host, port) = Parse(address);
        if (tls is not null)
        {
            throw new RayException("TLS between nodes is not available yet: start the cluster without --tls-cert.");
        }

        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            KeepAlivePingDelay = TimeSpan.FromSeconds(10),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            InitialHttp2StreamWindowSize = WindowSize,
        };
        var credentials = CallCredentials.FromInterceptor((_, metadata) =>
        {
            metadata.Add(ClusterAuthentication.HeaderName, ClusterAuthentication.HeaderValue(token));
            return Task.CompletedTask;
        });
        return GrpcChannel.ForAddress($"http://{host}:{port}", new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
            Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, credentials),
            UnsafeUseInsecureChannelCallCredentials = true,
        });
    }

    /// <summary>Sets up a TCP endpoint of a node: HTTP/2 only.</summary>
    public static void ConfigureListen(ListenOptions listen, TlsFiles? tls)
    {
        if (tls is not null)
        {
            throw new RayException("TLS between nodes is not available yet: start the cluster without --tls-cert.");
        }

        listen.Protocols = HttpProtocols.Http2;
    }

    /// <summary>Kestrel limits for a node: many streams per connection, windows sized for object transfers.</summary>
    public static void ConfigureLimits(KestrelServerLimits limits)
    {
        limits.Http2.MaxStreamsPerConnection = 1024;
        limits.Http2.InitialConnectionWindowSize = WindowSize;
        limits.Http2.InitialStreamWindowSize = WindowSize;
    }

    /// <summary>Splits <c>host:port</c>.</summary>
    /// <exception cref="RayException">It is not of that form.</exception>
    public static (string Host, int Port) Parse(string address)
    {
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address[(colon + 1)..], out var port) || port is <= 0 or > 65535)
        {
            throw new RayException($"'{address}' is not a cluster address: give it as HOST:PORT, for example 127.0.0.1:6380.");
        }

        return (address[..colon], port);
    }
}

/// <summary>The cluster token: made once by the head when none is given.</summary>
internal static class ClusterTokens
{
    /// <summary>A new token: 32 random bytes, URL-safe base64 without padding.</summary>
    public static string Generate() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>What a failed call to another process of the cluster means for the user.</summary>
internal static class ClusterErrors
{
    /// <summary>An exception that says what went wrong talking to <paramref name="peer"/>, from a gRPC status.</summary>
    public static RayException FromRpc(RpcException e, string peer) => e.StatusCode switch
    {
        StatusCode.Unauthenticated => new RayException($"{Capitalize(peer)} refused the call: {e.Status.Detail}", e),
        StatusCode.Unavailable => new RayException(
            $"Could not reach {peer}: {e.Status.Detail}. Is the cluster running (raygen status), and is the address right?", e),
        StatusCode.FailedPrecondition => new RayException($"{Capitalize(peer)} refused: {e.Status.Detail}", e),
        _ => new RayException($"A call to {peer} failed with {e.StatusCode}: {e.Status.Detail}", e),
    };

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
