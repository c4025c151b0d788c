using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.Runtime.Protocol;
using Ray.Transport;

namespace Ray.ObjectManager;

/// <summary>
/// The node's end of the object stream (<see cref="ObjectStreamProtocol"/>): a Kestrel connection middleware on the
/// cluster port, inside TLS when the cluster has it. It looks at the first bytes of every connection: an HTTP/2
/// client's go on, unread, to the node's gRPC services; an object stream's magic keeps the connection here, where each
/// request is checked (token, versions) and answered by the <see cref="ObjectSender"/>, one after another, until the
/// puller closes it.
/// </summary>
/// <param name="sender">Answers each pull.</param>
/// <param name="authenticator">The cluster token's check, the one the gRPC services use.</param>
/// <param name="logger">Where refused and broken streams are logged (category <c>Ray.ObjectManager</c>).</param>
/// <param name="directSocket">Whether replies on plain TCP connections go to the socket itself (<see cref="ReplyOutput"/>).</param>
internal sealed class ObjectStreamServer(ObjectSender sender, ClusterTokenAuthenticator authenticator, ILogger logger, bool directSocket = true)
{
    /// <summary>How long a new connection may take to send its first bytes; a client of either protocol sends them at once.</summary>
    public static readonly TimeSpan OpeningTimeout = TimeSpan.FromSeconds(30);

    private static readonly byte[] MagicBytes = ObjectStreamProtocol.Magic.ToArray();

    /// <summary>Puts the object stream in front of what else <paramref name="listen"/> serves (call it after TLS is set up).</summary>
    public void Listen(ListenOptions listen) => ConnectionOpening.Use(listen, MagicBytes, OpeningTimeout, (connection, _) => ServeAsync(connection));

    /// <summary>Answers the connection's requests in order until it closes, or a request ends it.</summary>
    private async Task ServeAsync(ConnectionContext connection)
    {
        var peer = connection.RemoteEndPoint?.ToString() ?? "an unknown peer";
        KeepAlive(connection);
        var input = connection.Transport.Input;
        var output = ReplyOutput.For(connection, directSocket);
        var cancellationToken = connection.ConnectionClosed;

        // The server asks its connections to close when it stops: one waiting for its next request closes at once, one
        // in the middle of a reply finishes it (or is cut when the server's patience ends).
        var closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, closing);
        try
        {
            while (await ReadRequestAsync(input, peer, output, idle.Token).ConfigureAwait(false) is { } request)
            {
                if (authenticator.Refusal(request.Token, ObjectStreamProtocol.Name, peer) is { } refusal)
                {
                    await ObjectSender.RefuseAsync(output, StatusCode.Unauthenticated, refusal, cancellationToken).ConfigureAwait(false);
                    return;
                }

                if (RuntimeVersion.Mismatch(request.ProtocolVersion, request.RuntimeVersion, "pulling node", "node") is { } mismatch)
                {
                    logger.ObjectStreamRefused(peer, mismatch);
                    await ObjectSender.RefuseAsync(output, StatusCode.FailedPrecondition, mismatch, cancellationToken).ConfigureAwait(false);
                    return;
                }

                if (request.Pull?.Id is null)
                {
                    await CloseMalformedAsync(output, peer, "the request names no object", cancellationToken).ConfigureAwait(false);
                    return;
                }

                await sender.SendAsync(request.Pull, output, peer, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The puller went away; a reply in progress was logged by the sender.
        }
    }

    /// <summary>The next request, or null when the connection ended (cleanly, or after a malformed request was answered).</summary>
    private async Task<ObjectStreamRequest?> ReadRequestAsync(PipeReader input, string peer, ReplyOutput output, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var state = ObjectStreamProtocol.TryReadFrame(ref buffer, ObjectStreamProtocol.MaxRequestSize, out var message, out var announced);
            if (state == ObjectStreamProtocol.FrameState.Complete)
            {
                ObjectStreamRequest request;
                try
                {
                    request = ObjectStreamRequest.Parser.ParseFrom(message);
                }
                catch (InvalidProtocolBufferException e)
                {
                    input.AdvanceTo(buffer.Start);
                    await CloseMalformedAsync(output, peer, $"the request is not an ObjectStreamRequest ({e.Message})", cancellationToken).ConfigureAwait(false);
                    return null;
                }

                input.AdvanceTo(buffer.Start);
                return request;
            }

            if (state == ObjectStreamProtocol.FrameState.TooLarge)
            {
                input.AdvanceTo(buffer.Start);
                await CloseMalformedAsync(
                    output, peer, $"a request of {announced} bytes was announced, more than the {ObjectStreamProtocol.MaxRequestSize} one may have", cancellationToken).ConfigureAwait(false);
                return null;
            }

            if (result.IsCompleted)
            {
                if (!buffer.IsEmpty)
                {
                    logger.ObjectStreamBroken(peer, $"it closed in the middle of a request, after {buffer.Length} bytes of it");
                }

                input.AdvanceTo(buffer.End);
                return null;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Logs why a request could not be read, and tells the puller before the connection closes.</summary>
    private async Task CloseMalformedAsync(ReplyOutput output, string peer, string reason, CancellationToken cancellationToken)
    {
        logger.ObjectStreamBroken(peer, reason);
        await ObjectSender.RefuseAsync(output, StatusCode.InvalidArgument, $"The node could not read the request: {reason}.", cancellationToken).ConfigureAwait(false);
    }

    private static void KeepAlive(ConnectionContext connection)
    {
        if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket)
        {
            return;
        }

        try
        {
            ClusterConnections.KeepAlive(socket);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The connection is already going; its reads will say so.
        }
    }
}
