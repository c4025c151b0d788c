using Ray.Core;
using Ray.ObjectStore;
using Ray.Raylet;
using Ray.Runtime.Protocol;

namespace Ray.Scheduling;

/// <summary>
/// What a finished task or actor call produced, as the raylet received it: an inline value, a value sealed in the
/// store, or an error; and the objects the value holds, already counted as contained so that a release arriving
/// right after the result cannot free them first.
/// </summary>
internal readonly record struct TaskResult(ReadOnlyMemory<byte> Value, StoredObject? Stored, ErrorInfo? Error, ObjectId[]? Contained, RemoteCopies? Remote = null)
{
    /// <summary>A failure.</summary>
    public static TaskResult Failure(ErrorInfo error) => new(default, null, error, null);

    /// <summary>Takes a worker's <see cref="TaskFinished"/>: seals a stored result and counts the references it holds.</summary>
    public static TaskResult Receive(WorkerHandle worker, TaskFinished finished, ObjectTable objects, LocalObjectManager manager)
    {
        switch (finished.OutcomeCase)
        {
            case TaskFinished.OutcomeOneofCase.Error:
                return Failure(finished.Error);
            case TaskFinished.OutcomeOneofCase.Stored:
                StoredObject stored;
                try
                {
                    stored = manager.Seal(worker, finished.Stored);
                }
                catch (ObjectCorruptedException e)
                {
                    return Failure(RayErrors.FromStore(e));
                }

                return Counted(default, stored, finished.Contained, objects);
            default:
                return Counted(finished.Value.Memory, null, finished.Contained, objects);
        }
    }

    /// <summary>Takes a streaming generator's <see cref="GeneratorItem"/>, as <see cref="Receive"/> takes a result.</summary>
    public static TaskResult ReceiveItem(WorkerHandle worker, GeneratorItem item, ObjectTable objects, LocalObjectManager manager)
    {
        if (item.OutcomeCase != GeneratorItem.OutcomeOneofCase.Stored)
        {
            return Counted(item.Value.Memory, null, item.Contained, objects);
        }

        StoredObject stored;
        try
        {
            stored = manager.Seal(worker, item.Stored);
        }
        catch (ObjectCorruptedException e)
        {
            return Failure(RayErrors.FromStore(e));
        }

        return Counted(default, stored, item.Contained, objects);
    }

    /// <summary>The result is not wanted (its task was given up on, or a retry runs it): give back what it holds.</summary>
    public void Discard(ObjectTable objects)
    {
        if (Stored is not null)
        {
            objects.Store?.Free(Stored);
        }

        objects.ReleaseAll(Contained, ReferenceKind.Contained);
    }

    /// <summary>Stores the result in <paramref name="entry"/>; the table takes over what it holds.</summary>
    public void CompleteIn(ObjectTable objects, ObjectEntry entry)
    {
        if (Error is { } error)
        {
            objects.Fail(entry, error);
        }
        else if (Stored is { } stored)
        {
            objects.Complete(entry, stored, Contained);
        }
        else if (Remote is { } remote)
        {
            objects.CompleteRemote(entry, remote.Size, remote.Locations, Contained);
        }
        else
        {
            objects.Complete(entry, Value, Contained);
        }
    }

    private static TaskResult Counted(ReadOnlyMemory<byte> value, StoredObject? stored, Google.Protobuf.Collections.RepeatedField<ObjectIdProto> containedIds, ObjectTable objects)
    {
        var contained = ProtoArguments.Ids(containedIds);
        objects.AddReferences(contained, ReferenceKind.Contained);
        return new TaskResult(value, stored, null, contained);
    }
}
