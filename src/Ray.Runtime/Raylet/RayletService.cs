using Grpc.Core;
using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.Runtime.Protocol;

namespace Ray.Raylet;

/// <summary>
/// The gRPC endpoint workers connect to. Each connection is one bidirectional stream: after a version
/// handshake, the raylet pushes task batches and object values, and the worker streams back results,
/// nested submissions, puts and object requests. Anything malformed ends that connection with a status that
/// says what was wrong; the raylet itself keeps running.
/// </summary>
internal sealed class RayletService(RayletNode node) : global::Ray.Runtime.Protocol.Raylet.RayletBase
{
    private readonly ILogger _logger = node.Logger;

    public override async Task Connect(
        IAsyncStreamReader<WorkerBatch> requestStream,
        IServerStreamWriter<RayletBatch> responseStream,
        ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (!await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        var first = requestStream.Current;
        if (first.Messages.Count == 0 || first.Messages[0].BodyCase != WorkerMessage.BodyOneofCase.Register)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "The first message on a worker connection must be RegisterWorker."));
        }

        var registration = first.Messages[0].Register;
        if (RuntimeVersion.Mismatch(registration.ProtocolVersion, registration.RuntimeVersion) is { } mismatch)
        {
            _logger.LogError("Rejected worker pid {Pid}: {Reason}", registration.Pid, mismatch);
            throw new RpcException(new Status(StatusCode.FailedPrecondition, mismatch));
        }

        if (node.Pool.Find(registration.Pid) is not { } process)
        {
            throw new RpcException(new Status(
                StatusCode.PermissionDenied,
                $"Process {registration.Pid} was not started by this raylet, so it cannot register as its worker."));
        }

        var worker = new WorkerHandle(registration.Pid, registration.WorkerIndex, process.Kind, process.Job);
        worker.Send(new RayletMessage
        {
            Registered = node.Registration(process),
        });
        worker.Outbound.Start(batch => responseStream.WriteAsync(batch, cancellationToken));
        node.Pool.OnRegistered(worker);
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reading = ReadAsync(worker, first, requestStream, stopReading.Token);
        try
        {
            // The raylet ends a worker's connection by completing its outbound queue (the node is stopping, or it
            // gave up on the worker): returning then ends the response stream, which tells the worker to exit.
            await Task.WhenAny(reading, worker.Outbound.Completion).ConfigureAwait(false);
        }
        finally
        {
            worker.Outbound.Complete();
            node.Pool.OnDisconnected(worker);
            try
            {
                await worker.Outbound.Completion.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException or RpcException or TimeoutException)
            {
                // The worker went away while results were being written; its tasks are retried elsewhere.
            }

            await stopReading.CancelAsync().ConfigureAwait(false);
            await reading.ConfigureAwait(false);
        }
    }

    private async Task ReadAsync(WorkerHandle worker, WorkerBatch first, IAsyncStreamReader<WorkerBatch> requestStream, CancellationToken cancellationToken)
    {
        try
        {
            node.HandleBatch(worker, first, skip: 1);
            while (await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                node.HandleBatch(worker, requestStream.Current, skip: 0);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The raylet ended the connection itself.
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or RpcException or InvalidOperationException)
        {
            // The worker's process ended; the pool reports why.
            _logger.LogDebug("Connection of {Worker} ended: {Reason}", worker, e.Message);
        }
    }
}
