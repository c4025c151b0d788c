using System.Buffers;
using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.Runtime.Protocol;
using Ray.Transport;

namespace Ray.ObjectManager;

/// <summary>
/// The pulling end of the object stream (<see cref="ObjectStreamProtocol"/>): sends a node a request for a range of an
/// object and reads the payload straight into the destination's memory, so that the kernel's copy out of the socket is
/// the only one (TLS decrypts through a buffer of its own). A few idle connections per node are kept for later pulls;
/// a connection goes back to them only after a complete reply, and any error or cancellation disposes it, so a
/// connection is never left in the middle of a reply.
/// </summary>
/// <param name="credentials">The token every request carries, and the client side of mutual TLS when the cluster has it.</param>
/// <param name="logger">Where refused server certificates are logged (category <c>Ray.Transport</c>).</param>
/// <param name="connectTimeout">How long a connection (and its TLS handshake) may take; null for the cluster's default.</param>
internal sealed class ObjectStreamClient(ClusterCredentials credentials, ILogger logger, TimeSpan? connectTimeout = null) : IDisposable
{
    /// <summary>Idle connections kept per node; pulls beyond that many at once open connections that close when done.</summary>
    public const int MaxIdlePerAddress = 4;

    private readonly TimeSpan _connectTimeout = connectTimeout ?? ClusterChannel.DefaultConnectTimeout;
    private readonly Dictionary<string, Stack<Connection>> _idle = [];
    private bool _disposed;

    /// <summary>
    /// Pulls the bytes <paramref name="target"/> still needs of object <paramref name="id"/> from the node at
    /// <paramref name="address"/>, advancing the target's position as they arrive (so that it tells, after a failure,
    /// how far they got).
    /// </summary>
    /// <exception cref="RpcException">The node answered with an error status (no copy here, a refused token or version).</exception>
    /// <exception cref="InvalidDataException">The node's copy or reply is not the one asked for.</exception>
    /// <exception cref="IOException">No connection could be made, or it broke.</exception>
    public async Task PullAsync(string address, ObjectId id, PullTarget target, CancellationToken cancellationToken)
    {
        var connection = TakeIdle(address) ?? await ConnectAsync(address, cancellationToken).ConfigureAwait(false);
        var reusable = false;
        try
        {
            await connection.SendAsync(
                new ObjectStreamRequest
                {
                    Token = credentials.Token.Value,
                    ProtocolVersion = RuntimeVersion.Protocol,
                    RuntimeVersion = RuntimeVersion.Current,
                    Pull = new PullRequest { Id = id.ToProto(), Offset = (ulong)target.Position, Length = (ulong)(target.End - target.Position) },
                },
                cancellationToken).ConfigureAwait(false);
            var reply = await connection.ReceiveReplyAsync(cancellationToken).ConfigureAwait(false);
            var status = (StatusCode)reply.Status;
            if (status != StatusCode.OK)
            {
                // The reply is complete: the connection can serve the next pull, unless the node closes it after this.
                reusable = !ObjectStreamProtocol.EndsConnection(status);
                throw new RpcException(new Status(status, reply.Detail));
            }

            if (reply.TotalSize != (ulong)target.Size)
            {
                throw new InvalidDataException($"its copy holds {reply.TotalSize} bytes, not the {target.Size} the object has");
            }

            if (reply.Offset != (ulong)target.Position || reply.Length != (ulong)(target.End - target.Position))
            {
                throw new InvalidDataException($"it offered bytes [{reply.Offset}, {reply.Offset + reply.Length}) when bytes [{target.Position}, {target.End}) were due");
            }

            await connection.ReceivePayloadAsync(target, cancellationToken).ConfigureAwait(false);
            reusable = true;
        }
        finally
        {
            if (reusable)
            {
                Return(address, connection);
            }
            else
            {
                connection.Dispose();
            }
        }
    }

    /// <summary>Closes the idle connections; those in use close when their pulls end.</summary>
    public void Dispose()
    {
        lock (_idle)
        {
            _disposed = true;
            foreach (var connections in _idle.Values)
            {
                while (connections.TryPop(out var connection))
                {
                    connection.Dispose();
                }
            }

            _idle.Clear();
        }
    }

    private Connection? TakeIdle(string address)
    {
        while (true)
        {
            Connection? connection;
            lock (_idle)
            {
                if (!_idle.TryGetValue(address, out var connections) || !connections.TryPop(out connection))
                {
                    return null;
                }
            }

            if (!connection.IsClosed)
            {
                return connection;
            }

            connection.Dispose();
        }
    }

    private void Return(string address, Connection connection)
    {
        lock (_idle)
        {
            if (!_disposed)
            {
                if (!_idle.TryGetValue(address, out var connections))
                {
                    _idle[address] = connections = new Stack<Connection>(MaxIdlePerAddress);
                }

                if (connections.Count < MaxIdlePerAddress)
                {
                    connections.Push(connection);
                    return;
                }
            }
        }

        connection.Dispose();
    }

    /// <summary>A new connection to <paramref name="address"/> (<see cref="ClusterConnections"/>).</summary>
    private async Task<Connection> ConnectAsync(string address, CancellationToken cancellationToken)
    {
        var (socket, stream) = await ClusterConnections.ConnectAsync(address, credentials, _connectTimeout, logger, cancellationToken).ConfigureAwait(false);
        return new Connection(socket, stream);
    }

    /// <summary>One connection of the stream; used by one pull at a time.</summary>
    private sealed class Connection(Socket socket, Stream stream) : IDisposable
    {
        private byte[] _header = new byte[256];
        private bool _opened;

        /// <summary>
        /// Whether the node closed the connection while it was idle (a node never sends unasked, so anything readable
        /// now is its end of the stream, or a reset).
        /// </summary>
        public bool IsClosed
        {
            get
            {
                try
                {
                    return socket.Poll(0, SelectMode.SelectRead);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return true;
                }
            }
        }

        /// <summary>Sends a request, after the magic on a new connection, in one write.</summary>
        public async Task SendAsync(ObjectStreamRequest request, CancellationToken cancellationToken)
        {
            var buffer = new ArrayBufferWriter<byte>(ObjectStreamProtocol.Magic.Length + ObjectStreamProtocol.LengthPrefixSize + request.CalculateSize());
            if (!_opened)
            {
                buffer.Write(ObjectStreamProtocol.Magic);
                _opened = true;
            }

            ObjectStreamProtocol.Write(buffer, request);
            await stream.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }

        public async Task<ObjectStreamReply> ReceiveReplyAsync(CancellationToken cancellationToken)
        {
            try
            {
                await stream.ReadExactlyAsync(_header.AsMemory(0, ObjectStreamProtocol.LengthPrefixSize), cancellationToken).ConfigureAwait(false);
                var length = BinaryPrimitives.ReadUInt32BigEndian(_header);
                if (length > ObjectStreamProtocol.MaxReplySize)
                {
                    throw new InvalidDataException($"it announced a reply header of {length} bytes, more than the {ObjectStreamProtocol.MaxReplySize} one may have");
                }

                if (length > _header.Length)
                {
                    _header = new byte[length];
                }

                await stream.ReadExactlyAsync(_header.AsMemory(0, (int)length), cancellationToken).ConfigureAwait(false);
                return ObjectStreamReply.Parser.ParseFrom(_header, 0, (int)length);
            }
            catch (EndOfStreamException e)
            {
                throw new IOException("the connection closed before the reply", e);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new InvalidDataException($"its reply is not an ObjectStreamReply ({e.Message})", e);
            }
        }

        /// <summary>Reads the payload into place: each read takes what the socket has, straight into the region.</summary>
        public async Task ReceivePayloadAsync(PullTarget target, CancellationToken cancellationToken)
        {
            while (target.Position < target.End)
            {
                var read = await stream.ReadAsync(target.Remaining, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException($"the connection closed at byte {target.Position} of {target.End}");
                }

                target.Advance(read);
            }
        }

        public void Dispose() => stream.Dispose();
    }
}
