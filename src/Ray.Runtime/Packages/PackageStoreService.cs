using Google.Protobuf;
using Grpc.Core;
using Ray.Runtime.Protocol;

namespace Ray.Packages;

/// <summary>The package store's gRPC endpoint on the head node (behind the cluster token, as every endpoint).</summary>
internal sealed class PackageStoreService(PackageStore store) : Runtime.Protocol.Packages.PackagesBase
{
    /// <summary>The size of the chunks a package is downloaded in.</summary>
    public const int ChunkSize = 1 << 20;

    public override Task<HasPackageReply> HasPackage(HasPackageRequest request, ServerCallContext context) =>
        Task.FromResult(new HasPackageReply { Found = store.Exists(request.Id) });

    public override async Task<UploadReply> Upload(IAsyncStreamReader<PackageChunk> requestStream, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (!await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "An upload must start with a chunk that names the package."));
        }

        var first = requestStream.Current;
        if (!PackageHash.IsValid(first.Id))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"'{first.Id}' is not a package id (64 hex digits)."));
        }

        if ((long)first.TotalSize > store.MaxPackageBytes)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"The package is {first.TotalSize} bytes; the store takes at most {store.MaxPackageBytes}."));
        }

        var path = store.NewUploadPath();
        try
        {
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                var chunk = first;
                while (true)
                {
                    if (file.Length + chunk.Data.Length > store.MaxPackageBytes)
                    {
                        throw new RpcException(new Status(StatusCode.ResourceExhausted, $"The package is larger than the {store.MaxPackageBytes} bytes the store takes."));
                    }

                    await file.WriteAsync(chunk.Data.Memory, cancellationToken).ConfigureAwait(false);
                    if (!await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
                    {
                        break;
                    }

                    chunk = requestStream.Current;
                }
            }

            await store.CommitAsync(first.Id, path, cancellationToken).ConfigureAwait(false);
            return new UploadReply();
        }
        catch (InvalidDataException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
        finally
        {
            if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
    }

    public override async Task Download(DownloadRequest request, IServerStreamWriter<PackageChunk> responseStream, ServerCallContext context)
    {
        await using var file = store.OpenRead(request.Id)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"The package store has no package {request.Id}: its driver never uploaded it, or the head restarted."));
        var buffer = new byte[ChunkSize];
        int read;
        var first = true;
        while ((read = await file.ReadAsync(buffer, context.CancellationToken).ConfigureAwait(false)) > 0)
        {
            var chunk = new PackageChunk { Data = ByteString.CopyFrom(buffer, 0, read) };
            if (first)
            {
                chunk.Id = request.Id;
                chunk.TotalSize = (ulong)file.Length;
                first = false;
            }

            await responseStream.WriteAsync(chunk, context.CancellationToken).ConfigureAwait(false);
        }
    }
}
