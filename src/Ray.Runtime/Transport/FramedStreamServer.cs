using Grpc.Core;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace Ray.Transport;

/// <summary>
/// The server's side of a <see cref="FramedStream"/> connection, for every protocol that uses one (the raylet's stream
/// for its processes, the links between raylets): reads the hello frame, checks its token, hands the stream to the
/// protocol, and turns whatever ends it with a status (a refused token or version, a malformed frame, a protocol's
/// <see cref="RpcException"/>) into the closing status frame, with the code gRPC would have used. Refusals are logged
/// with the peer; a peer that goes away or sends nothing in time is not an error here (its own side reports why).
/// </summary>
internal static class FramedStreamServer
{
    /// <summary>
    /// What serves an accepted stream: given the writer of its frames and a token that fires when the connection closes
    /// or the server stops, it runs until the stream ends, and returns the detail of the OK status frame to end it with,
    /// or null to send none.
    /// </summary>
    public delegate Task<string?> Serve(FramedStreamWriter writer, CancellationToken cancellationToken);

    /// <param name="connection">The connection, recognised by its magic (see <see cref="ConnectionOpening"/>).</param>
    /// <param name="protocol">The protocol's name, for its frames and messages.</param>
    /// <param name="operation">What the token guards, for the refusal's message.</param>
    /// <param name="peer">Who is on the other end, for logs.</param>
    /// <param name="authenticator">Checks the hello frame's token.</param>
    /// <param name="logger">Where refusals and failures go.</param>
    /// <param name="opening">Fires when the opening's time is up.</param>
    /// <param name="serve">Serves the stream once the token is accepted.</param>
    public static async Task ServeAsync(
        ConnectionContext connection,
        string protocol,
        string operation,
        string peer,
        ClusterTokenAuthenticator authenticator,
        ILogger logger,
        CancellationToken opening,
        Serve serve)
    {
        var writer = new FramedStreamWriter(connection.Transport.Output, protocol);

        // Kestrel asks its connections to close when the node stops, as it cancels a gRPC call's token then.
        var closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        using var served = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, closing);
        var cancellationToken = served.Token;
        try
        {
            string token;
            try
            {
                token = await FramedStream.ReadHelloAsync(connection.Transport.Input, protocol, opening).ConfigureAwait(false);
            }
            catch (RpcException e)
            {
                logger.LogWarning("Refused a {Protocol} connection from {Peer}: {Reason}", protocol, peer, e.Status.Detail);
                throw;
            }

            if (authenticator.Refusal(token, operation, peer) is { } refusal)
            {
                throw new RpcException(new Status(StatusCode.Unauthenticated, refusal));
            }

            if (await serve(writer, cancellationToken).ConfigureAwait(false) is { } goodbye)
            {
                await writer.WriteStatusAsync(StatusCode.OK, goodbye, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RpcException e)
        {
            await writer.WriteStatusAsync(e.StatusCode, e.Status.Detail, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The peer went away, or sent nothing in time.
        }
        catch (Exception e)
        {
            logger.LogError(e, "The {Protocol} connection of {Peer} failed.", protocol, peer);
            await writer.WriteStatusAsync(StatusCode.Internal, e.Message, cancellationToken).ConfigureAwait(false);
        }
    }
}
