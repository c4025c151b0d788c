using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.Gcs;
using Ray.Runtime.Protocol;
using Ray.Scheduling;
using Ray.Transport;

namespace Ray.Raylet;

/// <summary>
/// This raylet's links to the other raylets of the cluster. A node sends to another over the link it opened to it (one
/// batched stream, opened on the first message, with a version handshake), so what one node sends another arrives in
/// order; it receives over the links the others opened to it (<see cref="AcceptAsync"/>). A link that breaks is opened
/// again on the next message; a node the GCS declares dead is dropped.
/// </summary>
internal sealed class NodeLinks : IAsyncDisposable
{
    private readonly Guid _self;
    private readonly ClusterView _view;
    private readonly Func<string, GrpcChannel> _channels;
    private readonly Action<Guid, NodeMessage> _handle;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<Guid, Outbound> _outbound = new();
    private readonly CancellationTokenSource _stopping = new();

    public NodeLinks(Guid self, ClusterView view, Func<string, GrpcChannel> channels, Action<Guid, NodeMessage> handle, ILogger logger)
    {
        _self = self;
        _view = view;
        _channels = channels;
        _handle = handle;
        _logger = logger;
        view.NodeDied += (node, _) => Drop(node);
    }

    /// <summary>Sends <paramref name="message"/> to <paramref name="node"/>; false when the node is unknown or dead.</summary>
    public bool Send(Guid node, NodeMessage message)
    {
        if (node == _self)
        {
            // A node is its own peer when work comes back to it (a spillback to itself): no link needed.
            _handle(_self, message);
            return true;
        }

        while (true)
        {
            if (!_outbound.TryGetValue(node, out var link))
            {
                var address = _view.AddressOf(node);
                if (address is null || !_view.IsAlive(node))
                {
                    return false;
                }

                link = _outbound.GetOrAdd(node, id => Open(id, address));
            }

            if (link.Writer.TryWrite(message))
            {
                return true;
            }

            // That link ended; the next try opens another.
            _outbound.TryRemove(new KeyValuePair<Guid, Outbound>(node, link));
        }
    }

    /// <summary>Serves a link another raylet opened to this one: its hello, then its batches, each message handled in order.</summary>
    public async Task AcceptAsync(IAsyncStreamReader<NodeBatch> requests, IServerStreamWriter<NodeBatch> responses, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (!await requests.MoveNext(cancellationToken).ConfigureAwait(false) ||
            requests.Current.Messages.Count == 0 || requests.Current.Messages[0].BodyCase != NodeMessage.BodyOneofCase.Hello)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The first message on a node link must be a hello."));
        }

        var hello = requests.Current.Messages[0].Hello;
        if (RuntimeVersion.Mismatch(hello.ProtocolVersion, hello.RuntimeVersion, "node", "node") is { } mismatch)
        {
            _logger.LogError("Refused a link from node {Node} at {Peer}: {Reason}", NodeIds.Format(hello.NodeId), context.Peer, mismatch);
            throw new RpcException(new Status(StatusCode.FailedPrecondition, mismatch));
        }

        var peer = NodeIds.ToGuid(hello.NodeId);
        await responses.WriteAsync(new NodeBatch { Messages = { new NodeMessage { Hello = Hello() } } }, cancellationToken).ConfigureAwait(false);
        try
        {
            Dispatch(peer, requests.Current, skip: 1);
            while (await requests.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                Dispatch(peer, requests.Current, skip: 0);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or RpcException or InvalidOperationException)
        {
            _logger.LogDebug("The link from node {Node} ended: {Reason}", NodeIds.Format(hello.NodeId), e.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var link in _outbound.Values)
        {
            link.Writer.Complete();
        }

        foreach (var link in _outbound.Values)
        {
            try
            {
                await link.Running.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or RpcException or IOException or OperationCanceledException)
            {
            }
        }

        _outbound.Clear();
        _stopping.Dispose();
    }

    private static NodeHello Hello(Guid self) => new() { ProtocolVersion = RuntimeVersion.Protocol, RuntimeVersion = RuntimeVersion.Current, NodeId = NodeIds.ToBytes(self) };

    private NodeHello Hello() => Hello(_self);

    private void Dispatch(Guid peer, NodeBatch batch, int skip)
    {
        for (var i = skip; i < batch.Messages.Count; i++)
        {
            _handle(peer, batch.Messages[i]);
        }
    }

    private void Drop(Guid node)
    {
        if (_outbound.TryRemove(node, out var link))
        {
            link.Writer.Complete();
        }
    }

    private Outbound Open(Guid node, string address)
    {
        var writer = new BatchingWriter<NodeMessage, NodeBatch>(static items =>
        {
            var batch = new NodeBatch();
            batch.Messages.AddRange(items);
            return batch;
        });
        writer.TryWrite(new NodeMessage { Hello = Hello() });
        var link = new Outbound(writer);
        link.Running = RunAsync(node, address, link);
        return link;
    }

    private async Task RunAsync(Guid node, string address, Outbound link)
    {
        try
        {
            var client = new Runtime.Protocol.NodeLink.NodeLinkClient(_channels(address));
            using var call = client.Connect(cancellationToken: _stopping.Token);
            link.Writer.Start(batch => call.RequestStream.WriteAsync(batch));
            if (!await call.ResponseStream.MoveNext(_stopping.Token).ConfigureAwait(false) ||
                call.ResponseStream.Current.Messages.Count == 0 || call.ResponseStream.Current.Messages[0].BodyCase != NodeMessage.BodyOneofCase.Hello)
            {
                throw new RpcException(new Status(StatusCode.Internal, "The node did not answer the hello."));
            }

            // The peer only listens on this link; it ends when either side stops.
            await Task.WhenAny(link.Writer.Completion, DrainAsync(call.ResponseStream)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or IOException or OperationCanceledException or InvalidOperationException)
        {
            if (!_stopping.IsCancellationRequested)
            {
                _logger.LogWarning("The link to node {Node} at {Address} broke: {Reason}", node.ToString("n"), address, e.Message);
            }
        }
        finally
        {
            link.Writer.Complete();
            _outbound.TryRemove(new KeyValuePair<Guid, Outbound>(node, link));
        }
    }

    private static async Task DrainAsync(IAsyncStreamReader<NodeBatch> responses)
    {
        while (await responses.MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
        }
    }

    private sealed class Outbound(BatchingWriter<NodeMessage, NodeBatch> writer)
    {
        public BatchingWriter<NodeMessage, NodeBatch> Writer { get; } = writer;

        public Task Running { get; set; } = Task.CompletedTask;
    }
}

/// <summary>The gRPC endpoint of node links: every link another raylet opens to this one.</summary>
internal sealed class NodeLinkService(Hosting.NodeHost host) : Runtime.Protocol.NodeLink.NodeLinkBase
{
    public override Task Connect(IAsyncStreamReader<NodeBatch> requestStream, IServerStreamWriter<NodeBatch> responseStream, ServerCallContext context) =>
        host.Links?.AcceptAsync(requestStream, responseStream, context)
        ?? throw new RpcException(new Status(StatusCode.Unavailable, "This node does not take links from other nodes."));
}
