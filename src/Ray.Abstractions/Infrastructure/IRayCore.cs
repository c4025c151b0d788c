using System.ComponentModel;

namespace Ray.Infrastructure;

/// <summary>
/// What generated code and <see cref="ObjectRef"/> need from the runtime of the process: the driver's
/// embedded node, or a worker's connection to its raylet. Implemented by Ray.Runtime; not for user code.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IRayCore
{
    /// <summary>Submits one task and returns the id of its result object at once.</summary>
    ObjectId SubmitTask(RemoteFunctionDescriptor function, TaskOptions? options, TaskArgument[] arguments);

    /// <summary>Creates an actor and returns its id at once; the constructor runs in a worker.</summary>
    ActorId CreateActor(ActorClassDescriptor actorClass, RemoteFunctionDescriptor constructor, ActorOptions? options, TaskArgument[] arguments) =>
        throw new NotSupportedException("This runtime does not host actors.");

    /// <summary>Submits a call to an actor method and returns the id of its result object at once.</summary>
    ObjectId SubmitActorTask(ActorId actor, ActorClassDescriptor actorClass, RemoteFunctionDescriptor method, TaskArgument[] arguments) =>
        throw new NotSupportedException("This runtime does not host actors.");

    /// <summary>Waits for an object and deserializes it.</summary>
    ValueTask<T> GetAsync<T>(ObjectId id, CancellationToken cancellationToken);

    /// <summary>Blocks for an object and deserializes it; <paramref name="timeout"/> null waits forever.</summary>
    T Get<T>(ObjectId id, TimeSpan? timeout);

    /// <summary>Waits until an object is ready, rethrowing the failure of the task that produces it.</summary>
    ValueTask WaitReadyAsync(ObjectId id, CancellationToken cancellationToken);

    /// <summary>Blocks until an object is ready, rethrowing the failure of the task that produces it.</summary>
    void WaitReady(ObjectId id, TimeSpan? timeout);
}

/// <summary>Holds the runtime of this process for generated code.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class RayCore
{
    private static IRayCore? _current;

    /// <summary>The runtime of this process; throws a clear error when RayGen has not been started.</summary>
    public static IRayCore Current => _current ?? throw new InvalidOperationException(
        "RayGen is not initialized in this process: call 'await RayRuntime.InitAsync()' before submitting remote calls.");

    /// <summary>Whether a runtime is installed.</summary>
    public static bool IsInitialized => _current is not null;

    /// <summary>Installs the process's runtime; fails if another one is already installed.</summary>
    public static void Install(IRayCore core)
    {
        if (Interlocked.CompareExchange(ref _current, core, null) is not null)
        {
            throw new InvalidOperationException("A RayGen runtime is already running in this process; dispose it before starting another.");
        }
    }

    /// <summary>Removes <paramref name="core"/> if it is the installed runtime.</summary>
    public static void Uninstall(IRayCore core) => Interlocked.CompareExchange(ref _current, null, core);
}
