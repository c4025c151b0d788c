using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Ray.Runtime.Protocol;

namespace Ray.Packages;

/// <summary>The package store as a driver and the nodes use it: upload a package unless the store has it, download one.</summary>
internal sealed class PackageClient(GrpcChannel channel)
{
    private readonly Runtime.Protocol.Packages.PackagesClient _client = new(channel);

    /// <summary>Uploads <paramref name="package"/> unless the store already has it (an unchanged build costs one call).</summary>
    public async Task EnsureUploadedAsync(AppPackage package, CancellationToken cancellationToken)
    {
        if ((await _client.HasPackageAsync(new HasPackageRequest { Id = package.Id }, cancellationToken: cancellationToken).ConfigureAwait(false)).Found)
        {
            return;
        }

        var zip = Path.Combine(Path.GetTempPath(), $"raygen-package-{package.Id[..16]}-{Guid.NewGuid():n}.zip");
        try
        {
            await using (var file = File.Create(zip))
            {
                await package.WriteZipAsync(file, cancellationToken).ConfigureAwait(false);
            }

            await using var source = File.OpenRead(zip);
            using var call = _client.Upload(cancellationToken: cancellationToken);
            var buffer = new byte[PackageStoreService.ChunkSize];
            var first = true;
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0 || first)
            {
                var chunk = new PackageChunk { Data = ByteString.CopyFrom(buffer, 0, read) };
                if (first)
                {
                    chunk.Id = package.Id;
                    chunk.TotalSize = (ulong)source.Length;
                    first = false;
                }

                await call.RequestStream.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
            }

            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            await call.ResponseAsync.ConfigureAwait(false);
        }
        finally
        {
            File.Delete(zip);
        }
    }

    /// <summary>Writes package <paramref name="id"/>'s zip to <paramref name="destination"/>.</summary>
    /// <exception cref="RpcException">NotFound when the store does not have it.</exception>
    public async Task DownloadAsync(string id, Stream destination, CancellationToken cancellationToken)
    {
        using var call = _client.Download(new DownloadRequest { Id = id }, cancellationToken: cancellationToken);
        while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            await destination.WriteAsync(call.ResponseStream.Current.Data.Memory, cancellationToken).ConfigureAwait(false);
        }
    }
}
