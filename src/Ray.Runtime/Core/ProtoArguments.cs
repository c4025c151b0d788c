using Google.Protobuf.Collections;
using Ray.Infrastructure;
using Ray.ObjectStore;
using Ray.Runtime.Protocol;

namespace Ray.Core;

/// <summary>Converts task arguments and object references to and from their wire form without copying payloads.</summary>
internal static class ProtoArguments
{
    public static TaskArgument[] FromProto(RepeatedField<TaskArg> args)
    {
        var arguments = new TaskArgument[args.Count];
        for (var i = 0; i < arguments.Length; i++)
        {
            var argument = args[i];
            arguments[i] = argument.KindCase == TaskArg.KindOneofCase.Reference
                ? TaskArgument.FromReference(argument.Reference.ToObjectId())
                : TaskArgument.FromBytes(argument.Value.Memory);
        }

        return arguments;
    }

    /// <summary>Adds the arguments, and the ids of the references their values hold.</summary>
    public static void AddTo(RepeatedField<TaskArg> args, RepeatedField<ObjectIdProto> contained, TaskArgument[] arguments)
    {
        foreach (var argument in arguments)
        {
            args.Add(argument.IsReference
                ? new TaskArg { Reference = argument.Reference.ToProto() }
                : new TaskArg { Value = ProtoConversions.Wrap(argument.Value) });
            AddIds(contained, argument.Contained);
        }
    }

    public static void AddIds(RepeatedField<ObjectIdProto> ids, ObjectRef[]? references)
    {
        if (references is not null)
        {
            foreach (var reference in references)
            {
                ids.Add(reference.Id.ToProto());
            }
        }
    }

    /// <summary>The ids of <paramref name="references"/>, or null when there are none.</summary>
    public static ObjectId[]? Ids(ObjectRef[]? references)
    {
        if (references is not { Length: > 0 })
        {
            return null;
        }

        var ids = new ObjectId[references.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = references[i].Id;
        }

        return ids;
    }

    /// <summary>The ids of a repeated field, or null when it is empty.</summary>
    public static ObjectId[]? Ids(RepeatedField<ObjectIdProto> ids)
    {
        if (ids.Count == 0)
        {
            return null;
        }

        var result = new ObjectId[ids.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = ids[i].ToObjectId();
        }

        return result;
    }

    /// <summary>
    /// The objects a task keeps alive while it is pending: its future arguments, and the references inside its
    /// argument values (from the caller's process when it is this one, else from the submission message).
    /// </summary>
    public static ObjectId[] Referenced(TaskArgument[] arguments, RepeatedField<ObjectIdProto>? contained)
    {
        var count = contained?.Count ?? 0;
        foreach (var argument in arguments)
        {
            count += (argument.IsReference ? 1 : 0) + (argument.Contained?.Length ?? 0);
        }

        if (count == 0)
        {
            return [];
        }

        var ids = new ObjectId[count];
        var next = 0;
        foreach (var argument in arguments)
        {
            if (argument.IsReference)
            {
                ids[next++] = argument.Reference;
            }

            foreach (var reference in argument.Contained ?? [])
            {
                ids[next++] = reference.Id;
            }
        }

        foreach (var id in contained ?? [])
        {
            ids[next++] = id.ToObjectId();
        }

        return ids;
    }

    public static StoreLocation Stored(ObjectId id, StoreRegion region) =>
        new() { Id = id.ToProto(), Offset = (ulong)region.Offset, Size = (ulong)region.PayloadSize };

    public static StoreRegion Region(this StoreLocation stored) => new((long)stored.Offset, (long)stored.Size);
}
