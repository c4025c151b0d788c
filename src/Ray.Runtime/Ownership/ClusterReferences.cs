using Google.Protobuf;
using Google.Protobuf.Collections;
using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.Gcs;
using Ray.Infrastructure;
using Ray.ObjectStore;
using Ray.Raylet;
using Ray.Runtime.Protocol;
using Ray.Transport;

namespace Ray.Ownership;

/// <summary>
/// References that cross nodes (Ray's ownership protocol, with the raylet as owner). The owner of an object counts, per
/// node, the references it handed to that node; a node gives them back when it holds no reference any more. Whoever
/// hands a reference over makes sure the owner counted the receiver first: the owner counts at once, another node asks
/// the owner and waits for its answer (<see cref="HandOffAsync"/>). A node that borrows an object asks its owner for
/// the object's state once, when it first holds a reference, and the owner answers when the object is ready.
/// </summary>
internal sealed class ClusterReferences
{
    private readonly Guid _self;
    private readonly ObjectTable _objects;
    private readonly NodeLinks _links;
    private readonly ILogger _logger;
    private readonly RequestCorrelator _requests = new();

    public ClusterReferences(Guid self, ObjectTable objects, NodeLinks links, ILogger logger)
    {
        _self = self;
        _objects = objects;
        _links = links;
        _logger = logger;
        objects.BorrowedFreed = OnBorrowedFreed;
    }

    /// <summary>
    /// Makes sure every owner of <paramref name="references"/> counts <paramref name="receiver"/> before a message carrying
    /// them goes there. Completes at once when this node owns them all (the usual case); waits for the owners' answers
    /// otherwise. A reference the receiver owns needs nothing: what this node sends it arrives in order.
    /// </summary>
    public Task HandOffAsync(IEnumerable<RemoteRef> references, Guid receiver)
    {
        List<Task>? pending = null;
        foreach (var reference in references)
        {
            var id = reference.Id.ToObjectId();
            var owner = NodeIds.ToGuid(reference.OwnerNode);
            if (owner == receiver)
            {
                continue;
            }

            if (owner == _self || owner == Guid.Empty)
            {
                _objects.HandOff(id, receiver);
                continue;
            }

            var (requestId, reply) = _requests.Begin<BorrowerAdded>();
            if (!_links.Send(owner, new NodeMessage { AddBorrower = new AddBorrower { RequestId = requestId, Id = reference.Id, Borrower = NodeIds.ToBytes(receiver) } }))
            {
                _requests.Fail(requestId, new RayException($"The owner of object {id} (node {owner:n}) is not in the cluster any more."));
            }

            (pending ??= []).Add(reply);
        }

        return pending is null ? Task.CompletedTask : Task.WhenAll(pending);
    }

    /// <summary>
    /// Takes in references another node handed to this one, each counted once as <paramref name="holder"/> (the task,
    /// value or reader that holds them): an object owned elsewhere gets a borrowed entry here, and the owner is asked for
    /// its state the first time. The count comes first because the answer may arrive on another link's thread at once,
    /// and a borrowed entry that is ready and unreferenced is freed. A caller whose holder comes later (a scheduler that
    /// counts its own) releases <paramref name="holder"/> once that holder counted. Returns their ids.
    /// </summary>
    public ObjectId[] Receive(RepeatedField<RemoteRef> references, ReferenceKind holder)
    {
        var ids = new ObjectId[references.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            var reference = references[i];
            ids[i] = reference.Id.ToObjectId();
            var owner = NodeIds.ToGuid(reference.OwnerNode);
            if (owner == _self || owner == Guid.Empty)
            {
                _objects.AddReference(ids[i], holder);
                continue;
            }

            var (_, created) = _objects.GetOrCreateBorrowed(ids[i], owner, reference.OwnerPid, holder);
            if (created)
            {
                _links.Send(owner, new NodeMessage { SubscribeObject = new SubscribeObject { Ref = reference } });
            }
        }

        return ids;
    }

    /// <summary>The wire forms of references held here, with their owners.</summary>
    public RemoteRef ToRemote(ObjectId id)
    {
        var owner = _objects.TryGet(id, out var entry) && entry.IsBorrowed ? entry.OwnerNode : _self;
        return new RemoteRef { Id = id.ToProto(), OwnerNode = NodeIds.ToBytes(owner), OwnerPid = entry?.OwnerProcessId ?? 0 };
    }

    /// <summary>
    /// The reply to <paramref name="owner"/> for a task or actor call <paramref name="id"/> that ran on this node: the
    /// error, the inline value with its references, or for a stored result its size, the result staying here as the
    /// owner's copy.
    /// </summary>
    public TaskDone Done(ObjectId id, Guid owner, int attempts, Scheduling.TaskResult result)
    {
        var done = new TaskDone { TaskId = id.ToProto(), Attempts = attempts };
        if (result.Error is { } error)
        {
            done.Error = error;
        }
        else if (result.Stored is { } stored)
        {
            var (entry, _) = _objects.GetOrCreateBorrowed(id, owner, 0, ReferenceKind.Primary);
            _objects.Complete(entry, stored, result.Contained);
            done.StoredSize = (ulong)stored.PayloadSize;
        }
        else
        {
            done.Value = ProtoConversions.Wrap(result.Value);
            foreach (var contained in result.Contained ?? [])
            {
                done.Contained.Add(ToRemote(contained));
            }
        }

        return done;
    }

    /// <summary>
    /// The result a <see cref="TaskDone"/> from <paramref name="from"/> carries, with the references it holds
    /// (<paramref name="contained"/>, from <see cref="Receive"/> as <see cref="ReferenceKind.Contained"/>); an error holds
    /// none, so any it names are let go at once, which frees what <see cref="Receive"/> made for them.
    /// </summary>
    public Scheduling.TaskResult Result(Guid from, TaskDone done, ObjectId[] contained)
    {
        if (done.OutcomeCase == TaskDone.OutcomeOneofCase.Error)
        {
            _objects.ReleaseAll(contained, ReferenceKind.Contained);
            return Scheduling.TaskResult.Failure(done.Error);
        }

        var held = contained.Length == 0 ? null : contained;
        return done.OutcomeCase == TaskDone.OutcomeOneofCase.StoredSize
            ? new Scheduling.TaskResult(default, null, null, held, new RemoteCopies((long)done.StoredSize, [from]))
            : new Scheduling.TaskResult(done.Value.Memory, null, null, held);
    }

    /// <summary>A large object's size and the nodes that hold a copy of it (this one first, when it does), for a puller.</summary>
    public StoredInfo StoredInfo(ObjectEntry entry)
    {
        var info = new StoredInfo { Size = (ulong)entry.Size };
        foreach (var node in entry.Locations(_self))
        {
            info.Locations.Add(NodeIds.ToBytes(node));
        }

        return info;
    }

    /// <summary>This node pulled a copy of a borrowed object: its owner names it to later pullers.</summary>
    public void OnCopied(ObjectEntry entry) =>
        _links.Send(entry.OwnerNode, new NodeMessage { LocationChanged = new LocationChanged { Id = entry.Id.ToProto(), Added = true } });

    /// <summary>Handles what other nodes send about references; false for messages that are not about them.</summary>
    public bool Handle(Guid from, NodeMessage message)
    {
        switch (message.BodyCase)
        {
            case NodeMessage.BodyOneofCase.AddBorrower:
                var add = message.AddBorrower;
                var added = new BorrowerAdded { RequestId = add.RequestId };
                if (!_objects.HandOff(add.Id.ToObjectId(), NodeIds.ToGuid(add.Borrower)))
                {
                    added.Error = $"object {add.Id.ToObjectId()} is no longer held by its owner";
                }

                _links.Send(from, new NodeMessage { BorrowerAdded = added });
                return true;
            case NodeMessage.BodyOneofCase.BorrowerAdded:
                if (message.BorrowerAdded.Error.Length > 0)
                {
                    _requests.Fail(message.BorrowerAdded.RequestId, new ObjectNotFoundException(ObjectId.Nil));
                }
                else
                {
                    _requests.Complete(message.BorrowerAdded.RequestId, message.BorrowerAdded);
                }

                return true;
            case NodeMessage.BodyOneofCase.RemoveBorrower:
                _objects.ReturnHandoffs(message.RemoveBorrower.Id.ToObjectId(), from, message.RemoveBorrower.Handoffs);
                return true;
            case NodeMessage.BodyOneofCase.SubscribeObject:
                Subscribe(from, message.SubscribeObject.Ref);
                return true;
            case NodeMessage.BodyOneofCase.ObjectStatus:
                OnStatus(from, message.ObjectStatus);
                return true;
            case NodeMessage.BodyOneofCase.LocationChanged:
                if (message.LocationChanged.Added && _objects.TryGet(message.LocationChanged.Id.ToObjectId(), out var copied) && !copied.IsBorrowed)
                {
                    copied.AddCopy(from);
                }

                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// A node died: the references it held here are dropped (its processes are gone), and the objects it owned that
    /// this node still waits for fail with <see cref="ObjectLostException"/>.
    /// </summary>
    public void OnNodeDied(Guid node)
    {
        _objects.FailBorrowedFrom(node, $"its owner's node {node:n} died");
        foreach (var info in _objects.List())
        {
            if (info.BorrowingNodes > 0)
            {
                _objects.ReturnHandoffs(info.Id, node, 0, all: true);
            }
        }

        _requests.FailAll(new RayException($"Node {node:n} died."));
    }

    private void Subscribe(Guid from, RemoteRef reference)
    {
        var id = reference.Id.ToObjectId();
        if (!_objects.TryGet(id, out var entry))
        {
            _links.Send(from, new NodeMessage { ObjectStatus = new ObjectStatus { Id = reference.Id, Error = RayErrors.NotFound(id) } });
            return;
        }

        entry.OnReady(ready =>
        {
            var status = new ObjectStatus { Id = reference.Id };
            if (ready.Error is { } error)
            {
                status.Error = error;
            }
            else if (ready.Stored is not null || ready.Remote is not null)
            {
                status.Stored = StoredInfo(ready);
            }
            else
            {
                status.Value = ProtoConversions.Wrap(ready.Value);
            }

            foreach (var contained in ready.Contained ?? [])
            {
                status.Contained.Add(ToRemote(contained));
            }

            _ = SendStatusAsync(from, status);
        });
    }

    private async Task SendStatusAsync(Guid to, ObjectStatus status)
    {
        try
        {
            await HandOffAsync(status.Contained, to).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RayException or ObjectNotFoundException)
        {
            _logger.LogWarning("Could not hand the references inside object {Id} to node {Node}: {Reason}", status.Id.ToObjectId(), to.ToString("n"), e.Message);
        }

        _links.Send(to, new NodeMessage { ObjectStatus = status });
    }

    private void OnStatus(Guid from, ObjectStatus status)
    {
        var id = status.Id.ToObjectId();
        if (!_objects.TryGet(id, out var entry) || !entry.IsBorrowed)
        {
            // Freed here meanwhile: the hand-offs of what it holds go back at once.
            foreach (var reference in status.Contained)
            {
                if (NodeIds.ToGuid(reference.OwnerNode) is var owner && owner != _self)
                {
                    _links.Send(owner, new NodeMessage { RemoveBorrower = new RemoveBorrower { Id = reference.Id, Handoffs = 1 } });
                }
            }

            return;
        }

        var contained = Receive(status.Contained, ReferenceKind.Contained);
        switch (status.OutcomeCase)
        {
            case ObjectStatus.OutcomeOneofCase.Error:
                _objects.ReleaseAll(contained, ReferenceKind.Contained);
                _objects.Fail(entry, status.Error);
                break;
            case ObjectStatus.OutcomeOneofCase.Stored:
                _objects.CompleteRemote(entry, (long)status.Stored.Size, status.Stored.Locations.Select(NodeIds.ToGuid).ToArray(), contained);
                break;
            default:
                _objects.Complete(entry, status.Value.Memory, contained.Length == 0 ? null : contained);
                break;
        }
    }

    private void OnBorrowedFreed(ObjectEntry entry) =>
        _links.Send(entry.OwnerNode, new NodeMessage { RemoveBorrower = new RemoveBorrower { Id = entry.Id.ToProto(), Handoffs = entry.ReceivedHandoffs } });
}
