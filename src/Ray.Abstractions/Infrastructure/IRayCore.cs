using System.ComponentModel;
using MemoryPack;

namespace Ray.Infrastructure;

/// <summary>
/// What generated code and <see cref="ObjectRef"/> need from the runtime of the process: the driver's
/// embedded node, or a worker's connection to its raylet. Implemented by Ray.Runtime; not for user code.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IRayCore
{
    /// <summary>
    /// Submits one task and returns the id of its result object at once. The runtime counts one reference to the
    /// result for the caller, which the <see cref="ObjectRef"/> made from the id holds (see <see cref="ObjectRef.Adopt"/>).
    /// </summary>
    ObjectId SubmitTask(RemoteFunctionDescriptor function, TaskOptions? options, TaskArgument[] arguments);

    /// <summary>Creates an actor and returns its id at once; the constructor runs in a worker.</summary>
    ActorId CreateActor(ActorClassDescriptor actorClass, RemoteFunctionDescriptor constructor, ActorOptions? options, TaskArgument[] arguments) =>
        throw new NotSupportedException("This runtime does not host actors.");

    /// <summary>Submits a call to an actor method and returns the id of its result object at once, counted as for <see cref="SubmitTask"/>.</summary>
    ObjectId SubmitActorTask(ActorId actor, ActorClassDescriptor actorClass, RemoteFunctionDescriptor method, TaskArgument[] arguments) =>
        throw new NotSupportedException("This runtime does not host actors.");

    /// <summary>
    /// Reads the next item of the stream whose producer returns <paramref name="stream"/>: waits until the producer has
    /// yielded it and returns its id, whose reference the runtime counted for the caller (see <see cref="ObjectRef.Adopt"/>),
    /// or <see cref="ObjectId.Nil"/> at the end of the stream.
    /// </summary>
    ValueTask<ObjectId> ReadStreamAsync(ObjectId stream, CancellationToken cancellationToken) =>
        throw new NotSupportedException("This runtime does not run streaming tasks.");

    /// <summary>Asks the task or actor call that produces <paramref name="id"/> to stop; <paramref name="force"/> ends a task's worker.</summary>
    void Cancel(ObjectId id, bool force)
    {
    }

    /// <summary>Waits for an object and deserializes it; <paramref name="reference"/> stays alive until it is read.</summary>
    ValueTask<T> GetAsync<T>(ObjectRef reference, CancellationToken cancellationToken);

    /// <summary>Blocks for an object and deserializes it; <paramref name="timeout"/> null waits forever.</summary>
    T Get<T>(ObjectRef reference, TimeSpan? timeout);

    /// <summary>Waits until an object is ready, rethrowing the failure of the task that produces it.</summary>
    ValueTask WaitReadyAsync(ObjectRef reference, CancellationToken cancellationToken);

    /// <summary>Blocks until an object is ready, rethrowing the failure of the task that produces it.</summary>
    void WaitReady(ObjectRef reference, TimeSpan? timeout);

    /// <summary>Waits for an array object and opens a zero-copy view of it.</summary>
    ValueTask<ArrayView<T>> GetViewAsync<T>(ObjectRef reference, CancellationToken cancellationToken)
        where T : unmanaged =>
        throw new NotSupportedException("This runtime has no object store to open views in.");

    /// <summary>Blocks for an array object and opens a zero-copy view of it; <paramref name="timeout"/> null waits forever.</summary>
    ArrayView<T> GetView<T>(ObjectRef reference, TimeSpan? timeout)
        where T : unmanaged =>
        throw new NotSupportedException("This runtime has no object store to open views in.");

    /// <summary>
    /// Serializes a top-level argument of a remote call: inline bytes, or (for a large value, in a runtime with an
    /// object store) a reference to a new object holding it.
    /// </summary>
    TaskArgument SerializeArgument<T>(T value) => TaskArgument.FromBytes(MemoryPackSerializer.Serialize(value));

    /// <summary>Serializes the result of a remote call; a runtime may place a large result in its object store.</summary>
    ReadOnlyMemory<byte> SerializeResult<T>(T value) => MemoryPackSerializer.Serialize(value);

    /// <summary>
    /// The owner of what this process makes: its node and this process. References made here (submitted tasks,
    /// puts, created actors) carry it across processes.
    /// </summary>
    OwnerAddress LocalOwner => OwnerAddress.None;

    /// <summary>
    /// An <see cref="ObjectRef"/> to <paramref name="id"/>, owned by <paramref name="owner"/>, was created in this
    /// process (for example deserialized).
    /// </summary>
    void AddReference(ObjectId id, OwnerAddress owner)
    {
    }

    /// <summary>An <see cref="ObjectRef"/> to <paramref name="id"/> created in this process was collected.</summary>
    void ReleaseReference(ObjectId id)
    {
    }
}

/// <summary>Holds the runtime of this process for generated code.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class RayCore
{
    private static IRayCore? _current;

    /// <summary>The runtime of this process; throws a clear error when RayGen has not been started.</summary>
    public static IRayCore Current => _current ?? throw new InvalidOperationException(
        "RayGen is not initialized in this process: call 'await RayRuntime.InitAsync()' before submitting remote calls.");

    /// <summary>The runtime of this process, or null when none is installed.</summary>
    public static IRayCore? CurrentOrNull => Volatile.Read(ref _current);

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
