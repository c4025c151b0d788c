using Google.Protobuf;
using Grpc.Core;
using Ray.Runtime.Protocol;

namespace Ray.Packages;

/// <summary>
/// How a package's zip travels in both directions of the package service: chunks of <see cref="Size"/> bytes, the
/// first carrying the total size (and, on an upload, the id).
/// </summary>
internal static class PackageChunks
{
    /// <summary>
    /// The chunk size: 1 MiB keeps a chunk far below gRPC's default 4 MiB message limit while its per-message cost
    /// stays negligible.
    /// </summary>
    public const int Size = 1 << 20;

    /// <summary>Sends the rest of <paramref name="source"/> (which must be seekable, for its length) as chunks.</summary>
    /// <param name="source">The zip, positioned at its start.</param>
    /// <param name="destination">The call's stream.</param>
    /// <param name="id">The package id for the first chunk of an upload; <see langword="null"/> on a download.</param>
    /// <param name="cancellationToken">Stops the sending.</param>
    public static async Task SendAsync(Stream source, IAsyncStreamWriter<PackageChunk> destination, string? id, CancellationToken cancellationToken)
    {
        var remaining = source.Length - source.Position;
        var chunk = new PackageChunk { PackageId = id ?? "", TotalSize = remaining };
        var buffer = new byte[(int)Math.Min(Size, remaining)];

        // At least one chunk, even for an empty zip: the first one carries the size.
        do
        {
            var count = (int)Math.Min(buffer.Length, remaining);
            await source.ReadExactlyAsync(buffer.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
            chunk.Data = ByteString.CopyFrom(buffer, 0, count);
            await destination.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
            remaining -= count;
            chunk = new PackageChunk();
        }
        while (remaining > 0);
    }
}
