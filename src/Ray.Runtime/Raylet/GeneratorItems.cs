using Ray.Core;
using Ray.ObjectStore;
using Ray.Ownership;
using Ray.Runtime.Protocol;
using Ray.Scheduling;

namespace Ray.Raylet;

/// <summary>
/// The items of streaming tasks and actor calls as they cross nodes (<see cref="GeneratorItemDone"/>), the same way for
/// both: a small item travels as its value, a large one stays in the store of the node that ran the producer (which
/// keeps it for the owner, as it keeps a large result) and the owner learns its size and that it is there.
/// </summary>
internal static class GeneratorItems
{
    /// <summary>The message that takes item <paramref name="index"/> of call <paramref name="callId"/> to its owner.</summary>
    public static GeneratorItemDone Outgoing(ObjectTable objects, Ownership.ClusterReferences references, Guid owner, ObjectId callId, int index, TaskResult item)
    {
        var message = new GeneratorItemDone { TaskId = callId.ToProto(), Index = index };
        if (item.Error is { } error)
        {
            message.Error = error;
        }
        else if (item.Stored is { } stored)
        {
            var (entry, _) = objects.GetOrCreateBorrowed(OwnedStream.ItemId(callId, index), owner, 0, ReferenceKind.Primary);
            objects.Complete(entry, stored, item.Contained);
            message.StoredSize = (ulong)stored.PayloadSize;
        }
        else
        {
            message.Value = ProtoConversions.Wrap(item.Value);
            foreach (var id in item.Contained ?? [])
            {
                message.Contained.Add(references.ToRemote(id));
            }
        }

        return message;
    }

    /// <summary>An item from the node that ran the producer, as a result to write to the owner's stream; the references it holds are counted.</summary>
    public static TaskResult Incoming(ObjectTable objects, Ownership.ClusterReferences references, Guid from, GeneratorItemDone item)
    {
        var contained = references.Receive(item.Contained, ReferenceKind.Contained);
        if (item.OutcomeCase == GeneratorItemDone.OutcomeOneofCase.Error)
        {
            // An error holds nothing: what came with it goes.
            objects.ReleaseAll(contained, ReferenceKind.Contained);
            return TaskResult.Failure(item.Error);
        }

        return item.OutcomeCase == GeneratorItemDone.OutcomeOneofCase.StoredSize
            ? new TaskResult(default, null, null, contained.Length == 0 ? null : contained, new RemoteCopies((long)item.StoredSize, [from]))
            : new TaskResult(item.Value.Memory, null, null, contained.Length == 0 ? null : contained);
    }
}
