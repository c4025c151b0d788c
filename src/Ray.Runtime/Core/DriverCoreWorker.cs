using Ray.Infrastructure;
using Ray.Raylet;

namespace Ray.Core;

/// <summary>The driver's core worker: the node runs in the same process, so calls go straight to it.</summary>
internal sealed class DriverCoreWorker(RayletNode node) : CoreWorker
{
    public override ObjectId SubmitTask(RemoteFunctionDescriptor function, TaskOptions? options, TaskArgument[] arguments) =>
        node.Submit(function, options, arguments);

    public override ActorId CreateActor(ActorClassDescriptor actorClass, RemoteFunctionDescriptor constructor, ActorOptions? options, TaskArgument[] arguments) =>
        node.CreateActor(actorClass, constructor, options, arguments);

    public override ObjectId SubmitActorTask(ActorId actor, ActorClassDescriptor actorClass, RemoteFunctionDescriptor method, TaskArgument[] arguments) =>
        node.SubmitActorTask(actor, actorClass, method, arguments);

    public override void KillActor(ActorId actor) => node.Actors.Kill(actor);

    public override ValueTask<(ActorId Id, string ClassName)> LookupActorAsync(string name, CancellationToken cancellationToken) =>
        node.Actors.Lookup(name) is { } found
            ? new ValueTask<(ActorId, string)>(found)
            : ValueTask.FromException<(ActorId, string)>(new ArgumentException(Actors.ActorSpecs.UnknownName(name), nameof(name)));

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
