using System.Runtime.InteropServices;
using Google.Protobuf.Collections;
using Ray.Core;
using Ray.Runtime.Protocol;

namespace Ray.Worker;

/// <summary>
/// The arguments of one call as a worker reads them: values that came inline in the message, and large objects
/// read in place from the node's shared memory, each pinned until the call ends (<see cref="Dispose"/>).
/// </summary>
internal sealed class CallArguments : IDisposable
{
    private readonly List<StoredRead>? _reads;

    private CallArguments(ReadOnlyMemory<byte>[] values, List<StoredRead>? reads)
    {
        Values = values;
        _reads = reads;
    }

    public ReadOnlyMemory<byte>[] Values { get; }

    /// <summary>Resolves the arguments; completes at once when every one came inline.</summary>
    public static ValueTask<CallArguments> ResolveAsync(RepeatedField<TaskArg> args, ConnectedCoreWorker core, CancellationToken cancellationToken)
    {
        var values = new ReadOnlyMemory<byte>[args.Count];
        var stored = false;
        for (var i = 0; i < values.Length; i++)
        {
            switch (args[i].KindCase)
            {
                case TaskArg.KindOneofCase.Reference:
                    stored = true;
                    break;
                case TaskArg.KindOneofCase.Stored:
                    // Pinned by the raylet for this call: read in place, nothing to give back.
                    values[i] = core.ReadPinned(args[i].Stored);
                    break;
                default:
                    values[i] = args[i].Value.Memory;
                    break;
            }
        }

        return stored ? ReadStoredAsync(args, values, core, cancellationToken) : new ValueTask<CallArguments>(new CallArguments(values, null));
    }

    /// <summary>
    /// Puts a call's serialized result into <paramref name="finished"/>: inline bytes, or, for a large result the
    /// invoker wrote into the store, its region sealed under <paramref name="taskId"/>. Returns the references the
    /// result holds, which the caller keeps reachable until the message is sent.
    /// </summary>
    public static ObjectRef[]? SetResult(TaskFinished finished, ObjectId taskId, ReadOnlyMemory<byte> result)
    {
        var contained = Place(result, taskId, out var stored);
        if (stored is null)
        {
            finished.Value = ProtoConversions.Wrap(result);
        }
        else
        {
            finished.Stored = stored;
        }

        ProtoArguments.AddIds(finished.Contained, contained);
        return contained;
    }

    /// <summary>Puts a streaming generator's serialized item into <paramref name="item"/>, as <see cref="SetResult"/> does a result.</summary>
    public static ObjectRef[]? SetItem(GeneratorItem item, ObjectId itemId, ReadOnlyMemory<byte> value)
    {
        var contained = Place(value, itemId, out var stored);
        if (stored is null)
        {
            item.Value = ProtoConversions.Wrap(value);
        }
        else
        {
            item.Stored = stored;
        }

        ProtoArguments.AddIds(item.Contained, contained);
        return contained;
    }

    /// <summary>Seals a value the invoker wrote into the store under <paramref name="id"/> (its location out); returns the references it holds.</summary>
    private static ObjectRef[]? Place(ReadOnlyMemory<byte> value, ObjectId id, out StoreLocation? stored)
    {
        stored = null;
        if (!MemoryMarshal.TryGetMemoryManager(value, out SerializedResult? serialized))
        {
            return null;
        }

        if (serialized.Allocation is { } allocation)
        {
            allocation.Seal(id);
            stored = ProtoArguments.Stored(id, allocation.Region);
        }

        return serialized.Contained;
    }

    public void Dispose()
    {
        if (_reads is not null)
        {
            foreach (var read in _reads)
            {
                read.Dispose();
            }
        }
    }

    private static async ValueTask<CallArguments> ReadStoredAsync(
        RepeatedField<TaskArg> args,
        ReadOnlyMemory<byte>[] values,
        ConnectedCoreWorker core,
        CancellationToken cancellationToken)
    {
        var reads = new List<StoredRead>();
        try
        {
            for (var i = 0; i < values.Length; i++)
            {
                if (args[i].KindCase == TaskArg.KindOneofCase.Reference)
                {
                    var read = await core.ReadAsync(args[i].Reference.ToObjectId(), cancellationToken).ConfigureAwait(false);
                    reads.Add(read);
                    values[i] = read.Payload;
                }
            }
        }
        catch
        {
            new CallArguments(values, reads).Dispose();
            throw;
        }

        return new CallArguments(values, reads);
    }
}
