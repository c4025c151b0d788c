using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using Google.Protobuf;

namespace Ray.Transport;

/// <summary>A stream of messages that a thread of its own reads with blocking calls (see <see cref="BlockingFramedReader{T}"/>).</summary>
/// <typeparam name="T">The message type.</typeparam>
internal interface IBlockingStreamReader<out T>
{
    /// <summary>The message the last successful <see cref="MoveNextBlocking"/> read.</summary>
    T Current { get; }

    /// <summary>Blocks until the next message: true with <see cref="Current"/> set, false when the stream ended.</summary>
    bool MoveNextBlocking(CancellationToken cancellationToken);
}

/// <summary>
/// Reads a <see cref="FramedStream"/>'s frames from a connected socket with blocking receives on the calling thread: a
/// thread of its own that sleeps in the kernel until bytes come, instead of the socket engine's thread waking a
/// thread-pool thread for each read. Frames that came in one receive are taken without another. Callers never
/// overlap: one thread reads at a time (it may hand reading to another thread between two calls).
/// </summary>
/// <typeparam name="T">The message each frame carries.</typeparam>
internal sealed class BlockingFramedReader<T>(Socket socket, MessageParser<T> parser, string protocol = FramedStream.Name)
    where T : IMessage<T>
{
    private const int InitialSize = 64 << 10;

    private byte[] _buffer = new byte[InitialSize];
    private int _start;
    private int _end;

    public T Current { get; private set; } = default!;

    /// <summary>Whether the stream ended with the peer's OK status frame, not just with the connection.</summary>
    public bool EndedByPeer { get; private set; }

    /// <summary>Blocks until the next frame: true with <see cref="Current"/> set, false when the stream ended.</summary>
    /// <exception cref="Grpc.Core.RpcException">The peer ended the stream with an error status, or sent a malformed frame.</exception>
    /// <exception cref="IOException">The connection broke, or ended in the middle of a frame.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired (it must shut the socket down to wake a receive).</exception>
    public bool MoveNext(CancellationToken cancellationToken)
    {
        while (true)
        {
            var buffer = new ReadOnlySequence<byte>(_buffer, _start, _end - _start);
            if (FramedStream.TryReadFrame(ref buffer, FramedStream.MaxFrameSize, out var kind, out var payload, protocol))
            {
                // The payload is parsed (its bytes copied) before the buffer is reused.
                var message = FramedStream.ReadPayload(kind, payload, parser, protocol, out var parsed);
                _start = _end - (int)buffer.Length;
                if (_start == _end)
                {
                    // Nothing held: start over at the front, in a buffer of the usual size again after a large frame.
                    _start = _end = 0;
                    if (_buffer.Length > InitialSize)
                    {
                        _buffer = new byte[InitialSize];
                    }
                }

                if (message)
                {
                    Current = parsed;
                    return true;
                }

                EndedByPeer = true;
                return false;
            }

            MakeRoom();
            int received;
            try
            {
                received = socket.Receive(_buffer.AsSpan(_end));
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw new IOException($"The {protocol} connection broke: {e.Message}", e);
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (received == 0)
            {
                if (_end > _start)
                {
                    throw new IOException($"The {protocol} connection ended in the middle of a frame.");
                }

                return false;
            }

            _end += received;
        }
    }

    /// <summary>Makes room after the bytes held for the next receive, and for the whole of a frame whose header has come.</summary>
    private void MakeRoom()
    {
        var held = _end - _start;
        var needed = FramedStream.HeaderSize;
        if (held >= FramedStream.HeaderSize)
        {
            // TryReadFrame checked the length against the maximum already.
            needed += BinaryPrimitives.ReadInt32LittleEndian(_buffer.AsSpan(_start, 4));
        }

        if (_buffer.Length - _start >= needed && _end < _buffer.Length)
        {
            return;
        }

        var target = needed > _buffer.Length ? new byte[Math.Max(needed, 2 * _buffer.Length)] : _buffer;
        Buffer.BlockCopy(_buffer, _start, target, 0, held);
        _buffer = target;
        _start = 0;
        _end = held;
    }
}
