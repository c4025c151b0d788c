using Grpc.Core;
using Grpc.Net.Client;
using Ray.Runtime.Protocol;

namespace Ray.Packages;

/// <summary>
/// Talks to the GCS's package store: a driver makes sure its package is there, a node downloads the packages of the
/// jobs it runs. A refusal comes back as the <see cref="PackageException"/> the store threw, with its message; a
/// transport failure stays an <see cref="RpcException"/>, and a cancelled call is an <see cref="OperationCanceledException"/>.
/// </summary>
internal sealed class PackageClient
{
    private readonly PackageService.PackageServiceClient _client;

    /// <summary>A client over <paramref name="channel"/>.</summary>
    public PackageClient(GrpcChannel channel)
        : this(channel.CreateCallInvoker())
    {
    }

    /// <summary>A client over <paramref name="callInvoker"/> (one with the cluster's token interceptor, for one).</summary>
    public PackageClient(CallInvoker callInvoker)
    {
        _client = new PackageService.PackageServiceClient(callInvoker);
    }

    /// <summary>Whether the store holds the package <paramref name="id"/>.</summary>
    public async Task<bool> HasPackageAsync(string id, CancellationToken cancellationToken = default)
    {
        try
        {
            var reply = await _client.HasPackageAsync(new HasPackageRequest { PackageId = id }, cancellationToken: cancellationToken).ConfigureAwait(false);
            return reply.Exists;
        }
        catch (RpcException e) when (Translate(e, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>
    /// Uploads <paramref name="package"/> unless the store already holds it (a driver restarted with an unchanged build
    /// sends nothing). The zip is written to a temporary file first: the store wants its size in the first chunk, and
    /// a package may be too large to hold in memory.
    /// </summary>
    /// <returns>Whether it uploaded.</returns>
    public async Task<bool> EnsureUploadedAsync(AppPackage package, CancellationToken cancellationToken = default)
    {
        if (await HasPackageAsync(package.Id, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        var path = Path.Combine(Path.GetTempPath(), $"raygen-package-{package.Id}-{Guid.NewGuid():N}.zip");
        var zip = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 1 << 16, FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        await using (zip.ConfigureAwait(false))
        {
            await Task.Run(() => package.WriteZip(zip, cancellationToken), cancellationToken).ConfigureAwait(false);
            zip.Position = 0;
            await UploadAsync(package.Id, zip, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>Uploads the zip in <paramref name="zip"/> (seekable, positioned at its start) as the package <paramref name="id"/>.</summary>
    /// <exception cref="InvalidPackageException">The zip's content does not hash to <paramref name="id"/>.</exception>
    /// <exception cref="PackageTooLargeException">The zip is over the store's limit.</exception>
    public async Task UploadAsync(string id, Stream zip, CancellationToken cancellationToken = default)
    {
        using var call = _client.Upload(cancellationToken: cancellationToken);
        try
        {
            try
            {
                await PackageChunks.SendAsync(zip, call.RequestStream, id, cancellationToken).ConfigureAwait(false);
                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is RpcException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
            {
                // The store ended the call before the last chunk (it refused the size, or the id): the status the
                // reply carries says why.
            }

            await call.ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException e) when (Translate(e, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>
    /// Writes the zip of the package <paramref name="id"/> to <paramref name="destination"/>, in the shape
    /// <see cref="PackageCache.EnsureAsync"/> asks for.
    /// </summary>
    /// <exception cref="PackageNotFoundException">The store does not hold the package.</exception>
    /// <exception cref="IOException">The stream ended before the size the store announced.</exception>
    public async Task DownloadAsync(string id, Stream destination, CancellationToken cancellationToken = default)
    {
        using var call = _client.Download(new DownloadRequest { PackageId = id }, cancellationToken: cancellationToken);
        long? expected = null;
        long received = 0;
        try
        {
            while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                var chunk = call.ResponseStream.Current;
                expected ??= chunk.TotalSize;
                await destination.WriteAsync(chunk.Data.Memory, cancellationToken).ConfigureAwait(false);
                received += chunk.Data.Length;
            }
        }
        catch (RpcException e) when (Translate(e, cancellationToken) is { } translated)
        {
            throw translated;
        }

        if (received != expected)
        {
            throw new IOException($"The download of package {id} ended after {received} of the {expected ?? 0} bytes the store announced.");
        }
    }

    // What a failed call means to the caller, or null when it is a transport failure, which stays as it is.
    private static Exception? Translate(RpcException e, CancellationToken cancellationToken) =>
        e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested
            ? new OperationCanceledException(cancellationToken)
            : PackageException.FromRpcException(e);
}
