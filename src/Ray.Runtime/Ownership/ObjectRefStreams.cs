using Ray.Core;
using Ray.ObjectStore;
using Ray.Runtime.Protocol;

namespace Ray.Ownership;

/// <summary>
/// The streams this node owns, one per streaming task or actor call its processes submitted, each kept on the entry of
/// the producer's return object (which names it, lives while a reference to the stream does, and completes when the
/// producer finishes). Reads come from the driver and from workers; how many items readers took goes back to where the
/// producer runs, for backpressure.
/// </summary>
internal sealed class ObjectRefStreams(ObjectTable objects)
{
    /// <summary>
    /// Told how many items of a stream with backpressure readers have taken, so that the producer (on a worker here, or
    /// on another node) may go on. Called outside every lock of the stream.
    /// </summary>
    public Action<OwnedStream, int>? Consumed { get; set; }

    /// <summary>
    /// Reads a stream another node owns, for a process of this node (whose node borrows the stream: the entry given);
    /// null on a node that is not part of a cluster. See <see cref="ClusterStreams"/>.
    /// </summary>
    public Action<ObjectEntry, ulong, Action<ObjectEntry>, Action<StreamItemRead>>? ReadRemote { get; set; }

    /// <summary>Makes <paramref name="generator"/> (a new producer's return object) the head of a stream.</summary>
    /// <param name="generator">The producer's return object, not ready yet.</param>
    /// <param name="backpressure">The unread items at which the producer pauses; -1 for no limit.</param>
    /// <param name="isActorCall">Whether an actor method produces it.</param>
    public OwnedStream Create(ObjectEntry generator, int backpressure, bool isActorCall = false)
    {
        var stream = new OwnedStream(generator.Id, generator.OwnerProcessId, backpressure, isActorCall, objects, OnConsumed);
        generator.Stream = stream;
        return stream;
    }

    /// <summary>The stream named <paramref name="id"/>, or null with the reason when this node owns no such stream.</summary>
    public OwnedStream? Find(ObjectId id, out string failure)
    {
        failure = string.Empty;
        if (!objects.TryGet(id, out var entry))
        {
            failure = $"Stream {id} does not exist on this node: it was freed, or it is owned by another node.";
            return null;
        }

        if (entry.IsBorrowed)
        {
            failure = $"Stream {id} is owned by node {entry.OwnerNode:n}, and this node is not part of a cluster that could ask it for the items.";
            return null;
        }

        if (entry.Stream is not { } stream)
        {
            failure = $"Object {id} is not a stream: it is the result of a task or call that returns one value.";
            return null;
        }

        return stream;
    }

    /// <summary>
    /// Reads the next item of stream <paramref name="id"/> for a process of this node: <paramref name="adopt"/> counts the
    /// reader's reference to the item before the stream lets go of it; the task completes with the item's id, or
    /// <see cref="ObjectId.Nil"/> at the end. Cancelling it before the item is there leaves the item for the next read.
    /// </summary>
    /// <exception cref="ObjectNotFoundException">This node owns no such stream.</exception>
    public ValueTask<ObjectId> ReadAsync(ObjectId id, Action<ObjectEntry> adopt, CancellationToken cancellationToken)
    {
        if (Find(id, out var failure) is not { } stream)
        {
            return ValueTask.FromException<ObjectId>(new ObjectNotFoundException(id, failure));
        }

        if (stream.TryTake(adopt, out var ready))
        {
            return new ValueTask<ObjectId>(ready!.Id);
        }

        var result = new TaskCompletionSource<ObjectId>(TaskCreationOptions.RunContinuationsAsynchronously);
        var pending = stream.Read(read =>
        {
            if (read.Failure is { } reason)
            {
                result.TrySetException(new ObjectNotFoundException(id, reason));
            }
            else if (read.Item is { } item)
            {
                adopt(item);
                result.TrySetResult(item.Id);
            }
            else
            {
                result.TrySetResult(ObjectId.Nil);
            }
        });

        if (result.Task.IsCompleted || !cancellationToken.CanBeCanceled)
        {
            return new ValueTask<ObjectId>(result.Task);
        }

        var registration = cancellationToken.Register(() =>
        {
            if (pending.TryClaim())
            {
                result.TrySetCanceled(cancellationToken);
            }
        });
        _ = result.Task.ContinueWith(static (_, state) => ((CancellationTokenRegistration)state!).Dispose(), registration, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return new ValueTask<ObjectId>(result.Task);
    }

    /// <summary>
    /// The same for a reader that asked over its stream: the answer goes back there, with the item's value when it is
    /// inline. A stream another node owns is read there.
    /// </summary>
    public void Read(ObjectId id, ulong requestId, Action<ObjectEntry> adopt, Action<StreamItemRead> reply)
    {
        if (ReadRemote is { } remote && objects.TryGet(id, out var borrowed) && borrowed.IsBorrowed)
        {
            remote(borrowed, requestId, adopt, reply);
            return;
        }

        if (Find(id, out var failure) is not { } stream)
        {
            reply(new StreamItemRead { RequestId = requestId, Failure = failure });
            return;
        }

        if (stream.TryTake(adopt, out var ready))
        {
            reply(Answer(requestId, new StreamRead(ready, null)));
            return;
        }

        stream.Read(read =>
        {
            if (read.Item is { } item)
            {
                adopt(item);
            }

            reply(Answer(requestId, read));
        });
    }

    /// <summary>A read's answer: the item's id and its value (or where it is, or its error), the end, or why it failed.</summary>
    private static StreamItemRead Answer(ulong requestId, StreamRead read)
    {
        var answer = new StreamItemRead { RequestId = requestId };
        if (read.Failure is { } reason)
        {
            answer.Failure = reason;
        }
        else if (read.Item is { } item)
        {
            answer.ItemId = item.Id.ToProto();
            if (item.Error is { } error)
            {
                answer.Error = error;
            }
            else if (item.Stored is { } stored)
            {
                answer.StoredSize = (ulong)stored.PayloadSize;
            }
            else if (item.Remote is { } remote)
            {
                answer.StoredSize = (ulong)remote.Size;
            }
            else
            {
                answer.Value = ProtoConversions.Wrap(item.Value);
            }
        }

        return answer;
    }

    private void OnConsumed(OwnedStream stream, int consumed) => Consumed?.Invoke(stream, consumed);
}
