using System.Net.Http.Headers;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ray.Transport;

/// <summary>
/// Creates the gRPC channels between processes of a cluster (node to node, driver or CLI to a node or the GCS):
/// HTTP/2 over TCP, with TLS and ALPN <c>h2</c> when the credentials have TLS and plain HTTP/2 (h2c, prior
/// knowledge) when not, and the cluster token on every call.
/// </summary>
internal static class ClusterChannel
{
    /// <summary>How long a TCP connect may take before the attempt fails, unless the caller says otherwise.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The receive window each HTTP/2 stream starts with: 16 MiB, the most SocketsHttpHandler allows by default. A
    /// package's chunks, or a link's batches, stream over one call, so the window bounds their rate: 64 KiB (HTTP/2's
    /// default) per round trip is about 60 MiB/s at a 1 ms round trip. SocketsHttpHandler widens the window as a
    /// transfer goes, but starting wide spares every transfer that ramp-up.
    /// </summary>
    public const int StreamWindowSize = 16 * 1024 * 1024;

    /// <summary>
    /// A channel to the node or GCS at <paramref name="address"/> (<c>host:port</c>). Nothing is dialled yet: the first
    /// call connects, or <see cref="ConnectAsync"/> does so and reports an unreachable address clearly.
    /// </summary>
    /// <exception cref="RayException">The address is not <c>host:port</c>.</exception>
    public static GrpcChannel Create(string address, ClusterCredentials credentials, ILoggerFactory? loggerFactory = null, TimeSpan? connectTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        var target = ClusterAddress.Parse(address);
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger(Logging.LogCategories.Transport);
        var sockets = new SocketsHttpHandler
        {
            ConnectTimeout = connectTimeout ?? DefaultConnectTimeout,

            // A link between nodes carries many concurrent streams (task batches, results, package chunks): once one
            // connection has its 100 streams or so the server allows, open another instead of queueing calls.
            EnableMultipleHttp2Connections = true,
            InitialHttp2StreamWindowSize = StreamWindowSize,

            // Pings find a peer that vanished without closing (a machine that lost power, a cut cable) within 30 s
            // even on an idle link, where TCP alone would wait for minutes.
            KeepAlivePingDelay = TimeSpan.FromSeconds(15),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(15),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,

            // Links are long-lived; a connection idle for a while is kept rather than redialled (and re-handshaken).
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            UseProxy = false,
            SslOptions = credentials.Tls?.ClientOptions(target.Host, logger) ?? new(),
        };

        return GrpcChannel.ForAddress(target.ToUri(credentials.Tls is not null), new GrpcChannelOptions
        {
            // The client's own logs stay off, as the framework's do in every host RayGen embeds.
            HttpHandler = new BearerTokenHandler(credentials.Token, sockets),
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
        });
    }

    /// <summary>
    /// Connects <paramref name="channel"/> (created for <paramref name="address"/>) now, so that an address nothing
    /// listens on fails here with a message that names it, instead of as the first call's UNAVAILABLE. Fails at the
    /// first failed attempt rather than retrying until <paramref name="timeout"/>.
    /// </summary>
    /// <exception cref="RayException">No connection could be made.</exception>
    public static async Task ConnectAsync(GrpcChannel channel, string address, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var connecting = channel.ConnectAsync(deadline.Token);
        try
        {
            for (var state = channel.State; state != ConnectivityState.Ready; state = channel.State)
            {
                if (state is ConnectivityState.TransientFailure)
                {
                    throw Unreachable(address, "the connection was refused or failed");
                }

                await channel.WaitForStateChangedAsync(state, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unreachable(address, $"no connection within {timeout.TotalSeconds:0.#} s");
        }
        finally
        {
            // The channel keeps retrying in the background until this is cancelled.
            await deadline.CancelAsync().ConfigureAwait(false);
            await connecting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static RayException Unreachable(string address, string why) =>
        new($"Cannot reach a RayGen node at {address}: {why}. Check that a node listens there (raygen status on that machine) and that no firewall blocks the port.");

    /// <summary>
    /// Puts the token on every HTTP/2 request, which is every gRPC call. A handler rather than CallCredentials:
    /// Grpc.Net.Client sends call credentials only over TLS (or with UnsafeUseInsecureChannelCallCredentials), yet a
    /// cluster without TLS must send the token too, and one code path for both is one that cannot forget it. It also
    /// costs a header per call instead of an async credentials callback and a metadata object. The handler wraps the
    /// SocketsHttpHandler, which Grpc.Net.Client still finds, so connectivity state and ConnectAsync keep working
    /// (a client interceptor would have turned the channel into a bare CallInvoker).
    /// </summary>
    private sealed class BearerTokenHandler(ClusterToken token, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        // Immutable and shared: HttpHeaders only reads it.
        private readonly AuthenticationHeaderValue _authorization = new("Bearer", token.Value);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = _authorization;
            return base.SendAsync(request, cancellationToken);
        }
    }
}
