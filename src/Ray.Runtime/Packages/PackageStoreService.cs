using Grpc.Core;
using Ray.Logging;
using Ray.Runtime.Protocol;

namespace Ray.Packages;

/// <summary>
/// The gRPC service of the GCS's <see cref="PackageStore"/> (<c>ray.rpc.PackageService</c> in <c>packages.proto</c>).
/// Refusals travel as statuses with the store's message: an unknown id as NOT_FOUND, a package that is not what its id
/// says (or a malformed id, or an upload that ends early) as INVALID_ARGUMENT, an oversized one as RESOURCE_EXHAUSTED;
/// each is logged with the caller's address.
/// </summary>
/// <remarks>
/// The service authenticates nobody itself: the host registers it behind the cluster's token interceptor. It logs
/// through the store's logger rather than one from dependency injection, because an embedded host's container
/// carries only the framework's filtered logger factory (see <c>EmbeddedHost</c>).
/// </remarks>
internal sealed class PackageStoreService(PackageStore store) : PackageService.PackageServiceBase
{
    /// <inheritdoc/>
    public override Task<HasPackageReply> HasPackage(HasPackageRequest request, ServerCallContext context)
    {
        try
        {
            return Task.FromResult(new HasPackageReply { Exists = store.Exists(request.PackageId) });
        }
        catch (PackageException e)
        {
            throw Refuse(e, context);
        }
    }

    /// <inheritdoc/>
    public override async Task<UploadReply> Upload(IAsyncStreamReader<PackageChunk> requestStream, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        try
        {
            if (!await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidPackageException("The upload carried no chunk; its first chunk must name the package and its size.");
            }

            var first = requestStream.Current;
            await using var writer = store.OpenWrite(first.PackageId, first.TotalSize);
            await writer.WriteAsync(first.Data.Memory, cancellationToken).ConfigureAwait(false);
            while (await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                await writer.WriteAsync(requestStream.Current.Data.Memory, cancellationToken).ConfigureAwait(false);
            }

            // A caller that went away mid-upload ends the loop with an exception; the writer's disposal then deletes
            // what it received.
            writer.Commit();
            return new UploadReply();
        }
        catch (PackageException e)
        {
            throw Refuse(e, context);
        }
    }

    /// <inheritdoc/>
    public override async Task Download(DownloadRequest request, IServerStreamWriter<PackageChunk> responseStream, ServerCallContext context)
    {
        FileStream zip;
        try
        {
            zip = store.OpenRead(request.PackageId);
        }
        catch (PackageException e)
        {
            throw Refuse(e, context);
        }

        await using (zip.ConfigureAwait(false))
        {
            await PackageChunks.SendAsync(zip, responseStream, id: null, context.CancellationToken).ConfigureAwait(false);
        }
    }

    private RpcException Refuse(PackageException e, ServerCallContext context)
    {
        store.Logger.PackageRequestRefused(context.Peer, e.Message);
        return e.ToRpcException();
    }
}
