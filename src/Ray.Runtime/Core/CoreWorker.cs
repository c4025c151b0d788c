using MemoryPack;
using Ray.Infrastructure;
using Ray.Runtime.Protocol;

namespace Ray.Core;

/// <summary>A resolved object: its serialized value, or the error stored in its place.</summary>
internal readonly record struct ObjectPayload(ReadOnlyMemory<byte> Value, ErrorInfo? Error);

/// <summary>
/// The per-process half of the runtime that submits tasks and resolves objects (Ray's "core worker").
/// The driver's implementation talks to the raylet in its own process; a worker's talks over its stream.
/// Typed gets, blocking gets with timeouts and error conversion are shared here.
/// </summary>
internal abstract class CoreWorker : IRayCore
{
    public abstract ObjectId SubmitTask(RemoteFunctionDescriptor function, TaskOptions? options, TaskArgument[] arguments);

    public abstract ActorId CreateActor(ActorClassDescriptor actorClass, RemoteFunctionDescriptor constructor, ActorOptions? options, TaskArgument[] arguments);

    public abstract ObjectId SubmitActorTask(ActorId actor, ActorClassDescriptor actorClass, RemoteFunctionDescriptor method, TaskArgument[] arguments);

    /// <summary>Stops an actor.</summary>
    public abstract void KillActor(ActorId actor);

    /// <summary>Finds a named actor; fails with <see cref="ArgumentException"/> when no live actor has that name.</summary>
    public abstract ValueTask<(ActorId Id, string ClassName)> LookupActorAsync(string name, CancellationToken cancellationToken);

    /// <summary>Stores a serialized value as a new object.</summary>
    public abstract ObjectId Put(ReadOnlyMemory<byte> payload);

    /// <summary>Asks the task that produces <paramref name="id"/> to stop.</summary>
    public abstract void Cancel(ObjectId id);

    /// <summary>Completes (without throwing) once the object is ready.</summary>
    public abstract Task WhenReady(ObjectId id);

    public ValueTask<T> GetAsync<T>(ObjectId id, CancellationToken cancellationToken)
    {
        var pending = ResolveAsync(id, cancellationToken);
        return pending.IsCompletedSuccessfully
            ? new ValueTask<T>(Deserialize<T>(id, pending.Result))
            : AwaitValueAsync<T>(id, pending);
    }

    public T Get<T>(ObjectId id, TimeSpan? timeout) => Deserialize<T>(id, Block(id, timeout));

    public ValueTask WaitReadyAsync(ObjectId id, CancellationToken cancellationToken)
    {
        var pending = ResolveAsync(id, cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            ThrowIfError(pending.Result);
            return default;
        }

        return AwaitReadyAsync(pending);
    }

    public void WaitReady(ObjectId id, TimeSpan? timeout) => ThrowIfError(Block(id, timeout));

    /// <summary>Marks the current task as waiting, so its lease can run other work; null outside tasks.</summary>
    public virtual IDisposable? EnterBlocked() => null;

    protected abstract ValueTask<ObjectPayload> ResolveAsync(ObjectId id, CancellationToken cancellationToken);

    /// <summary>A sentence on the state of the task that produces <paramref name="id"/>.</summary>
    protected abstract string Describe(ObjectId id);

    private static void ThrowIfError(ObjectPayload payload)
    {
        if (payload.Error is { } error)
        {
            throw RayErrors.ToException(error);
        }
    }

    private static T Deserialize<T>(ObjectId id, ObjectPayload payload)
    {
        ThrowIfError(payload);
        try
        {
            return MemoryPackSerializer.Deserialize<T>(payload.Value.Span)!;
        }
        catch (Exception e)
        {
            throw new RaySerializationException($"Object {id} could not be deserialized as {typeof(T)}: {e.Message}", e);
        }
    }

    private ObjectPayload Block(ObjectId id, TimeSpan? timeout)
    {
        var pending = ResolveAsync(id, CancellationToken.None);
        if (pending.IsCompletedSuccessfully)
        {
            return pending.Result;
        }

        var task = pending.AsTask();
        using (EnterBlocked())
        {
            if (!task.Wait(timeout ?? Timeout.InfiniteTimeSpan))
            {
                throw new GetTimeoutException(id, Describe(id), timeout!.Value);
            }
        }

        return task.Result;
    }

    private async ValueTask<T> AwaitValueAsync<T>(ObjectId id, ValueTask<ObjectPayload> pending)
    {
        ObjectPayload payload;
        using (EnterBlocked())
        {
            payload = await pending.ConfigureAwait(false);
        }

        return Deserialize<T>(id, payload);
    }

    private async ValueTask AwaitReadyAsync(ValueTask<ObjectPayload> pending)
    {
        ObjectPayload payload;
        using (EnterBlocked())
        {
            payload = await pending.ConfigureAwait(false);
        }

        ThrowIfError(payload);
    }
}
