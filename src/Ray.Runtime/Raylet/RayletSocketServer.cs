using Grpc.Core;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Ray.Runtime.Protocol;
using Ray.Transport;

namespace Ray.Raylet;

/// <summary>
/// The raylet's end of its <see cref="FramedStream"/>: a Kestrel connection middleware on the node's Unix socket. It
/// looks at the first bytes of every connection: an HTTP/2 client's go on, unread, to the node's gRPC services (where
/// <c>Raylet.Connect</c> serves the same stream over HTTP/2); the framed stream's magic keeps the connection here, where
/// the token is checked and <see cref="RayletService"/> serves it exactly as it serves the gRPC one. Whatever ends the
/// stream with a status (a refused token or version, a malformed frame) is sent as the closing status frame.
/// </summary>
internal sealed class RayletSocketServer(RayletService service, ClusterTokenAuthenticator authenticator, ILogger logger)
{
    /// <summary>How long a new connection may take to send its opening; a client of either protocol sends it at once.</summary>
    public static readonly TimeSpan OpeningTimeout = TimeSpan.FromSeconds(30);

    private static readonly byte[] MagicBytes = FramedStream.Magic.ToArray();

    /// <summary>Puts the framed stream in front of the gRPC services of <paramref name="listen"/>.</summary>
    public void Listen(ListenOptions listen) => ConnectionOpening.Use(listen, MagicBytes, OpeningTimeout, OnOpenedAsync);

    private Task OnOpenedAsync(ConnectionContext connection, CancellationToken opening)
    {
        var peer = $"{FramedStream.Name} connection {connection.ConnectionId}";
        return FramedStreamServer.ServeAsync(connection, FramedStream.Name, "Raylet.Connect", peer, authenticator, logger, opening, async (writer, cancellationToken) =>
        {
            var reader = new FramedStreamReader<WorkerBatch>(connection.Transport.Input, WorkerBatch.Parser);
            await service.ConnectAsync(reader, batch => writer.WriteAsync(batch, cancellationToken), peer, cancellationToken).ConfigureAwait(false);

            // The raylet ended it: the process can tell that from its raylet's process dying, which only closes the socket.
            return "The raylet closed the stream.";
        });
    }
}
