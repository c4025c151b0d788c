using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using Google.Protobuf;
using Grpc.Core;

namespace Ray.Transport;

/// <summary>
/// A stream of length-prefixed frames, used by two protocols: the raylet's local stream (<see cref="Name"/>, below)
/// and the links between raylets (<c>RAYGEN-NODE/1</c>, <c>Raylet/NodeLinkServer</c>), which differ only in their
/// magic and what their message frames carry.
/// <para>
/// The raylet's local stream: how a worker (or a driver on the node's machine) and its raylet talk over the node's
/// Unix socket, beside the gRPC services on the same socket. The connection opens with <see cref="Magic"/> (an HTTP/2
/// client opens with <c>PRI * HTTP/2.0</c>, so the first bytes tell the two apart), then a <see cref="FrameKind.Hello"/>
/// frame with the cluster token; after it, each side sends <see cref="FrameKind.Message"/> frames, one protobuf batch
/// each, and the raylet may end with a <see cref="FrameKind.Status"/> frame that says why (the codes gRPC would have
/// used). A frame is its length (four bytes, little-endian, not counting the five header bytes), its kind (one byte),
/// then the payload.
/// </para>
/// <para>
/// It carries what the gRPC stream <c>Raylet.Connect</c> carries, without HTTP/2 in between: a message goes from one
/// process's thread straight into the socket and is read, on the other side, by the socket's own completion, where
/// HTTP/2 passed each one through its frame writer's and reader's threads (docs/benchmarks.md: a thread wake-up per
/// message on each side, and about a thousand more methods for the JIT to compile while a job starts).
/// </para>
/// </summary>
internal static class FramedStream
{
    /// <summary>The protocol's name and version, as the magic spells it and logs name it.</summary>
    public const string Name = "RAYGEN-RAYLET/1";

    /// <summary>The length and the kind.</summary>
    public const int HeaderSize = 5;

    /// <summary>The largest frame either side accepts: a batch never carries more than one inline object per message.</summary>
    public const int MaxFrameSize = 1 << 30;

    /// <summary>A hello frame holds a token (at most 512 characters).</summary>
    public const int MaxHelloSize = 4 << 10;

    /// <summary>What the stream starts with.</summary>
    public static ReadOnlySpan<byte> Magic => "RAYGEN-RAYLET/1\n"u8;

    /// <summary>What a frame holds.</summary>
    public enum FrameKind : byte
    {
        /// <summary>The client's first frame: the cluster token, UTF-8.</summary>
        Hello = 1,

        /// <summary>One protobuf batch.</summary>
        Message = 2,

        /// <summary>The stream ends: a status code (four bytes, little-endian; OK when the raylet closed it on purpose) and a sentence, UTF-8.</summary>
        Status = 3,
    }

    /// <summary>Whether <paramref name="buffer"/>, the first bytes of a connection, open this stream; null while undecided.</summary>
    public static bool? Recognize(ReadOnlySequence<byte> buffer) => ConnectionOpening.Recognize(buffer, Magic);

    /// <summary>Writes the opening: magic and the hello frame with <paramref name="token"/> (not flushed).</summary>
    public static void WriteOpening(IBufferWriter<byte> output, string token) => WriteOpening(output, token, Magic);

    /// <summary>Writes the opening of the protocol that starts with <paramref name="magic"/> (not flushed).</summary>
    public static void WriteOpening(IBufferWriter<byte> output, string token, ReadOnlySpan<byte> magic)
    {
        output.Write(magic);
        var bytes = Encoding.UTF8.GetBytes(token);
        WriteHeader(output, bytes.Length, FrameKind.Hello);
        output.Write(bytes);
    }

    /// <summary>Writes a status frame (not flushed).</summary>
    public static void WriteStatus(PipeWriter output, StatusCode code, string detail)
    {
        var text = Encoding.UTF8.GetBytes(detail);
        WriteHeader(output, 4 + text.Length, FrameKind.Status);
        Span<byte> status = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(status, (int)code);
        output.Write(status);
        output.Write(text);
    }

    /// <summary>Writes <paramref name="message"/> as one frame (not flushed).</summary>
    public static void WriteMessage(IBufferWriter<byte> output, IMessage message)
    {
        var size = message.CalculateSize();
        var span = output.GetSpan(HeaderSize + size);
        BinaryPrimitives.WriteInt32LittleEndian(span, size);
        span[4] = (byte)FrameKind.Message;
        message.WriteTo(span.Slice(HeaderSize, size));
        output.Advance(HeaderSize + size);
    }

    /// <summary>
    /// Takes the frame at the start of <paramref name="buffer"/>: true with its kind and payload (and
    /// <paramref name="buffer"/> starting after it), false when more bytes are needed.
    /// </summary>
    /// <exception cref="RpcException">The header announces more than <paramref name="maxSize"/>, or a kind that does not exist.</exception>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxSize, out FrameKind kind, out ReadOnlySequence<byte> payload, string protocol = Name)
    {
        kind = default;
        payload = default;
        if (buffer.Length < HeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        kind = (FrameKind)header[4];
        if (length < 0 || length > maxSize)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"A {protocol} frame announced {(uint)length} bytes; at most {maxSize} are accepted here."));
        }

        if (kind is not (FrameKind.Hello or FrameKind.Message or FrameKind.Status))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"A {protocol} frame has kind {header[4]}, which does not exist."));
        }

        if (buffer.Length < HeaderSize + (long)length)
        {
            return false;
        }

        payload = buffer.Slice(HeaderSize, length);
        buffer = buffer.Slice(payload.End);
        return true;
    }

    /// <summary>The exception a status frame stands for.</summary>
    public static RpcException ReadStatus(ReadOnlySequence<byte> payload, string protocol = Name)
    {
        if (payload.Length < 4)
        {
            return new RpcException(new Status(StatusCode.Internal, $"A {protocol} status frame is too short."));
        }

        Span<byte> code = stackalloc byte[4];
        payload.Slice(0, 4).CopyTo(code);
        var detail = Encoding.UTF8.GetString(payload.Slice(4));
        return new RpcException(new Status((StatusCode)BinaryPrimitives.ReadInt32LittleEndian(code), detail));
    }

    /// <summary>
    /// Reads the hello frame that follows a connection's magic: the token it presents.
    /// </summary>
    /// <exception cref="RpcException">The first frame is too large, malformed, or not a hello.</exception>
    /// <exception cref="IOException">The connection ended before it.</exception>
    public static async Task<string> ReadHelloAsync(PipeReader input, string protocol, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            bool complete;
            FrameKind kind;
            ReadOnlySequence<byte> payload;
            try
            {
                complete = TryReadFrame(ref buffer, MaxHelloSize, out kind, out payload, protocol);
            }
            catch (RpcException)
            {
                input.AdvanceTo(result.Buffer.End);
                throw;
            }

            if (complete)
            {
                var token = kind == FrameKind.Hello ? Encoding.UTF8.GetString(payload) : null;
                input.AdvanceTo(buffer.Start);
                return token ?? throw new RpcException(new Status(StatusCode.InvalidArgument, $"A {protocol} stream must start with its hello frame, not a {kind} frame."));
            }

            if (result.IsCompleted)
            {
                throw new IOException("The connection ended before its hello frame.");
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>
    /// What a frame after the hello says: true with its message, false for the OK status frame that ends the stream on
    /// purpose; a status with an error is thrown as its <see cref="RpcException"/>, and so is a frame that is not a
    /// <typeparamref name="T"/> or a second hello.
    /// </summary>
    public static bool ReadPayload<T>(FrameKind kind, ReadOnlySequence<byte> payload, MessageParser<T> parser, string protocol, out T message)
        where T : IMessage<T>
    {
        message = default!;
        switch (kind)
        {
            case FrameKind.Message:
                try
                {
                    message = parser.ParseFrom(payload);
                }
                catch (InvalidProtocolBufferException e)
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"A {protocol} frame is not a {typeof(T).Name}: {e.Message}"));
                }

                return true;
            case FrameKind.Status:
                var status = ReadStatus(payload, protocol);
                return status.StatusCode == StatusCode.OK ? false : throw status;
            default:
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"A {protocol} stream may send {kind} only as its first frame."));
        }
    }

    private static void WriteHeader(IBufferWriter<byte> output, int length, FrameKind kind)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        BinaryPrimitives.WriteInt32LittleEndian(header, length);
        header[4] = (byte)kind;
        output.Write(header);
    }
}

/// <summary>
/// Reads the message frames of a <see cref="FramedStream"/> as a gRPC stream reader, so the code that serves a
/// raylet connection does not care which transport it came over. A status frame ends it with the
/// <see cref="RpcException"/> it stands for; the end of the connection ends it cleanly.
/// </summary>
/// <typeparam name="T">The batch type that comes this way.</typeparam>
internal sealed class FramedStreamReader<T>(PipeReader input, MessageParser<T> parser, string protocol = FramedStream.Name) : IAsyncStreamReader<T>
    where T : IMessage<T>
{
    private static readonly Task<bool> True = Task.FromResult(true);
    private static readonly Task<bool> False = Task.FromResult(false);

    public T Current { get; private set; } = default!;

    /// <summary>Whether the stream ended with the peer's OK status frame, not just with the connection.</summary>
    public bool EndedByPeer { get; private set; }

    public Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        // Frames that arrived together are taken without an await each.
        if (input.TryRead(out var result))
        {
            var state = TakeFrame(result);
            if (state is { } taken)
            {
                return taken ? True : False;
            }
        }

        return MoveNextAsync(cancellationToken);
    }

    private async Task<bool> MoveNextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (TakeFrame(result) is { } taken)
            {
                return taken;
            }
        }
    }

    /// <summary>True with <see cref="Current"/> set, false at the end, null when more bytes are needed (and were asked for).</summary>
    private bool? TakeFrame(ReadResult result)
    {
        var buffer = result.Buffer;
        FramedStream.FrameKind kind;
        ReadOnlySequence<byte> payload;
        try
        {
            if (!FramedStream.TryReadFrame(ref buffer, FramedStream.MaxFrameSize, out kind, out payload, protocol))
            {
                if (result.IsCompleted || result.IsCanceled)
                {
                    input.AdvanceTo(buffer.End);
                    if (buffer.Length > 0)
                    {
                        throw new IOException($"The {protocol} connection ended in the middle of a frame.");
                    }

                    return false;
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }
        }
        catch (RpcException)
        {
            input.AdvanceTo(result.Buffer.End);
            throw;
        }

        try
        {
            if (FramedStream.ReadPayload(kind, payload, parser, protocol, out var message))
            {
                Current = message;
                return true;
            }

            EndedByPeer = true;
            return false;
        }
        finally
        {
            input.AdvanceTo(buffer.Start);
        }
    }
}

/// <summary>
/// Writes a <see cref="FramedStream"/>'s frames: one batch per call, flushed at once (a Unix socket takes it on the
/// calling thread unless its buffer is full). Callers never overlap (a <see cref="BatchingWriter{TMessage, TBatch}"/>
/// drains one batch at a time); the closing status frame waits for a write in progress.
/// </summary>
internal sealed class FramedStreamWriter(PipeWriter output, string protocol = FramedStream.Name)
{
    private readonly SemaphoreSlim _writing = new(1, 1);

    public async Task WriteAsync(IMessage batch, CancellationToken cancellationToken = default)
    {
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            FramedStream.WriteMessage(output, batch);
            var flushed = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (flushed.IsCompleted)
            {
                throw new IOException($"The {protocol} connection was closed by its peer.");
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>Ends the stream with a status (best effort: the peer may be gone already).</summary>
    public async Task WriteStatusAsync(StatusCode code, string detail, CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            FramedStream.WriteStatus(output, code, detail);
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or OperationCanceledException)
        {
        }
        finally
        {
            _writing.Release();
        }
    }
}
