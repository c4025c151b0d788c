using Grpc.Core;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
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

    private async Task OnOpenedAsync(ConnectionContext connection, CancellationToken opening)
    {
        string token;
        try
        {
            token = await FramedStream.ReadHelloAsync(connection.Transport.Input, FramedStream.Name, opening).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // Not enough arrived in time, or the connection went: nothing to serve.
            return;
        }
        catch (RpcException e)
        {
            logger.LogWarning("Refused a {Protocol} connection: {Reason}", FramedStream.Name, e.Status.Detail);
            await new FramedStreamWriter(connection.Transport.Output).WriteStatusAsync(e.StatusCode, e.Status.Detail, connection.ConnectionClosed).ConfigureAwait(false);
            return;
        }

        await ServeAsync(connection, token).ConfigureAwait(false);
    }

    private async Task ServeAsync(ConnectionContext connection, string token)
    {
        var peer = $"{FramedStream.Name} connection {connection.ConnectionId}";
        var writer = new FramedStreamWriter(connection.Transport.Output);

        // Kestrel asks its connections to close when the node stops, as it cancels a gRPC call's token then.
        var closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        using var served = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, closing);
        var cancellationToken = served.Token;
        try
        {
            if (authenticator.Refusal(token, "Raylet.Connect", peer) is { } refusal)
            {
                throw new RpcException(new Status(StatusCode.Unauthenticated, refusal));
            }

            var reader = new FramedStreamReader<WorkerBatch>(connection.Transport.Input, WorkerBatch.Parser);
            await service.ConnectAsync(reader, batch => writer.WriteAsync(batch, cancellationToken), peer, cancellationToken).ConfigureAwait(false);

            // The raylet ended it: the process can tell that from its raylet's process dying, which only closes the socket.
            await writer.WriteStatusAsync(StatusCode.OK, "The raylet closed the stream.", cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            await writer.WriteStatusAsync(e.StatusCode, e.Status.Detail, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The process went away; the pool reports why.
        }
        catch (Exception e)
        {
            logger.LogError(e, "The {Protocol} connection of {Peer} failed.", FramedStream.Name, peer);
            await writer.WriteStatusAsync(StatusCode.Internal, e.Message, cancellationToken).ConfigureAwait(false);
        }
    }
}
