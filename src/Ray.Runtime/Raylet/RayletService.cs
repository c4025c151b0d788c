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
internal sealed class RayletService(RayletNode node, ILogger<RayletService> logger) : global::Ray.Runtime.Protocol.Raylet.RayletBase
{
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
            logger.LogError("Rejected worker pid {Pid}: {Reason}", registration.Pid, mismatch);
            throw new RpcException(new Status(StatusCode.FailedPrecondition, mismatch));
        }

        if (node.Pool.Find(registration.Pid) is not { } process)
        {
            throw new RpcException(new Status(
                StatusCode.PermissionDenied,
                $"Process {registration.Pid} was not started by this raylet, so it cannot register as its worker."));
        }

        var worker = new WorkerHandle(registration.Pid, registration.WorkerIndex, process.IsDedicated);
        worker.Send(new RayletMessage
        {
            Registered = node.Registration(),
        });
        worker.Outbound.Start(batch => responseStream.WriteAsync(batch, cancellationToken));
        node.Pool.OnRegistered(worker);
        try
        {
            node.HandleBatch(worker, first, skip: 1);
            while (await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                node.HandleBatch(worker, requestStream.Current, skip: 0);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or RpcException)
        {
            logger.LogDebug(e, "Connection of {Worker} ended.", worker);
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
        }
    }
}
