using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.ObjectStore;
using Ray.Runtime.Protocol;

namespace Ray.ObjectManager;

/// <summary>
/// The serving side of object transfer: streams the payload of an object this node holds to a node that pulls it.
/// The object is pinned for the whole stream (restored from disk first if it was spilled), so that it is neither
/// spilled nor freed while its bytes are read, and each chunk wraps the arena's memory instead of copying it: the
/// only copy on this side is the one gRPC makes into the connection's buffers, which is done when the chunk's write
/// completes, before the pin ends.
/// </summary>
/// <remarks>
/// It keeps no state between calls: register one instance (<c>AddSingleton(new ObjectTransferService(...))</c>) with
/// the node's logger, not the framework's, and map it next to the node's other services.
/// </remarks>
/// <param name="store">The node's store, which holds the copies.</param>
/// <param name="objects">The node's objects, by id.</param>
/// <param name="logger">Where transfers are logged (category <c>Ray.ObjectManager</c>).</param>
internal sealed class ObjectTransferService(NodeObjectStore store, ILocalObjects objects, ILogger logger) : ObjectTransfer.ObjectTransferBase
{
    /// <summary>The chunk size when the puller states none.</summary>
    public const int DefaultChunkSize = 1 << 20;

    /// <summary>Smaller chunks cost more in per-message work than they save in latency.</summary>
    public const int MinChunkSize = 16 << 10;

    /// <summary>Larger chunks only make the puller allocate larger receive buffers.</summary>
    public const int MaxChunkSize = 16 << 20;

    public override async Task Pull(PullRequest request, IServerStreamWriter<ObjectChunk> responseStream, ServerCallContext context)
    {
        var id = request.Id.ToObjectId();
        var cancellationToken = context.CancellationToken;
        var stored = objects.Find(id) ?? throw NotFound(id);
        try
        {
            await store.PinAsync(stored, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException)
        {
            // Freed between the lookup and the pin: this node has no copy any more.
            throw NotFound(id);
        }
        catch (ObjectCorruptedException e)
        {
            throw new RpcException(new Status(StatusCode.DataLoss, e.Message));
        }

        var stopwatch = Stopwatch.StartNew();
        long sent = 0;
        try
        {
            ReadOnlyMemory<byte> payload;
            try
            {
                payload = store.Read(stored);
            }
            catch (ObjectCorruptedException e)
            {
                throw new RpcException(new Status(StatusCode.DataLoss, e.Message));
            }

            var size = payload.Length;
            var offset = request.Offset;
            var end = request.Length == 0 ? (ulong)size : offset + request.Length;
            if (offset > (ulong)size || end > (ulong)size || end < offset)
            {
                throw new RpcException(new Status(
                    StatusCode.OutOfRange,
                    $"Bytes [{offset}, {end}) of object {id} were asked for, but its payload holds {size} bytes."));
            }

            var chunkSize = request.ChunkSize == 0 ? DefaultChunkSize : (int)Math.Clamp(request.ChunkSize, MinChunkSize, MaxChunkSize);
            var position = (int)offset;
            var last = (int)end;

            // The first chunk carries the total, even for an empty range, so the puller always learns the size.
            do
            {
                var length = Math.Min(chunkSize, last - position);
                var chunk = new ObjectChunk { Offset = (ulong)position, Data = UnsafeByteOperations.UnsafeWrap(payload.Slice(position, length)) };
                if (sent == 0)
                {
                    chunk.TotalSize = (ulong)size;
                }

                await responseStream.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
                position += length;
                sent += length;
            }
            while (position < last);

            logger.ObjectServed(id, sent, context.Peer, stopwatch.Elapsed.TotalMilliseconds);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The puller went away (cancelled, or failed and moved to another location): nothing to answer.
            logger.ObjectServeAbandoned(id, context.Peer, sent, e.Message);
            throw;
        }
        finally
        {
            store.Unpin(stored);
        }
    }

    private static RpcException NotFound(ObjectId id) =>
        new(new Status(StatusCode.NotFound, $"This node has no copy of object {id}: it was freed here, or never was here."));
}
