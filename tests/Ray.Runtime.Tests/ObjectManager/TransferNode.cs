using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ray.Hosting;
using Ray.Logging;
using Ray.ObjectManager;
using Ray.ObjectStore;
using Ray.Runtime.Protocol;
using Ray.Runtime.Tests.Transport;
using Ray.Transport;

namespace Ray.Runtime.Tests.ObjectManager;

/// <summary>
/// One side of a transfer, as a node has it: a store of its own, the objects it holds, and a Kestrel server on
/// 127.0.0.1 (a port the system picks) set up as a node's cluster port is: the object stream
/// (<see cref="ObjectStreamServer"/>) in front of gRPC (the test's echo service) behind the cluster token, in TLS when
/// the credentials have it. Between the connection and the object stream sits a layer that records every request the
/// server reads and, as <see cref="Fault"/> says, makes the server misbehave the way a failing node does.
/// </summary>
internal sealed class TransferNode : IAsyncDisposable, ILocalObjects
{
    public static readonly ClusterToken Token = ClusterToken.Generate();

    private readonly ConcurrentDictionary<ObjectId, StoredObject> _objects = new();
    private readonly string _root;
    private WebApplication? _server;
    private int _objectStreams;

    private TransferNode(string root, long capacity)
    {
        _root = root;
        Store = new NodeObjectStore(capacity, 0.8, root, root, spillLimit: null, Guid.NewGuid().ToString("n")[..12], NullLogger.Instance);
    }

    public NodeObjectStore Store { get; }

    /// <summary>The server's address, <c>127.0.0.1:port</c>.</summary>
    public string Address { get; private set; } = string.Empty;

    /// <summary>How the server misbehaves; read by each connection.</summary>
    public ServerFault Fault { get; } = new();

    /// <summary>The pull requests the server read, in order, as they were read (before they were answered).</summary>
    public ConcurrentQueue<ObjectStreamRequest> Requests { get; } = new();

    /// <summary>The ranges the server was asked for.</summary>
    public IEnumerable<PullRequest> Pulls => Requests.Select(r => r.Pull);

    /// <summary>Connections that opened an object stream (as opposed to HTTP/2).</summary>
    public int ObjectStreams => Volatile.Read(ref _objectStreams);

    /// <summary>What the server logged (object manager and transport).</summary>
    public CapturedLogs Logs { get; } = new();

    public static async Task<TransferNode> StartAsync(long capacity = 16 << 20, ClusterCredentials? credentials = null)
    {
        var node = new TransferNode(Path.Combine(Path.GetTempPath(), $"raygen-transfer-test-{Guid.NewGuid():n}"), capacity);
        Directory.CreateDirectory(node._root);
        await node.StartServerAsync(credentials ?? ClusterCredentials.Create(Token, null, null, null));
        return node;
    }

    /// <summary>Stores a sealed object of <paramref name="size"/> bytes made from <paramref name="seed"/> under <paramref name="id"/>.</summary>
    public StoredObject Put(ObjectId id, int size, int seed)
    {
        var region = Store.Allocate(size);
        Bytes(size, seed).CopyTo(Store.Arena.Region(region.Offset + StoredObjectLayout.HeaderSize, size));
        Store.Arena.Seal(region.Offset, id, size);
        var stored = Store.Seal(id, region);
        _objects[id] = stored;
        return stored;
    }

    public StoredObject? Find(ObjectId id) => _objects.GetValueOrDefault(id);

    /// <summary>The payload of a stored object, copied out.</summary>
    public byte[] Read(StoredObject stored)
    {
        Store.Pin(stored);
        try
        {
            return Store.Read(stored).ToArray();
        }
        finally
        {
            Store.Unpin(stored);
        }
    }

    /// <summary>Stops the server at once, cutting the connections in progress (a node that dies).</summary>
    public async Task KillServerAsync()
    {
        if (_server is { } server)
        {
            _server = null;
            await server.StopAsync(new CancellationToken(canceled: true));
            await server.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Fault.Release();
        await KillServerAsync();
        Store.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>Deterministic bytes, different for each seed.</summary>
    public static byte[] Bytes(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private async Task StartServerAsync(ClusterCredentials credentials)
    {
        var builder = WebApplication.CreateSlimBuilder();
        EmbeddedHost.Configure(builder, NullLoggerFactory.Instance, LogLevel.None);
        var transportLogger = Logs.CreateLogger(LogCategories.Transport);
        var objectLogger = Logs.CreateLogger(LogCategories.ObjectManager);
        builder.Services.AddClusterGrpc(credentials.Token, transportLogger);
        var objectStream = new ObjectStreamServer(new ObjectSender(Store, this, objectLogger), new ClusterTokenAuthenticator(credentials.Token, transportLogger), objectLogger);
        ClusterServer.Listen(builder.WebHost, new IPEndPoint(IPAddress.Loopback, 0), credentials, transportLogger, listen =>
        {
            listen.Use(next => connection => ServeFaultyAsync(connection, next));
            objectStream.Listen(listen);
        });
        var server = builder.Build();
        server.MapGrpcService<EchoServer.EchoService>();
        await server.StartAsync();
        var address = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Address = $"127.0.0.1:{new Uri(address).Port}";
        _server = server;
    }

    private async Task ServeFaultyAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var transport = connection.Transport;
        connection.Transport = new FaultyTransport(transport, this, connection);

        // A fault is made in the output pipe: a connection opened while one is armed has its replies written there (as
        // inside TLS), not to the socket itself. The others take the socket, as a plain connection of a node does.
        var socket = connection.Features.Get<IConnectionSocketFeature>();
        var faulty = Fault.CutAfterBytes is not null || Fault.HoldAfterBytes is not null;
        if (faulty)
        {
            connection.Features.Set<IConnectionSocketFeature>(null);
        }

        try
        {
            await next(connection);
        }
        finally
        {
            connection.Transport = transport;
            if (faulty)
            {
                connection.Features.Set(socket);
            }
        }
    }

    private sealed class FaultyTransport(IDuplexPipe inner, TransferNode node, ConnectionContext connection) : IDuplexPipe
    {
        public PipeReader Input { get; } = new RecordingReader(inner.Input, node);

        public PipeWriter Output { get; } = new FaultyWriter(inner.Output, node.Fault, connection);
    }

    /// <summary>Reads what the server consumes of an object stream's requests, as the server consumes them.</summary>
    private sealed class RecordingReader(PipeReader inner, TransferNode node) : PipeReader
    {
        private readonly ArrayBufferWriter<byte> _consumed = new();
        private ReadOnlySequence<byte> _last;
        private bool? _isObjectStream;

        public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            var result = await inner.ReadAsync(cancellationToken);
            _last = result.Buffer;
            return result;
        }

        public override bool TryRead(out ReadResult result)
        {
            var read = inner.TryRead(out result);
            _last = result.Buffer;
            return read;
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            if (_isObjectStream is not false)
            {
                foreach (var segment in _last.Slice(0, consumed))
                {
                    _consumed.Write(segment.Span);
                }

                Parse();
            }

            inner.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        private void Parse()
        {
            var buffer = new ReadOnlySequence<byte>(_consumed.WrittenMemory);
            if (_isObjectStream is null)
            {
                if (buffer.Length < ObjectStreamProtocol.Magic.Length)
                {
                    return;
                }

                _isObjectStream = ObjectStreamProtocol.Recognize(buffer) == ObjectStreamProtocol.Opening.ObjectStream;
                if (_isObjectStream is false)
                {
                    return;
                }

                Interlocked.Increment(ref node._objectStreams);
                buffer = buffer.Slice(ObjectStreamProtocol.Magic.Length);
            }

            while (ObjectStreamProtocol.TryReadFrame(ref buffer, int.MaxValue, out var message, out _) == ObjectStreamProtocol.FrameState.Complete)
            {
                try
                {
                    node.Requests.Enqueue(ObjectStreamRequest.Parser.ParseFrom(message));
                }
                catch (Google.Protobuf.InvalidProtocolBufferException)
                {
                    // A malformed request, sent on purpose: the server's answer is what the test looks at.
                }
            }

            var rest = buffer.ToArray();
            _consumed.Clear();
            _consumed.Write(rest);
        }
    }

    /// <summary>
    /// Passes the server's writes on, and holds back or cuts the connection at the payload byte the fault names
    /// (payload bytes are those the sender writes with <see cref="PipeWriter.WriteAsync"/>, counted per connection).
    /// </summary>
    private sealed class FaultyWriter(PipeWriter inner, ServerFault fault, ConnectionContext connection) : PipeWriter
    {
        private long _sent;
        private bool _held;

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override async ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            var result = default(FlushResult);
            while (!source.IsEmpty)
            {
                var hold = _held ? null : fault.HoldAfterBytes;
                var stop = Math.Min(hold ?? long.MaxValue, fault.CutAfterBytes ?? long.MaxValue);
                var length = (int)Math.Min(source.Length, Math.Max(0, stop - _sent));
                if (length > 0)
                {
                    result = await inner.WriteAsync(source[..length], cancellationToken);
                    _sent += length;
                    source = source[length..];
                }

                if (_sent == hold)
                {
                    _held = true;
                    fault.Held.TrySetResult();
                    await fault.Gate.Task.WaitAsync(connection.ConnectionClosed);
                }

                if (_sent == fault.CutAfterBytes)
                {
                    // The connection ends under the reply: what was written still goes out, then the end of the stream.
                    await inner.CompleteAsync();
                    throw new IOException("The test cut the stream.");
                }
            }

            return result;
        }
    }
}

/// <summary>How a test server misbehaves: it may stop before a payload byte until released, or cut the connection there.</summary>
internal sealed class ServerFault
{
    /// <summary>Payload bytes sent on a connection before it is closed, in the middle of the reply; null never cuts it.</summary>
    public long? CutAfterBytes { get; set; }

    /// <summary>Payload bytes sent on a connection before the reply waits for <see cref="Release"/>; null never waits.</summary>
    public long? HoldAfterBytes { get; set; }

    /// <summary>Completes when a reply reached the hold.</summary>
    public TaskCompletionSource Held { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => Gate.TrySetResult();
}
