using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using Ray.Runtime.Protocol;

namespace Ray.ObjectManager;

/// <summary>
/// <c>ObjectTransfer.Pull</c> for the puller, with a response marshaller of its own that writes each chunk's bytes
/// straight into the store. The generated one would copy them into a new <see cref="ByteString"/> (a large-object-heap
/// array per chunk) for the puller to copy again; gRPC reads each message into a pooled buffer that it takes back as
/// soon as the marshaller returns, so the bytes cannot be kept for later either: the marshaller is the only place
/// where they can be copied once.
/// </summary>
/// <remarks>
/// A marshaller sees only the message, not the call it belongs to, and a channel keeps what it learns about each
/// <see cref="Method{TRequest, TResponse}"/> for its lifetime, so a method per call is no way to tell it where to
/// write. The stream's <see cref="ChunkSink"/> travels instead in an <see cref="AsyncLocal{T}"/>, which flows from the
/// puller's <c>MoveNext</c> into the read that runs the marshaller.
/// </remarks>
internal static class PullMethod
{
    private static readonly AsyncLocal<ChunkSink?> CurrentSink = new();

    public static readonly Method<PullRequest, ChunkSink> Pull = new(
        MethodType.ServerStreaming,
        ObjectTransfer.Descriptor.FullName,
        ObjectTransfer.Descriptor.FindMethodByName(nameof(Pull)).Name,
        Marshallers.Create(request => request.ToByteArray(), PullRequest.Parser.ParseFrom),
        new Marshaller<ChunkSink>(
            (_, _) => throw new NotSupportedException("The puller only receives chunks."),
            context => Receive(context.PayloadAsReadOnlySequence())));

    // Wire types and field numbers of ObjectChunk (object_transfer.proto).
    private const int WireVarint = 0;
    private const int WireFixed64 = 1;
    private const int WireLengthDelimited = 2;
    private const int WireFixed32 = 5;
    private const int OffsetField = ObjectChunk.OffsetFieldNumber;
    private const int TotalSizeField = ObjectChunk.TotalSizeFieldNumber;
    private const int DataField = ObjectChunk.DataFieldNumber;

    /// <summary>Where the chunks of the streams this async flow reads go; set before the call starts.</summary>
    public static ChunkSink? Sink
    {
        get => CurrentSink.Value;
        set => CurrentSink.Value = value;
    }

    /// <summary>Parses an <see cref="ObjectChunk"/> and writes its bytes into the flow's sink; unknown fields are skipped, as protobuf requires.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed chunk, or not the one the sink expects.</exception>
    public static ChunkSink Receive(ReadOnlySequence<byte> message)
    {
        var sink = Sink ?? throw new InvalidOperationException("An object chunk arrived outside a pull.");
        var reader = new SequenceReader<byte>(message);
        ulong offset = 0, totalSize = 0;
        var data = ReadOnlySequence<byte>.Empty;
        while (!reader.End)
        {
            var tag = ReadVarint(ref reader);
            var (field, wireType) = ((int)(tag >> 3), (int)(tag & 7));
            switch (wireType)
            {
                case WireFixed64 when field is OffsetField or TotalSizeField:
                    if (!reader.TryReadLittleEndian(out long value))
                    {
                        throw Truncated();
                    }

                    if (field == OffsetField)
                    {
                        offset = (ulong)value;
                    }
                    else
                    {
                        totalSize = (ulong)value;
                    }

                    break;
                case WireLengthDelimited:
                    var length = ReadVarint(ref reader);
                    if (length > (ulong)reader.Remaining)
                    {
                        throw Truncated();
                    }

                    if (field == DataField)
                    {
                        data = message.Slice(reader.Position, (long)length);
                    }

                    reader.Advance((long)length);
                    break;
                case WireVarint:
                    ReadVarint(ref reader);
                    break;
                case WireFixed64:
                    Skip(ref reader, 8);
                    break;
                case WireFixed32:
                    Skip(ref reader, 4);
                    break;
                default:
                    throw new InvalidDataException($"An object chunk holds field {field} with wire type {wireType}, which no field of ObjectChunk has.");
            }
        }

        sink.Write(offset, totalSize, data);
        return sink;
    }

    private static ulong ReadVarint(ref SequenceReader<byte> reader)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (!reader.TryRead(out var b))
            {
                throw Truncated();
            }

            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new InvalidDataException("An object chunk holds a varint longer than 10 bytes.");
    }

    private static void Skip(ref SequenceReader<byte> reader, int count)
    {
        if (reader.Remaining < count)
        {
            throw Truncated();
        }

        reader.Advance(count);
    }

    private static InvalidDataException Truncated() => new("An object chunk ends in the middle of a field.");
}

/// <summary>
/// Where one pull stream writes: payload bytes [<see cref="Position"/>, <paramref name="end"/>) of an object of
/// <paramref name="size"/> bytes, in order. A chunk that does not fit is refused, and the reason kept, because gRPC
/// reports a marshaller's exception only as a generic read error.
/// </summary>
/// <param name="payload">The object's payload in the store region being filled.</param>
/// <param name="size">The payload's size, which the first chunk must repeat.</param>
/// <param name="position">Where the stream starts.</param>
/// <param name="end">Where it must end.</param>
internal sealed class ChunkSink(Memory<byte> payload, long size, long position, long end)
{
    /// <summary>How far the bytes arrived; survives the stream, so that the next location resumes here.</summary>
    public long Position { get; private set; } = position;

    public long End { get; } = end;

    /// <summary>A chunk of the current stream arrived (the first carries the size, even for an empty range).</summary>
    public bool Started { get; private set; }

    /// <summary>Why a chunk of the current stream was refused, if one was.</summary>
    public InvalidDataException? Refused { get; private set; }

    /// <summary>A stream from another location starts, at <see cref="Position"/>.</summary>
    public void BeginStream()
    {
        Started = false;
        Refused = null;
    }

    /// <summary>Copies one chunk into place.</summary>
    /// <exception cref="InvalidDataException">It is not the chunk due here.</exception>
    public void Write(ulong offset, ulong totalSize, ReadOnlySequence<byte> data)
    {
        if (!Started && totalSize != (ulong)size)
        {
            throw Refuse($"its copy holds {totalSize} bytes, not the {size} the object has");
        }

        if (offset != (ulong)Position || data.Length > End - Position)
        {
            throw Refuse($"it sent bytes [{offset}, {offset + (ulong)data.Length}) when bytes [{Position}, {End}) were due");
        }

        Started = true;
        data.CopyTo(payload.Span[(int)Position..]);
        Position += data.Length;
    }

    private InvalidDataException Refuse(string reason) => Refused = new InvalidDataException(reason);
}
