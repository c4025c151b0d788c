using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Ray.Core;
using Ray.ObjectManager;
using Ray.ObjectStore;
using Ray.Runtime.Protocol;
using Ray.Runtime.Tests.Transport;
using Ray.Runtime.Tests.Transport.Echo;
using Ray.Transport;
using Xunit;

namespace Ray.Runtime.Tests.ObjectManager;

/// <summary>
/// Objects pulled between two stores in this process: a Kestrel server on loopback serving one store over the object
/// stream, the puller filling the other, behind the cluster token; and the stream's protocol as a client that writes
/// raw bytes sees it.
/// </summary>
public sealed class ObjectTransferTests : IAsyncLifetime
{
    /// <summary>The unit the tests size objects and faults in: small objects still span several of them.</summary>
    private const int Chunk = 16 << 10;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly ObjectStreamClient _client = new(ClusterCredentials.Create(TransferNode.Token, null, null, null), NullLogger.Instance);
    private TransferNode _source = null!;
    private TransferNode _destination = null!;

    public async Task InitializeAsync()
    {
        _source = await TransferNode.StartAsync();
        _destination = await TransferNode.StartAsync();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _source.DisposeAsync();
        await _destination.DisposeAsync();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(Chunk)]
    [InlineData(5 * Chunk)]
    [InlineData((5 * Chunk) + (Chunk / 2) + 3)]
    public async Task An_object_arrives_whole_and_sealed_whatever_its_size(int size)
    {
        var id = ObjectId.New();
        var original = _source.Put(id, size, seed: size);

        var copy = await Puller().PullAsync(id, size, [_source.Address], CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(id, copy.Id);
        Assert.Equal(StoredState.Resident, copy.State);
        Assert.Equal(TransferNode.Bytes(size, seed: size), _destination.Read(copy));
        Assert.Equal(StoredObjectLayout.RegionSize(size), _destination.Store.Stats().UsedBytes);
        var request = Assert.Single(_source.Pulls);
        Assert.Equal(0ul, request.Offset);

        // The server's pin ends with its reply (which may be a moment after the last byte arrived here).
        await WaitUntilAsync(() => original.Pins == 0, "the server unpins");
    }

    [Fact]
    public async Task A_large_object_is_pulled_in_ranges_side_by_side()
    {
        const int size = (3 << 20) + 12345;
        var id = ObjectId.New();
        _source.Put(id, size, seed: 3);
        var puller = Puller(new ObjectPullOptions { Streams = 3, MinSplitSize = 1 << 20 });

        var copy = await puller.PullAsync(id, size, [_source.Address], CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(TransferNode.Bytes(size, seed: 3), _destination.Read(copy));
        var requests = _source.Pulls.OrderBy(r => r.Offset).ToList();
        Assert.Equal(3, requests.Count);
        Assert.Equal((ulong)size, requests.Sum(r => (long)r.Length) is var total ? (ulong)total : 0);
        Assert.Equal(0ul, requests[0].Offset);

        // Each range over a connection of its own.
        Assert.Equal(3, _source.ObjectStreams);
    }

    [Fact]
    public async Task A_missing_object_fails_clearly_and_leaves_nothing_allocated()
    {
        var id = ObjectId.New();

        var error = await Assert.ThrowsAsync<ObjectPullException>(() => Puller().PullAsync(id, 5000, [_source.Address], CancellationToken.None).WaitAsync(Timeout));

        Assert.Contains(id.ToString(), error.Message);
        Assert.Contains(_source.Address, error.Message);
        Assert.Contains("no copy", error.Message);
        Assert.True(error.ObjectLost);
        Assert.Equal(0, _destination.Store.Stats().UsedBytes);
    }

    [Fact]
    public async Task A_location_that_fails_midway_is_replaced_by_the_next_which_resumes_where_it_stopped()
    {
        const int size = (7 * Chunk) + 99;
        var id = ObjectId.New();
        _source.Put(id, size, seed: 7);
        await using var second = await TransferNode.StartAsync();
        second.Put(id, size, seed: 7);
        _source.Fault.CutAfterBytes = 3 * Chunk;

        var copy = await Puller().PullAsync(id, size, [_source.Address, second.Address], CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(TransferNode.Bytes(size, seed: 7), _destination.Read(copy));

        // The second location resumes at what had arrived.
        var resumed = Assert.Single(second.Pulls);
        Assert.Equal(3ul * Chunk, resumed.Offset);
        Assert.Equal((ulong)size - resumed.Offset, resumed.Length);
        Assert.Equal(StoredObjectLayout.RegionSize(size), _destination.Store.Stats().UsedBytes);
    }

    [Fact]
    public async Task A_node_that_dies_mid_stream_is_replaced_by_another()
    {
        const int size = 6 * Chunk;
        var id = ObjectId.New();
        _source.Put(id, size, seed: 6);
        await using var second = await TransferNode.StartAsync();
        second.Put(id, size, seed: 6);
        _source.Fault.HoldAfterBytes = 2 * Chunk;

        var pull = Puller().PullAsync(id, size, [_source.Address, second.Address], CancellationToken.None);
        await _source.Fault.Held.Task.WaitAsync(Timeout);
        await _source.KillServerAsync();
        var copy = await pull.WaitAsync(Timeout);

        Assert.Equal(TransferNode.Bytes(size, seed: 6), _destination.Read(copy));
        var resumed = Assert.Single(second.Pulls);
        Assert.True(resumed.Offset <= 2 * Chunk, $"resumed at {resumed.Offset}");
        Assert.Equal((ulong)size - resumed.Offset, resumed.Length);
    }

    [Fact]
    public async Task When_every_location_fails_the_pull_names_each_and_gives_its_region_back()
    {
        const int size = 4 * Chunk;
        var id = ObjectId.New();
        _source.Put(id, size, seed: 4);
        _source.Fault.CutAfterBytes = Chunk;
        await using var empty = await TransferNode.StartAsync();
        const string unreachable = "127.0.0.1:1";

        var error = await Assert.ThrowsAsync<ObjectPullException>(
            () => Puller().PullAsync(id, size, [_source.Address, empty.Address, unreachable], CancellationToken.None).WaitAsync(Timeout));

        Assert.Contains(id.ToString(), error.Message);
        Assert.Contains("of 64 KiB", error.Message);
        Assert.Equal([_source.Address, empty.Address, unreachable], error.Failures.Select(f => f.Location));
        Assert.False(error.Failures[0].NotFound);
        Assert.True(error.Failures[1].NotFound);
        Assert.False(error.ObjectLost);
        Assert.Equal(0, _destination.Store.Stats().UsedBytes);
    }

    [Theory]
    [InlineData(4000, "its payload holds 3000 bytes")]
    [InlineData(2000, "its copy holds 3000 bytes, not the 2000 the object has")]
    public async Task A_copy_of_another_size_is_refused(int expected, string reason)
    {
        var id = ObjectId.New();
        _source.Put(id, 3000, seed: 1);

        var error = await Assert.ThrowsAsync<ObjectPullException>(() => Puller().PullAsync(id, expected, [_source.Address], CancellationToken.None).WaitAsync(Timeout));

        Assert.Contains(reason, error.Message);
        Assert.DoesNotContain("..", error.Message);
        Assert.Equal(0, _destination.Store.Stats().UsedBytes);
    }

    [Fact]
    public async Task Concurrent_pulls_of_one_object_share_one_transfer()
    {
        const int size = 3 * Chunk;
        var id = ObjectId.New();
        _source.Put(id, size, seed: 9);
        _source.Fault.HoldAfterBytes = Chunk;
        var puller = Puller();

        var pulls = Enumerable.Range(0, 4).Select(_ => puller.PullAsync(id, size, [_source.Address], CancellationToken.None)).ToList();
        await _source.Fault.Held.Task.WaitAsync(Timeout);
        _source.Fault.Release();
        var copies = await Task.WhenAll(pulls).WaitAsync(Timeout);

        Assert.Single(_source.Requests);
        Assert.All(copies, copy => Assert.Same(copies[0], copy));
        Assert.Equal(StoredObjectLayout.RegionSize(size), _destination.Store.Stats().UsedBytes);

        // Once done, a new pull is a new transfer (the caller registers the first copy meanwhile).
        _source.Fault.HoldAfterBytes = null;
        var again = await puller.PullAsync(id, size, [_source.Address], CancellationToken.None).WaitAsync(Timeout);
        Assert.NotSame(copies[0], again);
        Assert.Equal(2, _source.Requests.Count);
    }

    [Fact]
    public async Task A_pull_every_caller_cancelled_gives_its_region_back_and_the_server_unpins()
    {
        const int size = 3 * Chunk;
        var id = ObjectId.New();
        var original = _source.Put(id, size, seed: 5);
        _source.Fault.HoldAfterBytes = Chunk;
        var puller = Puller();
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();

        var pulls = new[] { puller.PullAsync(id, size, [_source.Address], first.Token), puller.PullAsync(id, size, [_source.Address], second.Token) };
        await _source.Fault.Held.Task.WaitAsync(Timeout);
        await first.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pulls[0].WaitAsync(Timeout));

        // One caller still waits: the transfer goes on.
        Assert.False(pulls[1].IsCompleted);
        await second.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pulls[1].WaitAsync(Timeout));

        await WaitUntilAsync(() => _destination.Store.Stats().UsedBytes == 0 && original.Pins == 0, "the region is given back and the server unpins");
    }

    [Fact]
    public async Task A_wrong_token_is_refused_with_a_clear_error()
    {
        var id = ObjectId.New();
        _source.Put(id, 100, seed: 2);
        using var client = new ObjectStreamClient(ClusterCredentials.Create(ClusterToken.Generate(), null, null, null), NullLogger.Instance);
        var puller = new ObjectPuller(_destination.Store, client, NullLogger.Instance);

        var error = await Assert.ThrowsAsync<ObjectPullException>(() => puller.PullAsync(id, 100, [_source.Address], CancellationToken.None).WaitAsync(Timeout));

        Assert.Contains("Unauthenticated", error.Message);
        Assert.Contains("token is wrong", error.Message);
        Assert.Equal(0, _destination.Store.Stats().UsedBytes);
        var refused = await _source.Logs.WaitForAsync(e => e.Message.StartsWith("Refused RAYGEN-OBJECTS/1 from 127.0.0.1:", StringComparison.Ordinal), Timeout);
        Assert.EndsWith("the cluster token is wrong.", refused.Message);
    }

    [Fact]
    public async Task A_spilled_object_is_restored_to_be_sent()
    {
        await using var small = await TransferNode.StartAsync(capacity: 1 << 20);
        const int size = 300 << 10;
        var spilled = ObjectId.New();
        var stored = small.Put(spilled, size, seed: 11);

        // Two more objects pass the high-water mark: the oldest goes to disk.
        small.Put(ObjectId.New(), size, seed: 12);
        small.Put(ObjectId.New(), size, seed: 13);
        Assert.Equal(StoredState.Spilled, stored.State);

        var copy = await Puller().PullAsync(spilled, size, [small.Address], CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(TransferNode.Bytes(size, seed: 11), _destination.Read(copy));
        Assert.Equal(1, small.Store.Stats().RestoreCount);
    }

    [Fact]
    public async Task A_connection_serves_the_next_pull_after_a_reply_even_one_without_the_object()
    {
        var id = ObjectId.New();
        _source.Put(id, 1000, seed: 21);
        var other = ObjectId.New();
        _source.Put(other, 3 * Chunk, seed: 22);

        var missing = await Assert.ThrowsAsync<ObjectPullException>(() => Puller().PullAsync(ObjectId.New(), 10, [_source.Address], CancellationToken.None).WaitAsync(Timeout));
        var first = await Puller().PullAsync(id, 1000, [_source.Address], CancellationToken.None).WaitAsync(Timeout);
        var second = await Puller().PullAsync(other, 3 * Chunk, [_source.Address], CancellationToken.None).WaitAsync(Timeout);

        Assert.True(missing.ObjectLost);
        Assert.Equal(TransferNode.Bytes(1000, seed: 21), _destination.Read(first));
        Assert.Equal(TransferNode.Bytes(3 * Chunk, seed: 22), _destination.Read(second));
        Assert.Equal(3, _source.Requests.Count);
        Assert.Equal(1, _source.ObjectStreams);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Grpc_and_the_object_stream_share_the_port_with_or_without_tls(bool tls)
    {
        using var certificates = new TestCertificates();
        var credentials = ClusterCredentials.Create(TransferNode.Token, null, null, null);
        if (tls)
        {
            var ca = certificates.CreateAuthority("cluster-ca");
            var node = certificates.Issue(ca, "node", [System.Net.IPAddress.Loopback]);
            credentials = new ClusterCredentials(TransferNode.Token, ClusterTls.Load(node.CertificatePath, node.KeyPath, ca.Path));
        }

        await using var source = await TransferNode.StartAsync(credentials: credentials);
        var id = ObjectId.New();
        source.Put(id, (5 * Chunk) + 7, seed: 23);
        using var channel = ClusterChannel.Create(source.Address, credentials);
        using var client = new ObjectStreamClient(credentials, NullLogger.Instance);

        var echo = await new Echo.EchoClient(channel).UnaryAsync(new EchoMessage { Text = "http/2" }, deadline: DateTime.UtcNow + Timeout);
        var copy = await new ObjectPuller(_destination.Store, client, NullLogger.Instance).PullAsync(id, (5 * Chunk) + 7, [source.Address], CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal("http/2", echo.Text);
        Assert.Equal(tls ? "CN=node" : "", echo.ClientCertificate);
        Assert.Equal(TransferNode.Bytes((5 * Chunk) + 7, seed: 23), _destination.Read(copy));
        Assert.Equal(1, source.ObjectStreams);
        Assert.DoesNotContain(source.Logs.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
    }

    [Fact]
    public void Replies_go_to_the_socket_itself_only_on_a_plain_connection()
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        var pipe = new System.IO.Pipelines.Pipe();
        var transport = new Duplex(pipe.Reader, pipe.Writer);
        var plain = new Microsoft.AspNetCore.Connections.DefaultConnectionContext { Transport = transport };
        plain.Features.Set<Microsoft.AspNetCore.Connections.Features.IConnectionSocketFeature>(new SocketFeature(socket));
        var tls = new Microsoft.AspNetCore.Connections.DefaultConnectionContext { Transport = transport };
        tls.Features.Set<Microsoft.AspNetCore.Connections.Features.IConnectionSocketFeature>(new SocketFeature(socket));
        tls.Features.Set<Microsoft.AspNetCore.Http.Features.ITlsConnectionFeature>(new Microsoft.AspNetCore.Http.Features.TlsConnectionFeature());
        var noSocket = new Microsoft.AspNetCore.Connections.DefaultConnectionContext { Transport = transport };

        Assert.Equal("SocketOutput", ReplyOutput.For(plain, allowSocket: true).GetType().Name);
        Assert.Equal("PipeOutput", ReplyOutput.For(plain, allowSocket: false).GetType().Name);
        Assert.Equal("PipeOutput", ReplyOutput.For(tls, allowSocket: true).GetType().Name);
        Assert.Equal("PipeOutput", ReplyOutput.For(noSocket, allowSocket: true).GetType().Name);
    }

    [Fact]
    public async Task A_reader_that_goes_away_mid_reply_on_a_plain_connection_leaves_the_object_unpinned_and_the_node_serving()
    {
        // Plain TCP: the node writes the payload to the socket itself, and learns of the reader's going from the socket.
        const int size = 12 << 20;
        var id = ObjectId.New();
        var original = _source.Put(id, size, seed: 26);
        var target = ClusterAddress.Parse(_source.Address);
        using (var socket = new Socket(SocketType.Stream, ProtocolType.Tcp))
        {
            // A small window, so that the kernel's buffers cannot take the whole reply before the reader goes.
            socket.ReceiveBufferSize = 64 << 10;
            await socket.ConnectAsync(target.Host, target.Port);
            await using var stream = new NetworkStream(socket);
            await stream.WriteAsync(Opening(Request(TransferNode.Token.Value, id)));
            var prefix = new byte[ObjectStreamProtocol.LengthPrefixSize];
            await stream.ReadExactlyAsync(prefix).AsTask().WaitAsync(Timeout);
            var header = new byte[BinaryPrimitives.ReadUInt32BigEndian(prefix)];
            await stream.ReadExactlyAsync(header).AsTask().WaitAsync(Timeout);
            Assert.Equal((ulong)size, ObjectStreamReply.Parser.ParseFrom(header).Length);
            await stream.ReadExactlyAsync(new byte[Chunk]).AsTask().WaitAsync(Timeout);

            // Gone after the first bytes, with the rest of the reply unread.
            socket.LingerState = new LingerOption(true, 0);
        }

        var abandoned = await _source.Logs.WaitForAsync(e => e.Message.StartsWith($"Stopped sending object {id} to 127.0.0.1:", StringComparison.Ordinal), Timeout);
        Assert.DoesNotContain($"after {size} bytes", abandoned.Message);
        await WaitUntilAsync(() => original.Pins == 0, "the sender unpins the object");

        var copy = await Puller().PullAsync(id, size, [_source.Address], CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal(TransferNode.Bytes(size, seed: 26), _destination.Read(copy));
    }

    [Fact]
    public async Task A_request_without_a_token_is_refused_and_its_connection_closed()
    {
        var id = ObjectId.New();
        _source.Put(id, 100, seed: 24);

        var (reply, closed) = await SendRawAsync(_source.Address, Opening(Request(string.Empty, id)));

        Assert.Equal(StatusCode.Unauthenticated, (StatusCode)reply.Status);
        Assert.Equal(ClusterTokenAuthenticator.MissingMessage, reply.Detail);
        Assert.True(closed);
        await _source.Logs.WaitForAsync(e => e.Message.StartsWith("Refused RAYGEN-OBJECTS/1 from 127.0.0.1:", StringComparison.Ordinal) && e.Message.EndsWith("the cluster token is missing.", StringComparison.Ordinal), Timeout);
    }

    [Theory]
    [InlineData(1, null, "protocol")]
    [InlineData(0, "0.0.1-elsewhere", "Ray.Runtime 0.0.1-elsewhere")]
    public async Task A_pull_from_a_node_of_another_version_is_refused_with_both_versions(int protocolOffset, string? version, string theirs)
    {
        var id = ObjectId.New();
        _source.Put(id, 100, seed: 25);
        var request = Request(TransferNode.Token.Value, id);
        request.ProtocolVersion += protocolOffset;
        request.RuntimeVersion = version ?? request.RuntimeVersion;

        var (reply, closed) = await SendRawAsync(_source.Address, Opening(request));

        Assert.Equal(StatusCode.FailedPrecondition, (StatusCode)reply.Status);
        var ours = protocolOffset == 0 ? $"Ray.Runtime {RuntimeVersion.Current}" : $"protocol {RuntimeVersion.Protocol}";
        theirs = protocolOffset == 0 ? theirs : $"protocol {RuntimeVersion.Protocol + protocolOffset}";
        Assert.Contains(theirs, reply.Detail);
        Assert.Contains(ours, reply.Detail);
        Assert.True(closed);
        var logged = await _source.Logs.WaitForAsync(e => e.Message.StartsWith("Refused the object stream from 127.0.0.1:", StringComparison.Ordinal), Timeout);
        Assert.Contains(theirs, logged.Message);
        Assert.DoesNotContain(_source.Logs.Entries, e => e.Message.Contains("Sent object", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("too large", "a request of 2147483647 bytes was announced, more than the 4096 one may have")]
    [InlineData("not protobuf", "the request is not an ObjectStreamRequest")]
    [InlineData("no object", "the request names no object")]
    public async Task A_malformed_request_is_answered_and_its_connection_closed_with_a_logged_reason(string kind, string reason)
    {
        var bytes = new ArrayBufferWriter<byte>();
        bytes.Write(ObjectStreamProtocol.Magic);
        var prefix = new byte[ObjectStreamProtocol.LengthPrefixSize];
        switch (kind)
        {
            case "too large":
                BinaryPrimitives.WriteUInt32BigEndian(prefix, int.MaxValue);
                bytes.Write(prefix);
                break;
            case "not protobuf":
                BinaryPrimitives.WriteUInt32BigEndian(prefix, 3);
                bytes.Write(prefix);
                bytes.Write(new byte[] { 0xFF, 0xFF, 0xFF });
                break;
            default:
                var request = Request(TransferNode.Token.Value, ObjectId.New());
                request.Pull = null;
                ObjectStreamProtocol.Write(bytes, request);
                break;
        }

        var (reply, closed) = await SendRawAsync(_source.Address, bytes.WrittenSpan.ToArray());

        Assert.Equal(StatusCode.InvalidArgument, (StatusCode)reply.Status);
        Assert.Contains(reason, reply.Detail);
        Assert.True(closed);
        var logged = await _source.Logs.WaitForAsync(e => e.Message.StartsWith("Closed the object stream from 127.0.0.1:", StringComparison.Ordinal), Timeout);
        Assert.Contains(reason, logged.Message);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, logged.Level);
    }

    private static ObjectStreamRequest Request(string token, ObjectId id) => new()
    {
        Token = token,
        ProtocolVersion = RuntimeVersion.Protocol,
        RuntimeVersion = RuntimeVersion.Current,
        Pull = new PullRequest { Id = id.ToProto() },
    };

    /// <summary>The bytes a client opens a stream with: the magic and a request.</summary>
    private static byte[] Opening(ObjectStreamRequest request)
    {
        var bytes = new ArrayBufferWriter<byte>();
        bytes.Write(ObjectStreamProtocol.Magic);
        ObjectStreamProtocol.Write(bytes, request);
        return bytes.WrittenSpan.ToArray();
    }

    /// <summary>Sends <paramref name="bytes"/> on a new connection; returns the reply's header, and whether the node then closed the connection.</summary>
    private static async Task<(ObjectStreamReply Reply, bool Closed)> SendRawAsync(string address, byte[] bytes)
    {
        var target = ClusterAddress.Parse(address);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(target.Host, target.Port);
        await using var stream = new NetworkStream(socket);
        await stream.WriteAsync(bytes);
        var prefix = new byte[ObjectStreamProtocol.LengthPrefixSize];
        await stream.ReadExactlyAsync(prefix).AsTask().WaitAsync(Timeout);
        var header = new byte[BinaryPrimitives.ReadUInt32BigEndian(prefix)];
        await stream.ReadExactlyAsync(header).AsTask().WaitAsync(Timeout);
        bool closed;
        try
        {
            closed = await stream.ReadAsync(new byte[1]).AsTask().WaitAsync(Timeout) == 0;
        }
        catch (IOException)
        {
            // Reset rather than closed: closed all the same.
            closed = true;
        }

        return (ObjectStreamReply.Parser.ParseFrom(header), closed);
    }

    private ObjectPuller Puller(ObjectPullOptions? options = null) => new(_destination.Store, _client, NullLogger.Instance, options);

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out after {Timeout.TotalSeconds} s waiting until {what}.");
            await Task.Delay(10);
        }
    }

    private sealed class Duplex(System.IO.Pipelines.PipeReader input, System.IO.Pipelines.PipeWriter output) : System.IO.Pipelines.IDuplexPipe
    {
        public System.IO.Pipelines.PipeReader Input { get; } = input;

        public System.IO.Pipelines.PipeWriter Output { get; } = output;
    }

    private sealed class SocketFeature(Socket socket) : Microsoft.AspNetCore.Connections.Features.IConnectionSocketFeature
    {
        public Socket Socket { get; } = socket;
    }
}
