using System.Collections.Concurrent;
using System.IO.Pipelines;
using Grpc.Core;
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
/// <para>
/// A link is a <see cref="FramedStream"/> of its own on the node's cluster port (<see cref="Protocol"/>, served by
/// <see cref="NodeLinkServer"/>, inside TLS when the cluster has it): the magic, a hello frame with the cluster token,
/// then one <see cref="NodeBatch"/> per frame, the first carrying the <see cref="NodeHello"/> with the versions. The
/// same batches can come over gRPC (<c>NodeLink.Connect</c>), which the node still serves.
/// </para>
/// </summary>
internal sealed class NodeLinks : IAsyncDisposable
{
    /// <summary>The link protocol's name and version, as its magic spells it and logs name it.</summary>
    public const string Protocol = "RAYGEN-NODE/1";

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private readonly Guid _self;
    private readonly ClusterView _view;
    private readonly ClusterCredentials _credentials;
    private readonly Action<Guid, NodeMessage> _handle;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<Guid, Outbound> _outbound = new();
    private readonly CancellationTokenSource _stopping = new();

    public NodeLinks(Guid self, ClusterView view, ClusterCredentials credentials, Action<Guid, NodeMessage> handle, ILogger logger)
    {
        _self = self;
        _view = view;
        _credentials = credentials;
        _handle = handle;
        _logger = logger;
        view.NodeDied += (node, _) => Drop(node);
    }

    /// <summary>What a link opens with.</summary>
    public static ReadOnlySpan<byte> Magic => "RAYGEN-NODE/1\n"u8;

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

    /// <summary>
    /// Serves a link another raylet opened to this one (its token already checked): its hello, answered with this node's,
    /// then its batches, each message handled in order.
    /// </summary>
    /// <exception cref="RpcException">The link did not start with a hello, or its node runs another version.</exception>
    public async Task AcceptAsync(IAsyncStreamReader<NodeBatch> requests, Func<NodeBatch, Task> respond, string peer, CancellationToken cancellationToken)
    {
        if (!await requests.MoveNext(cancellationToken).ConfigureAwait(false) ||
            requests.Current.Messages.Count == 0 || requests.Current.Messages[0].BodyCase != NodeMessage.BodyOneofCase.Hello)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The first message on a node link must be a hello."));
        }

        var hello = requests.Current.Messages[0].Hello;
        if (RuntimeVersion.Mismatch(hello.ProtocolVersion, hello.RuntimeVersion, "node", "node") is { } mismatch)
        {
            _logger.LogError("Refused a link from node {Node} at {Peer}: {Reason}", NodeIds.Format(hello.NodeId), peer, mismatch);
            throw new RpcException(new Status(StatusCode.FailedPrecondition, mismatch));
        }

        var from = NodeIds.ToGuid(hello.NodeId);
        await respond(new NodeBatch { Messages = { new NodeMessage { Hello = Hello() } } }).ConfigureAwait(false);
        try
        {
            Dispatch(from, requests.Current, skip: 1);
            while (await requests.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                Dispatch(from, requests.Current, skip: 0);
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
        Stream? stream = null;
        try
        {
            (_, stream) = await ClusterConnections.ConnectAsync(address, _credentials, ConnectTimeout, _logger, _stopping.Token).ConfigureAwait(false);
            var input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 << 10, minimumReadSize: 16 << 10, leaveOpen: true));
            var output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 16 << 10, leaveOpen: true));
            FramedStream.WriteOpening(output, _credentials.Token.Value, Magic);
            await output.FlushAsync(_stopping.Token).ConfigureAwait(false);
            var writer = new FramedStreamWriter(output, Protocol);
            var responses = new FramedStreamReader<NodeBatch>(input, NodeBatch.Parser, Protocol);
            link.Writer.Start(batch => writer.WriteAsync(batch, _stopping.Token));
            if (!await responses.MoveNext(_stopping.Token).ConfigureAwait(false) ||
                responses.Current.Messages.Count == 0 || responses.Current.Messages[0].BodyCase != NodeMessage.BodyOneofCase.Hello)
            {
                throw new RpcException(new Status(StatusCode.Internal, "The node did not answer the hello."));
            }

            // The peer only listens on this link; it ends when either side stops (a refusal comes as a status frame).
            await Task.WhenAny(link.Writer.Completion, DrainAsync(responses)).ConfigureAwait(false);
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
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
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

/// <summary>The gRPC endpoint of node links (the same batches as <see cref="NodeLinks.Protocol"/>, over HTTP/2).</summary>
internal sealed class NodeLinkService(Hosting.NodeHost host) : Runtime.Protocol.NodeLink.NodeLinkBase
{
    public override Task Connect(IAsyncStreamReader<NodeBatch> requestStream, IServerStreamWriter<NodeBatch> responseStream, ServerCallContext context) =>
        host.Links?.AcceptAsync(requestStream, batch => responseStream.WriteAsync(batch), context.Peer, context.CancellationToken)
        ?? throw new RpcException(new Status(StatusCode.Unavailable, "This node does not take links from other nodes."));
}
