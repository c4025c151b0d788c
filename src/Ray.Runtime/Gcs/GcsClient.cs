using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Ray.Runtime.Protocol;

namespace Ray.Gcs;

/// <summary>
/// How a node or a driver talks to the GCS: in the same process on the head node (and on an embedded node), over gRPC
/// from anywhere else. The calls are rare (joining, looking up, job start and end); the session carries the reports.
/// </summary>
internal interface IGcsClient : IAsyncDisposable
{
    Task<RegisterNodeReply> RegisterNodeAsync(RegisterNodeRequest request, CancellationToken cancellationToken);

    Task UnregisterNodeAsync(Guid node, string reason, CancellationToken cancellationToken);

    Task<IReadOnlyList<GcsNodeInfo>> GetNodesAsync(CancellationToken cancellationToken);

    Task<ClusterStatus> GetClusterStatusAsync(CancellationToken cancellationToken);

    Task<JobId> AddJobAsync(AddJobRequest request, CancellationToken cancellationToken);

    Task MarkJobFinishedAsync(JobId job, CancellationToken cancellationToken);

    /// <summary>Adds an actor to the directory; the error says why when it may not be (its name is taken).</summary>
    Task<string?> RegisterActorAsync(ActorInfo actor, CancellationToken cancellationToken);

    Task UpdateActorAsync(ActorInfo actor, CancellationToken cancellationToken);

    /// <summary>A live actor by name, or any actor by id; null when there is none.</summary>
    Task<ActorInfo?> LookupActorAsync(LookupActorRequest request, CancellationToken cancellationToken);

    /// <summary>The job's record.</summary>
    /// <exception cref="RayException">There is no such job.</exception>
    Task<JobInfo> GetJobAsync(JobId job, CancellationToken cancellationToken);

    /// <summary>
    /// A node's session, until <paramref name="cancellationToken"/> fires: <paramref name="report"/> is sent every
    /// <paramref name="period"/>, and every event the GCS sends goes to <paramref name="onEvent"/>. A broken session is
    /// opened again.
    /// </summary>
    Task RunSessionAsync(TimeSpan period, Func<NodeReport> report, Action<GcsEvent> onEvent, CancellationToken cancellationToken);
}

/// <summary>The GCS of this process (the head node's, an embedded node's), called directly.</summary>
internal sealed class LocalGcsClient(GcsServer gcs) : IGcsClient
{
    public Task<RegisterNodeReply> RegisterNodeAsync(RegisterNodeRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(gcs.RegisterNode(request));

    public Task UnregisterNodeAsync(Guid node, string reason, CancellationToken cancellationToken)
    {
        gcs.MarkDead(NodeIds.ToBytes(node), reason);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<GcsNodeInfo>> GetNodesAsync(CancellationToken cancellationToken) => Task.FromResult(gcs.Nodes());

    public Task<ClusterStatus> GetClusterStatusAsync(CancellationToken cancellationToken) => Task.FromResult(gcs.Status());

    public Task<JobId> AddJobAsync(AddJobRequest request, CancellationToken cancellationToken) => Task.FromResult(gcs.AddJob(request));

    public Task MarkJobFinishedAsync(JobId job, CancellationToken cancellationToken)
    {
        gcs.MarkJobFinished(job);
        return Task.CompletedTask;
    }

    public Task<JobInfo> GetJobAsync(JobId job, CancellationToken cancellationToken) =>
        Task.FromResult(gcs.GetJob(job) ?? throw new RayException($"There is no job {job}."));

    public Task<string?> RegisterActorAsync(ActorInfo actor, CancellationToken cancellationToken) => Task.FromResult(gcs.RegisterActor(actor));

    public Task UpdateActorAsync(ActorInfo actor, CancellationToken cancellationToken)
    {
        gcs.UpdateActor(actor);
        return Task.CompletedTask;
    }

    public Task<ActorInfo?> LookupActorAsync(LookupActorRequest request, CancellationToken cancellationToken) => Task.FromResult(gcs.LookupActor(request));

    public async Task RunSessionAsync(TimeSpan period, Func<NodeReport> report, Action<GcsEvent> onEvent, CancellationToken cancellationToken)
    {
        using var subscription = gcs.Subscribe();
        var reporting = ReportAsync(period, report, cancellationToken);
        try
        {
            await foreach (var message in subscription.Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                onEvent(message);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        await reporting.ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task ReportAsync(TimeSpan period, Func<NodeReport> report, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(period);
        try
        {
            do
            {
                gcs.Report(report());
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}

/// <summary>The GCS of the head node, over gRPC (the channel carries the cluster token and TLS when configured).</summary>
internal sealed class RemoteGcsClient(GrpcChannel channel, ILogger logger, bool ownsChannel = true) : IGcsClient
{
    private readonly Runtime.Protocol.Gcs.GcsClient _client = new(channel);

    public async Task<RegisterNodeReply> RegisterNodeAsync(RegisterNodeRequest request, CancellationToken cancellationToken) =>
        await _client.RegisterNodeAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);

    public async Task UnregisterNodeAsync(Guid node, string reason, CancellationToken cancellationToken) =>
        await _client.UnregisterNodeAsync(new UnregisterNodeRequest { NodeId = NodeIds.ToBytes(node), Reason = reason }, cancellationToken: cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<GcsNodeInfo>> GetNodesAsync(CancellationToken cancellationToken) =>
        (await _client.GetNodesAsync(new GetNodesRequest(), cancellationToken: cancellationToken).ConfigureAwait(false)).Nodes;

    public async Task<ClusterStatus> GetClusterStatusAsync(CancellationToken cancellationToken) =>
        await _client.GetClusterStatusAsync(new GetClusterStatusRequest(), cancellationToken: cancellationToken).ConfigureAwait(false);

    public async Task<JobId> AddJobAsync(AddJobRequest request, CancellationToken cancellationToken) =>
        new((await _client.AddJobAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false)).JobId);

    public async Task MarkJobFinishedAsync(JobId job, CancellationToken cancellationToken) =>
        await _client.MarkJobFinishedAsync(new MarkJobFinishedRequest { JobId = job.Value }, cancellationToken: cancellationToken).ConfigureAwait(false);

    public async Task<JobInfo> GetJobAsync(JobId job, CancellationToken cancellationToken) =>
        await _client.GetJobAsync(new GetJobRequest { JobId = job.Value }, cancellationToken: cancellationToken).ConfigureAwait(false);

    public async Task<string?> RegisterActorAsync(ActorInfo actor, CancellationToken cancellationToken) =>
        (await _client.RegisterActorAsync(new RegisterActorRequest { Actor = actor }, cancellationToken: cancellationToken).ConfigureAwait(false)).Error is { Length: > 0 } error ? error : null;

    public async Task UpdateActorAsync(ActorInfo actor, CancellationToken cancellationToken) =>
        await _client.UpdateActorAsync(new UpdateActorRequest { Actor = actor }, cancellationToken: cancellationToken).ConfigureAwait(false);

    public async Task<ActorInfo?> LookupActorAsync(LookupActorRequest request, CancellationToken cancellationToken) =>
        (await _client.LookupActorAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false)) is { Found: true } reply ? reply.Actor : null;

    public async Task RunSessionAsync(TimeSpan period, Func<NodeReport> report, Action<GcsEvent> onEvent, CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var call = _client.NodeSession(cancellationToken: cancellationToken);
                var reporting = ReportAsync(call.RequestStream, period, report, cancellationToken);
                while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
                {
                    onEvent(call.ResponseStream.Current);
                    backoff = TimeSpan.FromMilliseconds(100);
                }

                await reporting.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is RpcException or IOException or InvalidOperationException)
            {
                logger.LogWarning("The session with the GCS broke ({Reason}); opening it again in {Delay} ms.", e.Message, backoff.TotalMilliseconds);
            }

            try
            {
                await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 2000));
        }
    }

    public ValueTask DisposeAsync()
    {
        if (ownsChannel)
        {
            channel.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    private static async Task ReportAsync(IClientStreamWriter<NodeReport> writer, TimeSpan period, Func<NodeReport> report, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(period);
        try
        {
            do
            {
                await writer.WriteAsync(report(), cancellationToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException or IOException or InvalidOperationException)
        {
            // The session ended; the reader sees why.
        }
    }
}
