using System.Buffers.Binary;
using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Grpc.Core;
using Ray.Core;
using Ray.Runtime.Protocol;
using Ray.Transport;
using Xunit;

namespace Ray.Runtime.Tests;

/// <summary>
/// The raylet's framed stream on the node's Unix socket (what workers and local drivers use): frames read the same
/// however the bytes arrive, and every bad opening or frame ends only its own connection, with a status that says why.
/// </summary>
[Collection(RuntimeCollection.Name)]
public sealed class FramedStreamTests(RuntimeFixture fixture)
{
    private static readonly TimeSpan Timeout = RuntimeFixture.Timeout;

    [Fact]
    public async Task Frames_read_the_same_whether_they_arrive_together_or_a_byte_at_a_time()
    {
        var batches = Enumerable.Range(0, 5).Select(i => new RayletBatch { Messages = { new RayletMessage { QueryReply = new NodeQueryReply { RequestId = (ulong)i + 1 } } } }).ToList();
        var bytes = new MemoryStream();
        var writer = PipeWriter.Create(bytes);
        foreach (var batch in batches)
        {
            FramedStream.WriteMessage(writer, batch);
        }

        await writer.FlushAsync();
        var frames = bytes.ToArray();

        foreach (var chunk in new[] { frames.Length, 1, 3 })
        {
            var pipe = new Pipe();
            var reader = new FramedStreamReader<RayletBatch>(pipe.Reader, RayletBatch.Parser);
            var feeding = Task.Run(async () =>
            {
                for (var offset = 0; offset < frames.Length; offset += chunk)
                {
                    await pipe.Writer.WriteAsync(frames.AsMemory(offset, Math.Min(chunk, frames.Length - offset)));
                }

                await pipe.Writer.CompleteAsync();
            });
            var read = new List<RayletBatch>();
            while (await reader.MoveNext(CancellationToken.None).WaitAsync(Timeout))
            {
                read.Add(reader.Current);
            }

            await feeding.WaitAsync(Timeout);
            Assert.Equal(batches, read);
        }
    }

    [Fact]
    public async Task A_connection_that_ends_inside_a_frame_is_an_error_not_a_clean_end()
    {
        var pipe = new Pipe();
        var reader = new FramedStreamReader<RayletBatch>(pipe.Reader, RayletBatch.Parser);
        await pipe.Writer.WriteAsync(Header(100, 2));
        await pipe.Writer.WriteAsync(new byte[10]);
        await pipe.Writer.CompleteAsync();
        var error = await Assert.ThrowsAsync<IOException>(() => reader.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Contains("in the middle of a frame", error.Message);
    }

    [Fact]
    public async Task A_stream_closed_on_purpose_ends_with_the_peers_ok_and_one_whose_peer_died_without_it()
    {
        foreach (var goodbye in new[] { true, false })
        {
            var pipe = new Pipe();
            var reader = new FramedStreamReader<RayletBatch>(pipe.Reader, RayletBatch.Parser);
            FramedStream.WriteMessage(pipe.Writer, new RayletBatch());
            if (goodbye)
            {
                FramedStream.WriteStatus(pipe.Writer, StatusCode.OK, "The raylet closed the stream.");
            }

            await pipe.Writer.CompleteAsync();
            Assert.True(await reader.MoveNext(CancellationToken.None).WaitAsync(Timeout));
            Assert.False(await reader.MoveNext(CancellationToken.None).WaitAsync(Timeout));
            Assert.Equal(goodbye, reader.EndedByPeer);
        }
    }

    [Fact]
    public async Task A_connection_without_the_nodes_token_or_with_another_is_refused_and_says_which()
    {
        foreach (var (token, problem) in new[] { (string.Empty, "missing"), (ClusterToken.Generate().Value, "wrong") })
        {
            var error = await RegisterAsync(token, new RegisterWorker { ProtocolVersion = RuntimeVersion.Protocol, RuntimeVersion = RuntimeVersion.Current, Pid = Environment.ProcessId });
            Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
            Assert.Contains($"token is {problem}", error.Status.Detail);
            Assert.DoesNotContain(fixture.Ray.Host!.AuthToken, error.Status.Detail);
        }

        await AssertNodeServesAsync();
    }

    [Fact]
    public async Task A_process_the_raylet_did_not_start_or_of_another_version_cannot_register()
    {
        var stranger = await RegisterAsync(fixture.Ray.Host!.AuthToken, new RegisterWorker { ProtocolVersion = RuntimeVersion.Protocol, RuntimeVersion = RuntimeVersion.Current, Pid = Environment.ProcessId });
        Assert.Equal(StatusCode.PermissionDenied, stranger.StatusCode);

        var other = await RegisterAsync(fixture.Ray.Host!.AuthToken, new RegisterWorker { ProtocolVersion = RuntimeVersion.Protocol + 1, RuntimeVersion = "0.0.0-other", Pid = Environment.ProcessId });
        Assert.Equal(StatusCode.FailedPrecondition, other.StatusCode);
        await AssertNodeServesAsync();
    }

    [Theory]
    [InlineData("garbage", StatusCode.InvalidArgument, "is not a WorkerBatch")]
    [InlineData("too-large", StatusCode.ResourceExhausted, "at most")]
    [InlineData("unknown-kind", StatusCode.InvalidArgument, "does not exist")]
    [InlineData("second-hello", StatusCode.InvalidArgument, "only as its first frame")]
    [InlineData("no-hello", StatusCode.InvalidArgument, "must start with its hello frame")]
    public async Task A_malformed_frame_ends_only_that_connection_with_a_status_that_says_why(string bad, StatusCode expected, string says)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(fixture.Ray.RayletSocketPath!)).WaitAsync(Timeout);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var output = PipeWriter.Create(stream);
        if (bad == "no-hello")
        {
            output.Write(FramedStream.Magic);
            FramedStream.WriteMessage(output, new WorkerBatch());
        }
        else
        {
            FramedStream.WriteOpening(output, fixture.Ray.Host!.AuthToken);
            switch (bad)
            {
                case "garbage":
                    output.Write(Header(5, 2));
                    output.Write(new byte[] { 0xff, 0xff, 0xff, 0xff, 0x0f });
                    break;
                case "too-large":
                    output.Write(Header(int.MaxValue, 2));
                    break;
                case "unknown-kind":
                    output.Write(Header(0, 9));
                    break;
                case "second-hello":
                    output.Write(Header(0, 1));
                    break;
            }
        }

        await output.FlushAsync();
        var reader = new FramedStreamReader<RayletBatch>(PipeReader.Create(stream), RayletBatch.Parser);
        var error = await Assert.ThrowsAsync<RpcException>(() => reader.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(expected, error.StatusCode);
        Assert.Contains(says, error.Status.Detail);
        await AssertNodeServesAsync();
    }

    [Fact]
    public async Task A_socket_that_does_not_exist_fails_the_first_read_as_unavailable()
    {
        await using var client = FramedRayletClient.Connect(Path.Combine(Path.GetTempPath(), $"raygen-no-such-{Guid.NewGuid():N}.sock"), "token");
        var error = await Assert.ThrowsAsync<RpcException>(() => client.MoveNext(CancellationToken.None).WaitAsync(Timeout));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("Cannot reach the raylet", error.Status.Detail);
    }

    private static byte[] Header(int length, byte kind)
    {
        var header = new byte[FramedStream.HeaderSize];
        BinaryPrimitives.WriteInt32LittleEndian(header, length);
        header[4] = kind;
        return header;
    }

    private static async Task AssertNodeServesAsync() =>
        Assert.Equal(3, await TestTasks.Remote.Add(1, 2).GetAsync().AsTask().WaitAsync(Timeout));

    private async Task<RpcException> RegisterAsync(string token, RegisterWorker registration)
    {
        await using var client = FramedRayletClient.Connect(fixture.Ray.RayletSocketPath!, token);
        await client.WriteAsync(new WorkerBatch { Messages = { new WorkerMessage { Register = registration } } }).WaitAsync(Timeout);
        return await Assert.ThrowsAsync<RpcException>(() => client.MoveNext(CancellationToken.None).WaitAsync(Timeout));
    }
}
