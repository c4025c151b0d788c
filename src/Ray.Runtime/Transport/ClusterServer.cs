using System.Net;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ray.Transport;

/// <summary>
/// Kestrel settings for an endpoint other processes of the cluster call (a node's or the GCS's TCP port): HTTP/2
/// only (beside a node's object stream, which its own connection middleware takes off the port), TLS when the
/// credentials have it, and limits sized for bulk transfer rather than for web traffic.
/// </summary>
internal static class ClusterServer
{
    /// <summary>
    /// The connection's receive window: 32 MiB, room for two streams at <see cref="ClusterChannel.StreamWindowSize"/>.
    /// Kestrel's default of 1 MiB would make every bulk stream on a link (a package download, a link's batches of
    /// large values) share 1 MiB in flight. Objects in the store move over the object stream, outside HTTP/2.
    /// </summary>
    public const int ConnectionWindowSize = 2 * ClusterChannel.StreamWindowSize;

    /// <summary>
    /// <c>AddGrpc</c> for a cluster endpoint: no message size limits (objects up to the store's size travel as
    /// messages, and gRPC's 4 MiB default would refuse them) and the token check on every service.
    /// </summary>
    public static IGrpcServerBuilder AddClusterGrpc(this IServiceCollection services, ClusterToken token, ILogger logger)
    {
        services.AddClusterTokenAuthentication(token, logger);
        return services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = null;
            o.MaxSendMessageSize = null;
        });
    }

    /// <summary>
    /// Listens on <paramref name="endpoint"/> (port 0 picks a free one) with <paramref name="credentials"/>' TLS, if
    /// any, and applies the cluster's limits. The token check is separate: <see cref="AddClusterGrpc"/>.
    /// <paramref name="connections"/> adds connection middleware that sees each connection's bytes inside TLS and
    /// before HTTP/2 (a node's object stream, <c>ObjectManager/ObjectStreamServer</c>).
    /// </summary>
    public static void Listen(IWebHostBuilder webHost, IPEndPoint endpoint, ClusterCredentials credentials, ILogger logger, Action<ListenOptions>? connections = null)
    {
        webHost.ConfigureKestrel(kestrel =>
        {
            ApplyLimits(kestrel);
            kestrel.Listen(endpoint, listen =>
            {
                if (credentials.Tls is { } tls)
                {
                    tls.ConfigureServer(listen, logger);
                }
                else
                {
                    // Plain HTTP/2 with prior knowledge (h2c): no HTTP/1.1 upgrade dance, and nothing else is offered.
                    listen.Protocols = HttpProtocols.Http2;
                }

                // After UseHttps, so that TLS wraps what it reads and writes.
                connections?.Invoke(listen);
            });
        });
    }

    /// <summary>The limits of a cluster endpoint; see the comments for why each differs from Kestrel's.</summary>
    private static void ApplyLimits(KestrelServerOptions kestrel)
    {
        var http2 = kestrel.Limits.Http2;
        http2.InitialConnectionWindowSize = ConnectionWindowSize;
        http2.InitialStreamWindowSize = ClusterChannel.StreamWindowSize;

        // Many streams per link (a driver's calls, forwarded tasks, pulls), and the client opens another connection
        // past this (EnableMultipleHttp2Connections).
        http2.MaxStreamsPerConnection = 1024;

        // Pings from the server too, so a client that vanished frees its streams (and what they hold) within 30 s.
        http2.KeepAlivePingDelay = TimeSpan.FromSeconds(15);
        http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(15);

        // Objects up to the store's size travel in messages; gRPC lifts this limit only on streaming calls.
        kestrel.Limits.MaxRequestBodySize = null;
    }
}
