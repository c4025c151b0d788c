using Ray.Core;
using Ray.Gcs;
using Ray.ObjectStore;
using Ray.Raylet;
using Ray.Runtime.Protocol;
using Ray.Transport;

namespace Ray.Ownership;

/// <summary>
/// Streams read on a node that does not own them (a task that was passed a stream runs on another node). The reader's
/// node asks the owner for the next item (<see cref="ReadRemoteStream"/>); the owner takes it for that node, counting the
/// node as a borrower of the item before the stream lets go of it, and answers with the item's reference. The reader's
/// node then borrows the item as it borrows any reference handed to it (its state comes from the owner), and the reading
/// process borrows it from its node.
/// </summary>
internal sealed class ClusterStreams
{
    private readonly object _lock = new();
    private readonly ObjectTable _objects;
    private readonly ObjectRefStreams _streams;
    private readonly ClusterReferences _references;
    private readonly NodeLinks _links;
    private readonly RequestCorrelator _requests = new();
    private readonly Dictionary<ulong, Guid> _asked = [];

    public ClusterStreams(ObjectTable objects, ObjectRefStreams streams, ClusterReferences references, NodeLinks links)
    {
        _objects = objects;
        _streams = streams;
        _references = references;
        _links = links;
        streams.ReadRemote = Read;
    }

    /// <summary>Handles what other nodes send about streams; false for other messages.</summary>
    public bool Handle(Guid from, NodeMessage message)
    {
        switch (message.BodyCase)
        {
            case NodeMessage.BodyOneofCase.ReadStream:
                Serve(from, message.ReadStream);
                return true;
            case NodeMessage.BodyOneofCase.StreamItem:
                lock (_lock)
                {
                    _asked.Remove(message.StreamItem.RequestId);
                }

                if (!_requests.Complete(message.StreamItem.RequestId, message.StreamItem) && message.StreamItem.Item is { } late)
                {
                    // No reader waits for it any more (its node died meanwhile): the owner gets its hand-off back.
                    _links.Send(from, new NodeMessage { RemoveBorrower = new RemoveBorrower { Id = late.Id, Handoffs = 1 } });
                }

                return true;
            default:
                return false;
        }
    }

    /// <summary>A node died: reads waiting for its answer fail now.</summary>
    public void OnNodeDied(Guid node, string reason)
    {
        List<ulong> failed;
        lock (_lock)
        {
            failed = [.. _asked.Where(pair => pair.Value == node).Select(pair => pair.Key)];
            foreach (var id in failed)
            {
                _asked.Remove(id);
            }
        }

        foreach (var id in failed)
        {
            _requests.Fail(id, new RayException($"the node that owns the stream ({node:n}) died: {reason}"));
        }
    }

    /// <summary>The owner's side: takes the next item of its stream for <paramref name="reader"/>, the node that asked.</summary>
    private void Serve(Guid reader, ReadRemoteStream read) =>
        _streams.Read(
            read.StreamId.ToObjectId(),
            read.RequestId,
            item => _objects.HandOff(item.Id, reader),
            answer => _links.Send(reader, new NodeMessage
            {
                StreamItem = new RemoteStreamItem
                {
                    RequestId = read.RequestId,
                    Item = answer.ItemId is { } item ? _references.ToRemote(item.ToObjectId()) : null,
                    Failure = answer.Failure,
                },
            }));

    /// <summary>
    /// The reader's side: asks the owner of <paramref name="stream"/> for the next item; <paramref name="adopt"/> counts the
    /// reading process's reference to it here, and <paramref name="reply"/> answers that process (without the item's value,
    /// which it gets from this node as for any object).
    /// </summary>
    private void Read(ObjectEntry stream, ulong requestId, Action<ObjectEntry> adopt, Action<StreamItemRead> reply)
    {
        var (id, answer) = _requests.Begin<RemoteStreamItem>();
        lock (_lock)
        {
            _asked[id] = stream.OwnerNode;
        }

        if (!_links.Send(stream.OwnerNode, new NodeMessage { ReadStream = new ReadRemoteStream { RequestId = id, StreamId = stream.Id.ToProto() } }))
        {
            _requests.Fail(id, new RayException($"the node that owns it ({stream.OwnerNode:n}) is not in the cluster any more"));
        }

        _ = answer.ContinueWith(
            completed =>
            {
                var read = new StreamItemRead { RequestId = requestId };
                if (completed.IsFaulted)
                {
                    read.Failure = $"Stream {stream.Id} could not be read: {completed.Exception!.GetBaseException().Message}";
                }
                else if (completed.Result.Failure.Length > 0)
                {
                    read.Failure = completed.Result.Failure;
                }
                else if (completed.Result.Item is { } item)
                {
                    // Borrowed here like any reference handed to this node, held until the process borrows it from here
                    // (the owner's answer to the subscription may come first, on another thread).
                    var itemId = _references.Receive([item], ReferenceKind.Contained)[0];
                    if (_objects.TryGet(itemId, out var entry))
                    {
                        adopt(entry);
                    }

                    _objects.Release(itemId, ReferenceKind.Contained);

                    read.ItemId = item.Id;
                }

                reply(read);
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
