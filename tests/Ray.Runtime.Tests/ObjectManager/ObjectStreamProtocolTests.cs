using System.Buffers;
using System.Text;
using Ray.ObjectManager;
using Ray.Runtime.Protocol;
using Xunit;

namespace Ray.Runtime.Tests.ObjectManager;

/// <summary>How the object stream tells itself apart from HTTP/2, and how its messages are framed.</summary>
public sealed class ObjectStreamProtocolTests
{
    [Theory]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "Other")]
    [InlineData("P", "Other")]
    [InlineData("", "Undecided")]
    [InlineData("RAYGEN-OBJ", "Undecided")]
    [InlineData("RAYGEN-OBJECTS/2\n", "Other")]
    [InlineData("RAYGEN-OBJECTS/1\n", "ObjectStream")]
    [InlineData("RAYGEN-OBJECTS/1\n\0\0\0\x05", "ObjectStream")]
    public void The_first_bytes_tell_an_object_stream_from_http2(string opening, string expected)
    {
        Assert.Equal(expected, ObjectStreamProtocol.Recognize(Split(Encoding.ASCII.GetBytes(opening))).ToString());
    }

    [Fact]
    public void A_message_is_read_back_whole_across_segments_and_not_before_it_is_whole()
    {
        var writer = new ArrayBufferWriter<byte>();
        var reply = new ObjectStreamReply { Status = 5, Detail = "no copy here", TotalSize = 10, Offset = 2, Length = 8 };
        ObjectStreamProtocol.Write(writer, reply);
        ObjectStreamProtocol.Write(writer, new ObjectStreamReply());
        var bytes = writer.WrittenSpan.ToArray();

        var partial = Split(bytes[..(ObjectStreamProtocol.LengthPrefixSize + 3)]);
        Assert.Equal(ObjectStreamProtocol.FrameState.Incomplete, ObjectStreamProtocol.TryReadFrame(ref partial, 100, out _, out _));

        var buffer = Split(bytes);
        Assert.Equal(ObjectStreamProtocol.FrameState.Complete, ObjectStreamProtocol.TryReadFrame(ref buffer, 100, out var message, out var length));
        Assert.Equal(reply, ObjectStreamReply.Parser.ParseFrom(message));
        Assert.Equal(reply.CalculateSize(), length);

        // An empty message is four zero bytes, and complete.
        Assert.Equal(ObjectStreamProtocol.FrameState.Complete, ObjectStreamProtocol.TryReadFrame(ref buffer, 100, out message, out _));
        Assert.True(message.IsEmpty);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void A_message_longer_than_its_kind_may_be_is_refused_from_its_prefix()
    {
        var buffer = Split([0, 0, 1, 1]);

        Assert.Equal(ObjectStreamProtocol.FrameState.TooLarge, ObjectStreamProtocol.TryReadFrame(ref buffer, 256, out _, out var announced));
        Assert.Equal(257, announced);
    }

    /// <summary>The bytes in segments of one byte each, as a pipe may hand them over.</summary>
    private static ReadOnlySequence<byte> Split(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(bytes.AsMemory(0, 1), 0);
        var last = first;
        for (var i = 1; i < bytes.Length; i++)
        {
            last = last.Append(bytes.AsMemory(i, 1));
        }

        return new ReadOnlySequence<byte>(first, 0, last, 1);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
