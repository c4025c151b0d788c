using System.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.ObjectStore;
using Ray.Runtime.Protocol;

namespace Ray.ObjectManager;

/// <summary>
/// The serving side of a pull: answers one request of the object stream with the bytes of an object this node holds.
/// The object is pinned for the whole reply (restored from disk first if it was spilled), so that it is neither
/// spilled nor freed while its bytes are read, and the bytes go from the store's memory straight to the connection
/// (<see cref="ReplyOutput"/>: the socket on plain TCP, no copy in user space; the output pipe inside TLS, one copy),
/// done when the write returns, before the pin ends.
/// </summary>
/// <param name="store">The node's store, which holds the copies.</param>
/// <param name="objects">The node's objects, by id.</param>
/// <param name="logger">Where transfers are logged (category <c>Ray.ObjectManager</c>).</param>
internal sealed class ObjectSender(NodeObjectStore store, ILocalObjects objects, ILogger logger)
{
    /// <summary>
    /// How many payload bytes go into the output pipe per write (inside TLS); each write waits until the connection has
    /// taken most of the one before, so this bounds what a reply holds in the pipe's buffers. Chosen by measurement
    /// (docs/benchmarks.md).
    /// </summary>
    public const int WriteSize = 1 << 20;

    /// <summary>
    /// Writes the reply to <paramref name="request"/> into <paramref name="output"/>: a header, and on OK the payload
    /// bytes asked for. An object this node has no copy of, or a range outside its payload, is answered with an error
    /// status; the connection goes on either way.
    /// </summary>
    /// <exception cref="IOException">The connection went away midway (the puller cancelled, failed or died).</exception>
    public async Task SendAsync(PullRequest request, ReplyOutput output, string peer, CancellationToken cancellationToken)
    {
        var id = request.Id.ToObjectId();
        if (objects.Find(id) is not { } stored)
        {
            await RefuseAsync(output, StatusCode.NotFound, NotFound(id), cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            await store.PinAsync(stored, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException)
        {
            // Freed between the lookup and the pin: this node has no copy any more.
            await RefuseAsync(output, StatusCode.NotFound, NotFound(id), cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (ObjectCorruptedException e)
        {
            await RefuseAsync(output, StatusCode.DataLoss, e.Message, cancellationToken).ConfigureAwait(false);
            return;
        }

        var stopwatch = Stopwatch.StartNew();
        var before = output.PayloadWritten;
        try
        {
            ReadOnlyMemory<byte> payload;
            try
            {
                payload = store.Read(stored);
            }
            catch (ObjectCorruptedException e)
            {
                await RefuseAsync(output, StatusCode.DataLoss, e.Message, cancellationToken).ConfigureAwait(false);
                return;
            }

            var size = payload.Length;
            var offset = request.Offset;
            var end = request.Length == 0 ? (ulong)size : offset + request.Length;
            if (offset > (ulong)size || end > (ulong)size || end < offset)
            {
                await RefuseAsync(
                    output,
                    StatusCode.OutOfRange,
                    $"Bytes [{offset}, {end}) of object {id} were asked for, but its payload holds {size} bytes.",
                    cancellationToken).ConfigureAwait(false);
                return;
            }

            var length = (int)(end - offset);
            await output.WriteHeaderAsync(new ObjectStreamReply { TotalSize = (ulong)size, Offset = offset, Length = end - offset }, flush: length == 0, cancellationToken).ConfigureAwait(false);
            await output.WritePayloadAsync(payload.Slice((int)offset, length), cancellationToken).ConfigureAwait(false);
            logger.ObjectServed(id, length, peer, stopwatch.Elapsed.TotalMilliseconds);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The puller went away (cancelled, or failed and moved to another location): nothing to answer.
            logger.ObjectServeAbandoned(id, peer, output.PayloadWritten - before, e.Message);
            throw;
        }
        finally
        {
            store.Unpin(stored);
        }
    }

    /// <summary>Writes a reply with an error <paramref name="status"/> and no payload, and flushes it.</summary>
    public static async Task RefuseAsync(ReplyOutput output, StatusCode status, string detail, CancellationToken cancellationToken) =>
        await output.WriteHeaderAsync(new ObjectStreamReply { Status = (int)status, Detail = detail }, flush: true, cancellationToken).ConfigureAwait(false);

    private static string NotFound(ObjectId id) => $"This node has no copy of object {id}: it was freed here, or never was here.";
}
