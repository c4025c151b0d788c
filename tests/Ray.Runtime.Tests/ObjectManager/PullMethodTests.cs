using System.Buffers;
using Google.Protobuf;
using Ray.ObjectManager;
using Ray.Runtime.Protocol;
using Xunit;

namespace Ray.Runtime.Tests.ObjectManager;

/// <summary>The puller's own reading of <see cref="ObjectChunk"/>, against what protobuf writes.</summary>
public sealed class PullMethodTests
{
    [Fact]
    public void A_chunk_lands_at_its_offset_and_fields_it_does_not_know_are_skipped()
    {
        var payload = new byte[10];
        var sink = new ChunkSink(payload, 10, 4, 10);
        PullMethod.Sink = sink;
        var chunk = new ObjectChunk { Offset = 4, TotalSize = 10, Data = ByteString.CopyFrom(1, 2, 3) };

        // A field a newer peer might add (number 9, varint) must not break an older puller.
        var bytes = chunk.ToByteArray().Concat(new byte[] { 9 << 3, 42 }).ToArray();
        PullMethod.Receive(new ReadOnlySequence<byte>(bytes));

        Assert.Equal(new byte[] { 0, 0, 0, 0, 1, 2, 3, 0, 0, 0 }, payload);
        Assert.Equal(7, sink.Position);
        Assert.True(sink.Started);
    }

    [Fact]
    public void A_truncated_or_misplaced_chunk_is_refused()
    {
        var sink = new ChunkSink(new byte[10], 10, 0, 10);
        PullMethod.Sink = sink;
        var bytes = new ObjectChunk { Offset = 0, TotalSize = 10, Data = ByteString.CopyFrom(1, 2, 3) }.ToByteArray();

        Assert.Throws<InvalidDataException>(() => PullMethod.Receive(new ReadOnlySequence<byte>(bytes[..^1])));

        var misplaced = new ObjectChunk { Offset = 5, TotalSize = 10, Data = ByteString.CopyFrom(1) }.ToByteArray();
        var error = Assert.Throws<InvalidDataException>(() => PullMethod.Receive(new ReadOnlySequence<byte>(misplaced)));
        Assert.Contains("bytes [5, 6) when bytes [0, 10) were due", error.Message);
        Assert.Same(error, sink.Refused);
        Assert.Equal(0, sink.Position);
    }
}
