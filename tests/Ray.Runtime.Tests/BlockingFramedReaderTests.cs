using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Grpc.Core;
using Ray.Runtime.Protocol;
using Ray.Transport;
using Xunit;

namespace Ray.Runtime.Tests;

/// <summary>
/// The blocking reader of the framed stream (what a worker's own reading thread uses on the node's socket): frames
/// read the same however the bytes arrive, large frames grow its buffer, and every way the stream can end (the peer's
/// OK or error status, a close between or inside frames, a malformed frame, a cancelled read) ends it the same way
/// the async reader does.
/// </summary>
public sealed class BlockingFramedReaderTests
{
    private static readonly TimeSpan Timeout = RuntimeFixture.Timeout;

    [Fact]
    public async Task Frames_read_the_same_whether_they_arrive_together_or_a_byte_at_a_time()
    {
        var batches = Enumerable.Range(0, 5).Select(Batch).ToList();
        var frames = Frames(batches);
        foreach (var chunk in new[] { frames.Length, 1, 7 })
        {
            using var pair = SocketPair.Open();
            var feeding = Task.Run(() =>
            {
                for (var offset = 0; offset < frames.Length; offset += chunk)
                {
                    pair.Server.Send(frames.AsSpan(offset, Math.Min(chunk, frames.Length - offset)));
                }

                pair.Server.Shutdown(SocketShutdown.Send);
            });

            var read = await Task.Run(() => ReadAll(new BlockingFramedReader<RayletBatch>(pair.Client, RayletBatch.Parser))).WaitAsync(Timeout);
            await feeding.WaitAsync(Timeout);
            Assert.Equal(batches, read.Batches);
            Assert.False(read.EndedByPeer);
        }
    }

    [Fact]
    public async Task A_frame_larger_than_the_buffer_is_read_whole_and_the_next_one_after_it()
    {
        var large = new RayletBatch { Messages = { new RayletMessage { QueryReply = new NodeQueryReply { RequestId = 9, Error = new string('x', 300_000) } } } };
        var frames = Frames([Batch(1), large, Batch(2)]);
        using var pair = SocketPair.Open();
        var feeding = Task.Run(() =>
        {
            pair.Server.Send(frames);
            pair.Server.Shutdown(SocketShutdown.Send);
        });

        var read = await Task.Run(() => ReadAll(new BlockingFramedReader<RayletBatch>(pair.Client, RayletBatch.Parser))).WaitAsync(Timeout);
        await feeding.WaitAsync(Timeout);
        Assert.Equal([Batch(1), large, Batch(2)], read.Batches);
    }

    [Fact]
    public async Task The_peers_ok_status_ends_the_stream_on_purpose_and_an_error_status_is_thrown()
    {
        using (var pair = SocketPair.Open())
        {
            pair.Server.Send([.. Frames([Batch(1)]), .. Status(StatusCode.OK, "bye")]);
            var read = await Task.Run(() => ReadAll(new BlockingFramedReader<RayletBatch>(pair.Client, RayletBatch.Parser))).WaitAsync(Timeout);
            Assert.Equal([Batch(1)], read.Batches);
            Assert.True(read.EndedByPeer);
        }

        using (var pair = SocketPair.Open())
        {
            pair.Server.Send(Status(StatusCode.PermissionDenied, "not yours"));
            var reader = new BlockingFramedReader<RayletBatch>(pair.Client, RayletBatch.Parser);
            var error = await Assert.ThrowsAsync<RpcException>(() => Task.Run(() => reader.MoveNext(CancellationToken.None)).WaitAsync(Timeout));
            Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
            Assert.Equal("not yours", error.Status.Detail);
        }
    }

    [Fact]
    public async Task A_connection_that_ends_inside_a_frame_fails_with_an_io_error()
    {
        using var pair = SocketPair.Open();
        var frame = Frames([Batch(1)]);
        pair.Server.Send(frame.AsSpan(0, frame.Length - 2));
        pair.Server.Shutdown(SocketShutdown.Send);
        var reader = new BlockingFramedReader<RayletBatch>(pair.Client, RayletBatch.Parser);
        var error = await Assert.ThrowsAsync<IOException>(() => Task.Run(() => reader.MoveNext(CancellationToken.None)).WaitAsync(Timeout));
        Assert.Contains("in the middle of a frame", error.Message);
    }

    [Theory]
    [InlineData("not a batch", StatusCode.InvalidArgument, "is not a RayletBatch")]
    [InlineData("second hello", StatusCode.InvalidArgument, "only as its first frame")]
    [InlineData("too large", StatusCode.ResourceExhausted, "at most")]
    public async Task A_malformed_frame_fails_the_read_with_a_status_that_says_why(string what, StatusCode expected, string says)
    {
        using var pair = SocketPair.Open();
        byte[] bytes = what switch
        {
            "not a batch" => [.. Header(3, 2), 0xFF, 0xFF, 0xFF],
            "second hello" => [.. Header(2, 1), (byte)'h', (byte)'i'],
            _ => Header(FramedStream.MaxFrameSize + 1, 2),
        };
        pair.Server.Send(bytes);
        var reader = new BlockingFramedReader<RayletBatch>(pair.Client, RayletBatch.Parser);
        var error = await Assert.ThrowsAsync<RpcException>(() => Task.Run(() => reader.MoveNext(CancellationToken.None)).WaitAsync(Timeout));
        Assert.Equal(expected, error.StatusCode);
        Assert.Contains(says, error.Status.Detail);
    }

    [Fact]
    public async Task A_cancelled_read_of_the_raylet_client_ends_with_cancellation_and_the_client_disposes()
    {
        var path = Path.Combine(Path.GetTempPath(), $"raygen-blocking-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        try
        {
            var client = FramedRayletClient.Connect(path, "token");
            using var accepted = await listener.AcceptAsync().WaitAsync(Timeout);

            // The client's opening arrives; then the server says nothing, so the read blocks until it is cancelled.
            var opening = new byte[FramedStream.Magic.Length + FramedStream.HeaderSize + "token".Length];
            for (var received = 0; received < opening.Length;)
            {
                received += await accepted.ReceiveAsync(opening.AsMemory(received)).AsTask().WaitAsync(Timeout);
            }

            Assert.EndsWith("token", Encoding.UTF8.GetString(opening));
            using var cancel = new CancellationTokenSource();
            var reading = Task.Factory.StartNew(() => client.MoveNextBlocking(cancel.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            await Task.Delay(100);
            Assert.False(reading.IsCompleted);
            cancel.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.WaitAsync(Timeout));
            await client.DisposeAsync().AsTask().WaitAsync(Timeout);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static RayletBatch Batch(int id) => new() { Messages = { new RayletMessage { QueryReply = new NodeQueryReply { RequestId = (ulong)id + 1 } } } };

    private static byte[] Frames(IEnumerable<RayletBatch> batches)
    {
        var output = new ArrayBufferWriter<byte>();
        foreach (var batch in batches)
        {
            FramedStream.WriteMessage(output, batch);
        }

        return output.WrittenSpan.ToArray();
    }

    private static byte[] Status(StatusCode code, string detail)
    {
        var text = Encoding.UTF8.GetBytes(detail);
        var status = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(status, (int)code);
        return [.. Header(4 + text.Length, 3), .. status, .. text];
    }

    private static byte[] Header(int length, byte kind)
    {
        var header = new byte[FramedStream.HeaderSize];
        BinaryPrimitives.WriteInt32LittleEndian(header, length);
        header[4] = kind;
        return header;
    }

    private static (List<RayletBatch> Batches, bool EndedByPeer) ReadAll(BlockingFramedReader<RayletBatch> reader)
    {
        var batches = new List<RayletBatch>();
        while (reader.MoveNext(CancellationToken.None))
        {
            batches.Add(reader.Current);
        }

        return (batches, reader.EndedByPeer);
    }

    /// <summary>Two connected Unix sockets, both blocking (neither is ever used asynchronously).</summary>
    private sealed class SocketPair : IDisposable
    {
        private readonly string _path;

        private SocketPair(string path, Socket client, Socket server)
        {
            _path = path;
            Client = client;
            Server = server;
        }

        public Socket Client { get; }

        public Socket Server { get; }

        public static SocketPair Open()
        {
            var path = Path.Combine(Path.GetTempPath(), $"raygen-pair-{Guid.NewGuid():N}.sock");
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(1);
            var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            client.Connect(new UnixDomainSocketEndPoint(path));
            return new SocketPair(path, client, listener.Accept());
        }

        public void Dispose()
        {
            Client.Dispose();
            Server.Dispose();
            File.Delete(_path);
        }
    }
}
