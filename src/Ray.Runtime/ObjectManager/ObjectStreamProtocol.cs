using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Core;

namespace Ray.ObjectManager;

/// <summary>
/// The object stream: how a node pulls objects from another, on the same TCP port (and inside the same TLS) as the
/// node's gRPC services. A connection opens with <see cref="Magic"/>, where an HTTP/2 client opens with its preface
/// (<c>PRI * HTTP/2.0</c>), so the first bytes tell the two apart. Then the puller sends requests one at a time, each
/// an <see cref="Runtime.Protocol.ObjectStreamRequest"/> (the cluster token, the versions, the range wanted), and the
/// node answers each with an <see cref="Runtime.Protocol.ObjectStreamReply"/> followed, on OK, by exactly the reply's
/// <c>length</c> bytes of payload, raw: the sender writes them straight from its store's memory and the puller reads
/// them straight into its own, where gRPC copied each byte about five times in between (docs/benchmarks.md).
/// Every message is preceded by its length, four bytes big-endian.
/// </summary>
internal static class ObjectStreamProtocol
{
    /// <summary>The protocol's name and version, as the magic spells it and logs name the protocol.</summary>
    public const string Name = "RAYGEN-OBJECTS/1";

    /// <summary>The bytes before a message's own.</summary>
    public const int LengthPrefixSize = 4;

    /// <summary>A request holds a token (at most 512 characters), two versions and an id: anything larger is not one.</summary>
    public const int MaxRequestSize = 4 << 10;

    /// <summary>A reply's header holds a status, a sentence and three numbers.</summary>
    public const int MaxReplySize = 64 << 10;

    /// <summary>What an object stream starts with; no HTTP/2 client sends it (their preface starts with 'P').</summary>
    public static ReadOnlySpan<byte> Magic => "RAYGEN-OBJECTS/1\n"u8;

    /// <summary>What the first bytes of a connection say it is.</summary>
    public enum Opening
    {
        /// <summary>The magic: an object stream.</summary>
        ObjectStream,

        /// <summary>Anything else (HTTP/2's preface): for the next protocol on the port.</summary>
        Other,

        /// <summary>A prefix of the magic so far: more bytes decide.</summary>
        Undecided,
    }

    /// <summary>Whether <paramref name="buffer"/>, the first bytes of a connection, open an object stream.</summary>
    public static Opening Recognize(ReadOnlySequence<byte> buffer) => Transport.ConnectionOpening.Recognize(buffer, Magic) switch
    {
        true => Opening.ObjectStream,
        false => Opening.Other,
        null => Opening.Undecided,
    };

    /// <summary>How far the reading of a message got.</summary>
    public enum FrameState
    {
        Complete,
        Incomplete,

        /// <summary>The length prefix announces more than a message of its kind may have.</summary>
        TooLarge,
    }

    /// <summary>
    /// Takes the message at the start of <paramref name="buffer"/>: on <see cref="FrameState.Complete"/> it is in
    /// <paramref name="message"/> and <paramref name="buffer"/> starts after it.
    /// </summary>
    public static FrameState TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxSize, out ReadOnlySequence<byte> message, out long announced)
    {
        message = default;
        announced = 0;
        if (buffer.Length < LengthPrefixSize)
        {
            return FrameState.Incomplete;
        }

        Span<byte> prefix = stackalloc byte[LengthPrefixSize];
        buffer.Slice(0, LengthPrefixSize).CopyTo(prefix);
        announced = BinaryPrimitives.ReadUInt32BigEndian(prefix);
        if (announced > maxSize)
        {
            return FrameState.TooLarge;
        }

        if (buffer.Length < LengthPrefixSize + announced)
        {
            return FrameState.Incomplete;
        }

        message = buffer.Slice(LengthPrefixSize, announced);
        buffer = buffer.Slice(message.End);
        return FrameState.Complete;
    }

    /// <summary>Writes <paramref name="message"/> with its length prefix into <paramref name="writer"/> (not flushed).</summary>
    public static void Write(IBufferWriter<byte> writer, IMessage message)
    {
        var size = message.CalculateSize();
        var span = writer.GetSpan(LengthPrefixSize + size);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)size);
        message.WriteTo(span.Slice(LengthPrefixSize, size));
        writer.Advance(LengthPrefixSize + size);
    }

    /// <summary>
    /// Whether the node closes the connection after a reply with <paramref name="status"/>: after a refused token or
    /// version, and after a request it could not read, it does not trust what else the connection would bring. After
    /// the others (OK, no copy here, a range outside the payload) the connection takes the next request.
    /// </summary>
    public static bool EndsConnection(StatusCode status) =>
        status is StatusCode.Unauthenticated or StatusCode.FailedPrecondition or StatusCode.InvalidArgument;
}
