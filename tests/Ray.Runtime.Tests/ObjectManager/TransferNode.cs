using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ray.Hosting;
using Ray.ObjectManager;
using Ray.ObjectStore;
using Ray.Runtime.Protocol;
using Ray.Transport;

namespace Ray.Runtime.Tests.ObjectManager;

/// <summary>
/// One side of a transfer, as a node has it: a store of its own, the objects it holds, and a Kestrel server on
/// 127.0.0.1 (a port the system picks) serving them over <see cref="ObjectTransferService"/> behind the cluster token.
/// <see cref="Fault"/> makes the server misbehave the way a failing node does.
/// </summary>
internal sealed class TransferNode : IAsyncDisposable, ILocalObjects
{
    public static readonly ClusterToken Token = ClusterToken.Generate();

    private readonly ConcurrentDictionary<ObjectId, StoredObject> _objects = new();
    private readonly string _root;
    private WebApplication? _server;

    private TransferNode(string root, long capacity)
    {
        _root = root;
        Store = new NodeObjectStore(capacity, 0.8, root, root, spillLimit: null, Guid.NewGuid().ToString("n")[..12], NullLogger.Instance);
    }

    public NodeObjectStore Store { get; }

    /// <summary>The server's address, <c>127.0.0.1:port</c>.</summary>
    public string Address { get; private set; } = string.Empty;

    /// <summary>How the server misbehaves; read by each call.</summary>
    public ServerFault Fault { get; } = new();

    /// <summary>The pull requests the server received, in order.</summary>
    public ConcurrentQueue<PullRequest> Requests { get; } = new();

    public static async Task<TransferNode> StartAsync(long capacity = 16 << 20)
    {
        var node = new TransferNode(Path.Combine(Path.GetTempPath(), $"raygen-transfer-test-{Guid.NewGuid():n}"), capacity);
        Directory.CreateDirectory(node._root);
        await node.StartServerAsync();
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

    /// <summary>Stops the server at once, cutting the connections of calls in progress (a node that dies).</summary>
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

    private async Task StartServerAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        EmbeddedHost.Configure(builder, NullLoggerFactory.Instance, LogLevel.None);
        builder.Services.AddClusterGrpc(Token, NullLogger.Instance);
        builder.Services.AddSingleton(new FaultyTransferService(new ObjectTransferService(Store, this, NullLogger.Instance), this));
        ClusterServer.Listen(builder.WebHost, new IPEndPoint(IPAddress.Loopback, 0), ClusterCredentials.Create(Token, null, null, null), NullLogger.Instance);
        var server = builder.Build();
        server.MapGrpcService<FaultyTransferService>();
        await server.StartAsync();
        var address = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Address = $"127.0.0.1:{new Uri(address).Port}";
        _server = server;
    }

    /// <summary>The real service behind a writer that can hold chunks back or cut the stream, as the node's fault says.</summary>
    private sealed class FaultyTransferService(ObjectTransferService inner, TransferNode node) : ObjectTransfer.ObjectTransferBase
    {
        public override Task Pull(PullRequest request, IServerStreamWriter<ObjectChunk> responseStream, ServerCallContext context)
        {
            node.Requests.Enqueue(request);
            return inner.Pull(request, new FaultyWriter(responseStream, node.Fault, context), context);
        }
    }

    private sealed class FaultyWriter(IServerStreamWriter<ObjectChunk> inner, ServerFault fault, ServerCallContext context) : IServerStreamWriter<ObjectChunk>
    {
        private int _written;

        public WriteOptions? WriteOptions
        {
            get => inner.WriteOptions;
            set => inner.WriteOptions = value;
        }

        public Task WriteAsync(ObjectChunk message) => WriteAsync(message, CancellationToken.None);

        public async Task WriteAsync(ObjectChunk message, CancellationToken cancellationToken)
        {
            if (_written == fault.HoldAfterChunks)
            {
                fault.Held.TrySetResult();
                await fault.Gate.Task.WaitAsync(context.CancellationToken);
            }

            if (_written == fault.AbortAfterChunks)
            {
                // The connection drops under the call, as when the node's process dies.
                context.GetHttpContext().Abort();
                throw new IOException("The test cut the stream.");
            }

            await inner.WriteAsync(message, cancellationToken);
            _written++;
        }
    }
}

/// <summary>How a test server misbehaves: it may stop before a chunk until released, or cut the connection before one.</summary>
internal sealed class ServerFault
{
    /// <summary>Chunks sent before the stream is cut; null never cuts it.</summary>
    public int? AbortAfterChunks { get; set; }

    /// <summary>Chunks sent before the stream waits for <see cref="Release"/>; null never waits.</summary>
    public int? HoldAfterChunks { get; set; }

    /// <summary>Completes when a stream reached the hold.</summary>
    public TaskCompletionSource Held { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => Gate.TrySetResult();
}
