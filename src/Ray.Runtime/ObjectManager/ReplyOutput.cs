using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Ray.Runtime.Protocol;

namespace Ray.ObjectManager;

/// <summary>
/// Where a node writes the replies of one object stream connection. Inside TLS (or where Kestrel gives no socket) it is
/// the connection's output pipe: the payload is copied into the pipe's buffers, and Kestrel encrypts and sends them.
/// On a plain TCP connection it is the socket itself: the payload goes from the store's shared memory to the kernel
/// with no copy in user space and no hand-over to Kestrel's sending thread. A connection uses one or the other for
/// every reply, never both, so nothing written to one can be overtaken by what waits in the other; requests are read
/// from the input pipe either way.
/// </summary>
internal abstract class ReplyOutput
{
    /// <summary>The socket when <paramref name="allowSocket"/> and the connection is plain TCP; else the output pipe.</summary>
    public static ReplyOutput For(ConnectionContext connection, bool allowSocket) =>
        allowSocket && connection.Features.Get<ITlsHandshakeFeature>() is null && connection.Features.Get<ITlsConnectionFeature>() is null &&
        connection.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket
            ? new SocketOutput(socket)
            : new PipeOutput(connection.Transport.Output);

    /// <summary>Payload bytes the connection has taken so far, over all replies.</summary>
    public long PayloadWritten { get; protected set; }

    /// <summary>Writes a reply's header; <paramref name="flush"/> when no payload follows it.</summary>
    public abstract ValueTask WriteHeaderAsync(ObjectStreamReply reply, bool flush, CancellationToken cancellationToken);

    /// <summary>Writes payload bytes after the header; returns once the connection has taken them.</summary>
    /// <exception cref="IOException">The connection closed midway.</exception>
    public abstract ValueTask WritePayloadAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);

    private sealed class PipeOutput(PipeWriter output) : ReplyOutput
    {
        public override async ValueTask WriteHeaderAsync(ObjectStreamReply reply, bool flush, CancellationToken cancellationToken)
        {
            ObjectStreamProtocol.Write(output, reply);
            if (flush)
            {
                // Else the header goes out with the first write of the payload.
                Check(await output.FlushAsync(cancellationToken).ConfigureAwait(false));
            }
        }

        public override async ValueTask WritePayloadAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        {
            // Each write waits until the connection has taken most of the one before: this bounds what the pipe holds.
            for (var position = 0; position < payload.Length; position += ObjectSender.WriteSize)
            {
                var length = Math.Min(ObjectSender.WriteSize, payload.Length - position);
                Check(await output.WriteAsync(payload.Slice(position, length), cancellationToken).ConfigureAwait(false));
                PayloadWritten += length;
            }
        }

        private static void Check(FlushResult result)
        {
            if (result.IsCompleted || result.IsCanceled)
            {
                throw new IOException("The connection closed while the reply was being sent.");
            }
        }
    }

    private sealed class SocketOutput(Socket socket) : ReplyOutput
    {
        public override async ValueTask WriteHeaderAsync(ObjectStreamReply reply, bool flush, CancellationToken cancellationToken)
        {
            var header = new ArrayBufferWriter<byte>(64);
            ObjectStreamProtocol.Write(header, reply);
            await SendAsync(header.WrittenMemory, payload: false, cancellationToken).ConfigureAwait(false);
        }

        public override ValueTask WritePayloadAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
            SendAsync(payload, payload: true, cancellationToken);

        private async ValueTask SendAsync(ReadOnlyMemory<byte> bytes, bool payload, CancellationToken cancellationToken)
        {
            try
            {
                while (!bytes.IsEmpty)
                {
                    var sent = await socket.SendAsync(bytes, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                    if (sent <= 0)
                    {
                        throw new IOException("The connection closed while the reply was being sent.");
                    }

                    bytes = bytes[sent..];
                    if (payload)
                    {
                        PayloadWritten += sent;
                    }
                }
            }
            catch (SocketException e)
            {
                throw new IOException($"The connection broke while the reply was being sent: {e.Message}", e);
            }
            catch (ObjectDisposedException e)
            {
                throw new IOException("The connection closed while the reply was being sent.", e);
            }
        }
    }
}
