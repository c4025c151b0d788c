using Grpc.Core;
using Grpc.Net.Client;
using Ray.Runtime.Protocol;
using Ray.Transport;
using Ray.Worker;

namespace Ray.Core;

/// <summary>
/// A process's stream to its raylet, from the process's side: a worker's or a cluster driver's, over the framed stream
/// of the node's Unix socket (<see cref="OpenLocal"/>) when the node is on the process's machine, else the gRPC stream
/// over TCP (<see cref="Open"/>). Messages go out in batches (<see cref="BatchingWriter{TMessage, TBatch}"/>);
/// what comes back is read by <see cref="RunAsync"/>, and the messages that concern the process's core worker (object
/// values, replies to its requests) are handled here, whatever the process.
/// </summary>
internal sealed class RayletConnection : IAsyncDisposable
{
    private readonly IAsyncStreamReader<RayletBatch> _inbound;
    private readonly Func<ValueTask> _close;
    private readonly TaskCompletionSource<WorkerRegistered> _registered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<bool> _endedByRaylet;

    private RayletConnection(IAsyncStreamReader<RayletBatch> inbound, Func<WorkerBatch, Task> write, Func<ValueTask> close, Func<bool> endedByRaylet)
    {
        _inbound = inbound;
        _close = close;
        _endedByRaylet = endedByRaylet;
        Outbound = new BatchingWriter<WorkerMessage, WorkerBatch>(static items =>
        {
            var batch = new WorkerBatch();
            batch.Messages.AddRange(items);
            return batch;
        });
        Outbound.Start(write);
        Core = new ConnectedCoreWorker(Send);
    }

    public BatchingWriter<WorkerMessage, WorkerBatch> Outbound { get; }

    /// <summary>
    /// After <see cref="RunAsync"/> returned: whether the raylet closed the stream on purpose. False when the connection
    /// just ended, which on the node's socket means that the raylet's process died; the gRPC stream always says true.
    /// </summary>
    public bool EndedByRaylet => _endedByRaylet();

    public ConnectedCoreWorker Core { get; }

    /// <summary>Completes with the raylet's answer to this process's registration.</summary>
    public Task<WorkerRegistered> Registered => _registered.Task;

    /// <summary>Opens the gRPC stream over <paramref name="channel"/>, carrying the cluster's token, and sends <paramref name="registration"/> first.</summary>
    public static RayletConnection Open(GrpcChannel channel, string authToken, WorkerMessage registration)
    {
        var call = new Runtime.Protocol.Raylet.RayletClient(channel).Connect(TokenMetadata.For(authToken));
        var connection = new RayletConnection(
            call.ResponseStream,
            batch => call.RequestStream.WriteAsync(batch),
            () =>
            {
                call.Dispose();
                channel.Dispose();
                return ValueTask.CompletedTask;
            },
            static () => true);
        connection.Send(registration);
        return connection;
    }

    /// <summary>
    /// Opens the raylet's framed stream (<see cref="FramedStream"/>) over its Unix socket at <paramref name="socketPath"/>,
    /// carrying the cluster's token, and sends <paramref name="registration"/> first: what the node's own workers and
    /// the drivers on its machine use.
    /// </summary>
    public static RayletConnection OpenLocal(string socketPath, string authToken, WorkerMessage registration)
    {
        var client = FramedRayletClient.Connect(socketPath, authToken);
        var connection = new RayletConnection(client, client.WriteAsync, client.DisposeAsync, () => client.EndedByRaylet);
        connection.Send(registration);
        return connection;
    }

    public void Send(WorkerMessage message) => Outbound.TryWrite(message);

    /// <summary>Reads the raylet's messages until the stream ends; faults if it breaks or the raylet refused the process.</summary>
    public async Task RunAsync(Action<RayletMessage> handle, CancellationToken cancellationToken)
    {
        try
        {
            await new RayletReader(_inbound, message =>
            {
                if (!HandleCoreMessage(message))
                {
                    handle(message);
                }
            }).RunAsync(cancellationToken).ConfigureAwait(false);
            _registered.TrySetException(new RayException("The raylet ended the connection before it answered the registration."));
            Core.OnDisconnected(new RayException("The node ended the connection."));
        }
        catch (Exception e)
        {
            _registered.TrySetException(e);
            Core.OnDisconnected(e);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Outbound.Complete();
        try
        {
            await Outbound.Completion.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException or IOException or InvalidOperationException or TimeoutException)
        {
            // The stream is going away anyway.
        }

        await _close().ConfigureAwait(false);
    }

    /// <summary>Handles what concerns the core worker; false for the messages the process itself must handle.</summary>
    private bool HandleCoreMessage(RayletMessage message)
    {
        switch (message.BodyCase)
        {
            case RayletMessage.BodyOneofCase.Registered:
                Core.AttachStore(message.Registered);
                _registered.TrySetResult(message.Registered);
                return false;
            case RayletMessage.BodyOneofCase.Object:
                Core.OnObjectValue(message.Object);
                return true;
            case RayletMessage.BodyOneofCase.ActorLookup:
                Core.OnActorLookup(message.ActorLookup);
                return true;
            case RayletMessage.BodyOneofCase.Allocated:
                Core.OnAllocated(message.Allocated);
                return true;
            case RayletMessage.BodyOneofCase.Read:
                Core.OnRead(message.Read);
                return true;
            case RayletMessage.BodyOneofCase.StreamItem:
                Core.OnStreamItem(message.StreamItem);
                return true;
            case RayletMessage.BodyOneofCase.QueryReply:
                Core.OnQueryReply(message.QueryReply);
                return true;
            case RayletMessage.BodyOneofCase.CollectGarbage:
                ThreadPool.UnsafeQueueUserWorkItem(static state => state.Core.CollectGarbage(state.RequestId), (Core, message.CollectGarbage.RequestId), preferLocal: false);
                return true;
            default:
                return false;
        }
    }
}
