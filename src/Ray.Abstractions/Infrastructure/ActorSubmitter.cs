using System.ComponentModel;

namespace Ray.Infrastructure;

/// <summary>The entry point of generated actor stubs.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ActorSubmitter
{
    /// <summary>Creates an actor; returns its handle at once while the constructor runs in a worker.</summary>
    public static ActorHandle<TActor> Create<TActor>(ActorClassDescriptor actorClass, RemoteFunctionDescriptor constructor, ActorOptions? options, TaskArgument[] arguments)
        where TActor : class
    {
        var core = RayCore.Current;
        var handle = ActorHandle<TActor>.Create(core.CreateActor(actorClass, constructor, options, arguments), core);
        TaskArgument.Submitted(arguments);
        return handle;
    }

    /// <summary>Calls a method that returns a value.</summary>
    public static ObjectRef<TResult> Call<TActor, TResult>(ActorHandle<TActor> handle, ActorClassDescriptor actorClass, RemoteFunctionDescriptor method, TaskArgument[] arguments)
        where TActor : class
    {
        ArgumentNullException.ThrowIfNull(handle);
        var core = handle.Core ?? RayCore.Current;
        var result = ObjectRef<TResult>.Adopt(core.SubmitActorTask(handle.Id, actorClass, method, arguments), core);
        TaskArgument.Submitted(arguments);
        return result;
    }

    /// <summary>Calls a streaming method (a generator) whose items have type <typeparamref name="TItem"/>.</summary>
    public static ObjectRefStream<TItem> CallStream<TActor, TItem>(ActorHandle<TActor> handle, ActorClassDescriptor actorClass, RemoteFunctionDescriptor method, TaskArgument[] arguments)
        where TActor : class
    {
        ArgumentNullException.ThrowIfNull(handle);
        var core = handle.Core ?? RayCore.Current;
        var result = ObjectRefStream<TItem>.Adopt(core.SubmitActorTask(handle.Id, actorClass, method, arguments), core);
        TaskArgument.Submitted(arguments);
        return result;
    }

    /// <summary>Calls a method that returns nothing; the reference may be ignored (fire and forget) or awaited.</summary>
    public static ObjectRef CallVoid<TActor>(ActorHandle<TActor> handle, ActorClassDescriptor actorClass, RemoteFunctionDescriptor method, TaskArgument[] arguments)
        where TActor : class
    {
        ArgumentNullException.ThrowIfNull(handle);
        var core = handle.Core ?? RayCore.Current;
        var result = ObjectRef.Adopt(core.SubmitActorTask(handle.Id, actorClass, method, arguments), core);
        TaskArgument.Submitted(arguments);
        return result;
    }
}
