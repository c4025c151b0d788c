using Grpc.Core;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Ray.Runtime.Protocol;
using Ray.Transport;

namespace Ray.Raylet;

/// <summary>
/// The node's end of the links other raylets open to it (<see cref="NodeLinks.Protocol"/>): a Kestrel connection
/// middleware on the cluster port, inside TLS when the cluster has it, beside the object stream and the gRPC services.
/// A connection that opens with the link's magic stays here: its hello frame's token is checked, then
/// <see cref="NodeLinks.AcceptAsync"/> serves it as it serves the gRPC stream. A refusal (token, version, a malformed
/// opening) is sent as the closing status frame, with the code gRPC would have used, and logged with the peer.
/// </summary>
internal sealed class NodeLinkServer(Func<NodeLinks?> links, ClusterTokenAuthenticator authenticator, ILogger logger)
{
    /// <summary>How long a new connection may take to send its opening; a raylet sends it at once.</summary>
    public static readonly TimeSpan OpeningTimeout = TimeSpan.FromSeconds(30);

    private static readonly byte[] MagicBytes = NodeLinks.Magic.ToArray();

    /// <summary>Puts the node links in front of what else <paramref name="listen"/> serves (call it after TLS is set up).</summary>
    public void Listen(ListenOptions listen) => ConnectionOpening.Use(listen, MagicBytes, OpeningTimeout, ServeAsync);

    private Task ServeAsync(ConnectionContext connection, CancellationToken opening)
    {
        var peer = connection.RemoteEndPoint?.ToString() ?? "an unknown peer";
        return FramedStreamServer.ServeAsync(connection, NodeLinks.Protocol, NodeLinks.Protocol, peer, authenticator, logger, opening, async (writer, cancellationToken) =>
        {
            if (links() is not { } accepting)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "This node does not take links from other nodes."));
            }

            var requests = new FramedStreamReader<NodeBatch>(connection.Transport.Input, NodeBatch.Parser, NodeLinks.Protocol);
            await accepting.AcceptAsync(requests, batch => writer.WriteAsync(batch, cancellationToken), peer, cancellationToken).ConfigureAwait(false);
            return null;
        });
    }
}
