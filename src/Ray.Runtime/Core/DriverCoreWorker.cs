using Ray.Infrastructure;
using Ray.Raylet;

namespace Ray.Core;

/// <summary>The driver's core worker: the node runs in the same process, so calls go straight to it.</summary>
internal sealed class DriverCoreWorker(RayletNode node) : CoreWorker
{
    public override ObjectId SubmitTask(RemoteFunctionDescriptor function, TaskOptions? options, TaskArgument[] arguments) =>
        node.Submit(function, options, arguments);

    public override ObjectId Put(ReadOnlyMemory<byte> payload)
    {
        var id = ObjectId.New();
        node.Objects.Put(id, payload);
        return id;
    }

    public override void Cancel(ObjectId id) => node.Scheduler.Cancel(id);

    public override Task WhenReady(ObjectId id) =>
        node.Objects.TryGet(id, out var entry) ? entry.WhenReady() : Task.FromException(new ObjectNotFoundException(id));

    protected override ValueTask<ObjectPayload> ResolveAsync(ObjectId id, CancellationToken cancellationToken)
    {
        if (!node.Objects.TryGet(id, out var entry))
        {
            throw new ObjectNotFoundException(id);
        }

        return entry.IsReady ? new ValueTask<ObjectPayload>(new ObjectPayload(entry.Value, entry.Error)) : AwaitAsync();

        async ValueTask<ObjectPayload> AwaitAsync()
        {
            await entry.WhenReady().WaitAsync(cancellationToken).ConfigureAwait(false);
            return new ObjectPayload(entry.Value, entry.Error);
        }
    }

    protected override string Describe(ObjectId id) => node.Scheduler.Describe(id);
}
