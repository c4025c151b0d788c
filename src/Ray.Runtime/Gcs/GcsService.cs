using Grpc.Core;
using Ray.Runtime.Protocol;

namespace Ray.Gcs;

/// <summary>The GCS's gRPC endpoint on the head node; every call is handled by <see cref="GcsServer"/>.</summary>
internal sealed class GcsService(GcsServer gcs) : Runtime.Protocol.Gcs.GcsBase
{
    public override Task<RegisterNodeReply> RegisterNode(RegisterNodeRequest request, ServerCallContext context) =>
        Task.FromResult(gcs.RegisterNode(request));

    public override async Task NodeSession(IAsyncStreamReader<NodeReport> requestStream, IServerStreamWriter<GcsEvent> responseStream, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        using var subscription = gcs.Subscribe();
        var reading = ReadReportsAsync(requestStream, cancellationToken);
        try
        {
            while (await subscription.Events.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (subscription.Events.TryRead(out var message))
                {
                    await responseStream.WriteAsync(message, cancellationToken).ConfigureAwait(false);
                }

                if (reading.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The node went away; the health check decides whether it is dead.
        }

        await reading.ConfigureAwait(false);
    }

    public override Task<GcsEmpty> UnregisterNode(UnregisterNodeRequest request, ServerCallContext context)
    {
        gcs.MarkDead(request.NodeId, request.Reason.Length > 0 ? request.Reason : "it left the cluster");
        return Task.FromResult(new GcsEmpty());
    }

    public override Task<GetNodesReply> GetNodes(GetNodesRequest request, ServerCallContext context) =>
        Task.FromResult(new GetNodesReply { Nodes = { gcs.Nodes() } });

    public override Task<ClusterStatus> GetClusterStatus(GetClusterStatusRequest request, ServerCallContext context) =>
        Task.FromResult(gcs.Status());

    public override Task<AddJobReply> AddJob(AddJobRequest request, ServerCallContext context) =>
        Task.FromResult(new AddJobReply { JobId = gcs.AddJob(request).Value });

    public override Task<GcsEmpty> MarkJobFinished(MarkJobFinishedRequest request, ServerCallContext context)
    {
        gcs.MarkJobFinished(new JobId(request.JobId));
        return Task.FromResult(new GcsEmpty());
    }

    public override Task<JobInfo> GetJob(GetJobRequest request, ServerCallContext context) =>
        Task.FromResult(gcs.GetJob(new JobId(request.JobId)) ?? throw new RpcException(new Status(StatusCode.NotFound, $"There is no job {new JobId(request.JobId)}.")));

    public override Task<RegisterActorReply> RegisterActor(RegisterActorRequest request, ServerCallContext context) =>
        Task.FromResult(new RegisterActorReply { Error = gcs.RegisterActor(request.Actor) ?? string.Empty });

    public override Task<GcsEmpty> UpdateActor(UpdateActorRequest request, ServerCallContext context)
    {
        gcs.UpdateActor(request.Actor);
        return Task.FromResult(new GcsEmpty());
    }

    public override Task<LookupActorReply> LookupActor(LookupActorRequest request, ServerCallContext context) =>
        Task.FromResult(gcs.LookupActor(request) is { } actor ? new LookupActorReply { Found = true, Actor = actor } : new LookupActorReply());

    public override Task<KvPutReply> KvPut(KvPutRequest request, ServerCallContext context) =>
        Task.FromResult(new KvPutReply { Added = gcs.KvPut(request.Namespace, request.Key, request.Value, request.Overwrite) });

    public override Task<KvGetReply> KvGet(KvGetRequest request, ServerCallContext context) =>
        Task.FromResult(gcs.KvGet(request.Namespace, request.Key) is { } value ? new KvGetReply { Found = true, Value = value } : new KvGetReply());

    public override Task<KvDeleteReply> KvDelete(KvDeleteRequest request, ServerCallContext context) =>
        Task.FromResult(new KvDeleteReply { Deleted = gcs.KvDelete(request.Namespace, request.Key) });

    public override Task<KvKeysReply> KvKeys(KvKeysRequest request, ServerCallContext context) =>
        Task.FromResult(new KvKeysReply { Keys = { gcs.KvKeys(request.Namespace, request.Prefix) } });

    private async Task ReadReportsAsync(IAsyncStreamReader<NodeReport> requestStream, CancellationToken cancellationToken)
    {
        try
        {
            while (await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                gcs.Report(requestStream.Current);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or RpcException or InvalidOperationException)
        {
            // The node's session broke; if it does not come back, the health check declares it dead.
        }
    }
}
