using Grpc.Core;
using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.Hosting;
using Ray.Runtime.Protocol;

namespace Ray.Raylet;

/// <summary>
/// What the node's workers and cluster drivers connect to: over the framed stream of the node's socket
/// (<see cref="RayletSocketServer"/>), or as the gRPC service <c>Raylet.Connect</c>. Each connection is one bidirectional stream:
/// after a version handshake, the raylet pushes task batches and object values, and the process streams back results,
/// submissions, puts and object requests. A worker must be a process this raylet started; a driver starts a job,
/// which ends when its connection does. Anything malformed ends that connection with a status that says what was
/// wrong; the raylet itself keeps running.
/// </summary>
internal sealed class RayletService(NodeHost host) : global::Ray.Runtime.Protocol.Raylet.RayletBase
{
    private readonly RayletNode _node = host.Node;
    private readonly ILogger _logger = host.Node.Logger;

    public override Task Connect(
        IAsyncStreamReader<WorkerBatch> requestStream,
        IServerStreamWriter<RayletBatch> responseStream,
        ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        return ConnectAsync(requestStream, batch => responseStream.WriteAsync(batch, cancellationToken), context.Peer, cancellationToken);
    }

    /// <summary>
    /// Serves one process's stream, whichever transport it came over (this service's gRPC stream, or the framed
    /// stream of <see cref="RayletSocketServer"/>): <paramref name="write"/> sends one batch back.
    /// </summary>
    /// <exception cref="RpcException">The stream's opening was refused; its status says why.</exception>
    public async Task ConnectAsync(IAsyncStreamReader<WorkerBatch> requestStream, Func<RayletBatch, Task> write, string peer, CancellationToken cancellationToken)
    {
        if (!await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        var first = requestStream.Current;
        var kind = first.Messages.Count == 0 ? WorkerMessage.BodyOneofCase.None : first.Messages[0].BodyCase;
        switch (kind)
        {
            case WorkerMessage.BodyOneofCase.Register:
                await ServeWorkerAsync(first, requestStream, write, cancellationToken).ConfigureAwait(false);
                break;
            case WorkerMessage.BodyOneofCase.RegisterDriver:
                await ServeDriverAsync(first, requestStream, write, peer, cancellationToken).ConfigureAwait(false);
                break;
            default:
                throw new RpcException(new Status(StatusCode.InvalidArgument, "The first message on a raylet connection must be RegisterWorker or RegisterDriver."));
        }
    }

    private async Task ServeWorkerAsync(WorkerBatch first, IAsyncStreamReader<WorkerBatch> requestStream, Func<RayletBatch, Task> write, CancellationToken cancellationToken)
    {
        var registration = first.Messages[0].Register;
        if (RuntimeVersion.Mismatch(registration.ProtocolVersion, registration.RuntimeVersion, "worker", "raylet") is { } mismatch)
        {
            _logger.LogError("Rejected worker pid {Pid}: {Reason}", registration.Pid, mismatch);
            throw new RpcException(new Status(StatusCode.FailedPrecondition, mismatch));
        }

        if (_node.Pool.Find(registration.Pid) is not { } process)
        {
            throw new RpcException(new Status(
                StatusCode.PermissionDenied,
                $"Process {registration.Pid} was not started by this raylet, so it cannot register as its worker."));
        }

        var worker = new WorkerHandle(registration.Pid, registration.WorkerIndex, process.Kind, process.Job);
        worker.Send(new RayletMessage { Registered = _node.Registration(process) });
        worker.Outbound.Start(write);
        _node.Pool.OnRegistered(worker);
        try
        {
            await ServeAsync(worker, first, requestStream, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _node.Pool.OnDisconnected(worker);
        }
    }

    private async Task ServeDriverAsync(WorkerBatch first, IAsyncStreamReader<WorkerBatch> requestStream, Func<RayletBatch, Task> write, string peer, CancellationToken cancellationToken)
    {
        var registration = first.Messages[0].RegisterDriver;
        if (RuntimeVersion.Mismatch(registration.ProtocolVersion, registration.RuntimeVersion, "driver", "node") is { } mismatch)
        {
            _logger.LogError("Rejected the driver pid {Pid} from {Peer}: {Reason}", registration.Pid, peer, mismatch);
            throw new RpcException(new Status(StatusCode.FailedPrecondition, mismatch));
        }

        var job = await host.StartDriverJobAsync(registration, cancellationToken).ConfigureAwait(false);
        var driver = new WorkerHandle(registration.Pid, -1, WorkerKind.Driver, job) { MapsStore = registration.MapsStore };
        var reason = "its driver disconnected";
        try
        {
            driver.Send(new RayletMessage { Registered = _node.Registration(job, registration.MapsStore) });
            driver.Outbound.Start(write);
            host.AttachDriver(job, driver);
            await ServeAsync(driver, first, requestStream, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            reason = $"its driver's connection failed: {e.Message}";
            throw;
        }
        finally
        {
            _node.ObjectManager.RemoveWorker(driver, exitCode: null);
            await host.EndDriverJobAsync(job, reason).ConfigureAwait(false);
        }
    }

    /// <summary>Handles the process's batches until its stream ends or the raylet completes its outbound queue.</summary>
    private async Task ServeAsync(WorkerHandle worker, WorkerBatch first, IAsyncStreamReader<WorkerBatch> requestStream, CancellationToken cancellationToken)
    {
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reading = ReadAsync(worker, first, requestStream, stopReading.Token);
        try
        {
            // The raylet ends a connection by completing its outbound queue (the node is stopping, or it gave up on the
            // process): returning then ends the response stream, which tells the process to exit.
            await Task.WhenAny(reading, worker.Outbound.Completion).ConfigureAwait(false);
        }
        finally
        {
            worker.Outbound.Complete();
            try
            {
                await worker.Outbound.Completion.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException or RpcException or TimeoutException)
            {
                // The process went away while messages were being written; its tasks are retried elsewhere.
            }

            await stopReading.CancelAsync().ConfigureAwait(false);
            await reading.ConfigureAwait(false);
        }
    }

    private async Task ReadAsync(WorkerHandle worker, WorkerBatch first, IAsyncStreamReader<WorkerBatch> requestStream, CancellationToken cancellationToken)
    {
        try
        {
            _node.HandleBatch(worker, first, skip: 1);
            while (await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                _node.HandleBatch(worker, requestStream.Current, skip: 0);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The raylet ended the connection itself.
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or RpcException or InvalidOperationException)
        {
            // The process ended; the pool reports why.
            _logger.LogDebug("Connection of {Worker} ended: {Reason}", worker, e.Message);
        }
    }
}
