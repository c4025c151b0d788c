using System.Collections.Concurrent;
using MemoryPack;
using Ray.Infrastructure;
using Ray.ObjectStore;
using Ray.Replay;
using Ray.Runtime.Protocol;

namespace Ray.Core;

/// <summary>A resolved object: its inline value, the error stored in its place, or the size of a value in the store.</summary>
internal readonly record struct ObjectPayload(ReadOnlyMemory<byte> Value, ErrorInfo? Error, long StoredSize = -1)
{
    /// <summary>Whether the value is in the shared-memory store (read it with a pinned read).</summary>
    public bool IsStored => StoredSize >= 0;
}

/// <summary>
/// A value serialized for an argument, a result or a <c>Put</c>: inline bytes, or (when larger than the inline
/// limit) a filled store region still to be sealed; and the references it holds.
/// </summary>
internal readonly record struct SerializedValue(ReadOnlyMemory<byte> Bytes, StoreAllocation? Allocation, ObjectRef[]? Contained);

/// <summary>
/// The per-process half of the runtime that submits tasks and resolves objects (Ray's "core worker").
/// The driver's implementation talks to the raylet in its own process; a worker's talks over its stream.
/// Serialization into the object store, typed gets, zero-copy views, blocking gets with timeouts and error
/// conversion are shared here.
/// </summary>
internal abstract class CoreWorker : IRayCore
{
    private readonly ConcurrentDictionary<IDisposable, byte> _openViews = new();
    private readonly CancellationTokenSource _stopping = new();
    private volatile bool _disposed;

    protected CoreWorker()
    {
        Replays = new FailedCallReplayer(this);
    }

    /// <summary>What the <see cref="RayTaskException"/>s this process raises replay through.</summary>
    public FailedCallReplayer Replays { get; }

    /// <summary>Serialized values larger than this go to the shared-memory store.</summary>
    public int MaxInlineObjectSize { get; protected set; } = 100 * 1024;

    /// <summary>The node's shared memory, once this process has mapped it.</summary>
    protected SharedMemoryArena? Arena { get; set; }

    /// <summary>Makes the ids of the tasks, actors and puts this process creates.</summary>
    public IdGenerator Ids { get; protected set; } = new(JobId.Nil);

    /// <summary>The owner of what this process makes: its node (whose raylet keeps the state) and this process.</summary>
    public OwnerAddress LocalOwner { get; protected set; }

    public abstract ObjectId SubmitTask(RemoteFunctionDescriptor function, TaskOptions? options, TaskArgument[] arguments);

    public abstract ActorId CreateActor(ActorClassDescriptor actorClass, RemoteFunctionDescriptor constructor, ActorOptions? options, TaskArgument[] arguments);

    public abstract ObjectId SubmitActorTask(ActorId actor, ActorClassDescriptor actorClass, RemoteFunctionDescriptor method, TaskArgument[] arguments);

    /// <summary>Stops an actor.</summary>
    public abstract void KillActor(ActorId actor);

    /// <summary>Finds a named actor; fails with <see cref="ArgumentException"/> when no live actor has that name.</summary>
    public abstract ValueTask<(ActorId Id, string ClassName)> LookupActorAsync(string name, CancellationToken cancellationToken);

    /// <summary>Stores a serialized value (sealing its region, if it has one) as a new object held by one reference of the caller.</summary>
    public abstract ObjectId Put(SerializedValue value);

    /// <summary>
    /// The failed call that its owner (this process's node) kept under <paramref name="taskId"/>, with its arguments as
    /// values, to run again here.
    /// </summary>
    /// <exception cref="Replay.ReplayUnavailableException">The owner keeps no such call; the message says why.</exception>
    public abstract Task<FailedCallRecord> FetchFailedCallAsync(ObjectId taskId, CancellationToken cancellationToken);

    /// <summary>The same, blocking.</summary>
    public virtual FailedCallRecord FetchFailedCall(ObjectId taskId, CancellationToken cancellationToken) =>
        FetchFailedCallAsync(taskId, cancellationToken).GetAwaiter().GetResult();

    /// <summary>Asks the task or actor call that produces <paramref name="id"/> to stop; <paramref name="force"/> ends a task's worker.</summary>
    public abstract void Cancel(ObjectId id, bool force);

    /// <summary>Reads the next item of a stream this process holds (see <see cref="IRayCore.ReadStreamAsync"/>).</summary>
    /// <exception cref="ObjectNotFoundException">The node owns no such stream.</exception>
    public abstract ValueTask<ObjectId> ReadStreamAsync(ObjectId stream, CancellationToken cancellationToken);

    /// <summary>Completes (without throwing) once the object is ready.</summary>
    public abstract Task WhenReady(ObjectId id);

    public abstract void AddReference(ObjectId id, OwnerAddress owner);

    public abstract void ReleaseReference(ObjectId id);

    /// <summary>Serializes <paramref name="value"/> and stores it as a new object.</summary>
    public ObjectRef<T> Put<T>(T value)
    {
        var serialized = Serialize(value);
        var reference = ObjectRef<T>.Adopt(Put(serialized), this);
        GC.KeepAlive(serialized.Contained);
        return reference;
    }

    public TaskArgument SerializeArgument<T>(T value)
    {
        var serialized = Serialize(value);
        if (serialized.Allocation is null)
        {
            return TaskArgument.FromBytes(serialized.Bytes, serialized.Contained);
        }

        // A large argument becomes an object of its own, passed by reference and freed once the task is done with it.
        var argument = TaskArgument.FromReference(ObjectRef.Adopt(Put(serialized), this), ownsReference: true);
        GC.KeepAlive(serialized.Contained);
        return argument;
    }

    public ReadOnlyMemory<byte> SerializeResult<T>(T value)
    {
        var serialized = Serialize(value);
        return serialized.Allocation is null && serialized.Contained is null
            ? serialized.Bytes
            : new SerializedResult(System.Runtime.InteropServices.MemoryMarshal.AsMemory(serialized.Bytes), serialized.Allocation, serialized.Contained).Memory;
    }

    /// <summary>
    /// Serializes a value with MemoryPack: into inline bytes when small, else into a region of the store. An array
    /// of unmanaged elements is copied into the store directly (one copy); anything else is serialized first.
    /// </summary>
    public SerializedValue Serialize<T>(T value)
    {
        using var scope = ContainedReferences.Collect();
        if (RawArray<T>.ElementSize > 0 && value is not null && Arena is not null && RawArray<T>.SerializedSize(value) is var rawSize && rawSize > MaxInlineObjectSize)
        {
            var allocation = Allocate(rawSize);
            try
            {
                RawArray<T>.Write(value, allocation.Payload.Span, LargeCopy.Copy);
            }
            catch
            {
                allocation.Abort();
                throw;
            }

            return new SerializedValue(allocation.Payload, allocation, null);
        }

        // MemoryPack's own pooled buffer makes the exact-size array most values end up as; a large one is then
        // copied into the store (a large array of unmanaged elements went straight in above).
        var bytes = MemoryPackSerializer.Serialize(value);
        var contained = scope.Collected;
        if (bytes.Length <= MaxInlineObjectSize || Arena is null)
        {
            return new SerializedValue(bytes, null, contained);
        }

        var region = Allocate(bytes.Length);
        LargeCopy.Copy(bytes, region.Payload.Span);
        return new SerializedValue(region.Payload, region, contained);
    }

    public ValueTask<T> GetAsync<T>(ObjectRef reference, CancellationToken cancellationToken)
    {
        if (TryGetReady(reference.Id, out var ready) && !ready.IsStored)
        {
            var value = Deserialize<T>(reference.Id, ready);
            GC.KeepAlive(reference);
            return new ValueTask<T>(value);
        }

        return AwaitValueAsync<T>(reference, ResolveAsync(reference.Id, cancellationToken), cancellationToken);
    }

    public T Get<T>(ObjectRef reference, TimeSpan? timeout)
    {
        var payload = Block(reference.Id, timeout);
        T value;
        if (payload.IsStored)
        {
            using var read = ReadStored(reference.Id);
            value = Deserialize<T>(reference.Id, new ObjectPayload(read.Payload, null));
        }
        else
        {
            value = Deserialize<T>(reference.Id, payload);
        }

        GC.KeepAlive(reference);
        return value;
    }

    public ValueTask WaitReadyAsync(ObjectRef reference, CancellationToken cancellationToken)
    {
        if (TryGetReady(reference.Id, out var ready))
        {
            ThrowIfError(reference.Id, ready);
            return default;
        }

        return AwaitReadyAsync(reference, ResolveAsync(reference.Id, cancellationToken));
    }

    public void WaitReady(ObjectRef reference, TimeSpan? timeout)
    {
        ThrowIfError(reference.Id, Block(reference.Id, timeout));
        GC.KeepAlive(reference);
    }

    public ArrayView<T> GetView<T>(ObjectRef reference, TimeSpan? timeout)
        where T : unmanaged
    {
        var payload = Block(reference.Id, timeout);
        ThrowIfError(reference.Id, payload);
        var view = payload.IsStored ? OpenView<T>(reference.Id, ReadStored(reference.Id)) : ArrayView<T>.Create(reference.Id, payload.Value, null);
        GC.KeepAlive(reference);
        return view;
    }

    public async ValueTask<ArrayView<T>> GetViewAsync<T>(ObjectRef reference, CancellationToken cancellationToken)
        where T : unmanaged
    {
        ObjectPayload payload;
        using (EnterBlocked())
        {
            payload = await ResolveAsync(reference.Id, cancellationToken).ConfigureAwait(false);
        }

        ThrowIfError(reference.Id, payload);
        return payload.IsStored
            ? OpenView<T>(reference.Id, await ReadStoredAsync(reference.Id, cancellationToken).ConfigureAwait(false))
            : ArrayView<T>.Create(reference.Id, payload.Value, null);
    }

    /// <summary>
    /// Completes when every object of <paramref name="references"/> is ready, or as soon as one of them holds an error
    /// (a get of all then throws the first error in order, as waiting for each in turn would), with one wake-up of the
    /// waiter instead of one per object; null where this process cannot watch its objects that way (the caller then
    /// waits for each in turn).
    /// </summary>
    public virtual Task? WhenAllReady(IReadOnlyList<ObjectRef> references, CancellationToken cancellationToken) => null;

    /// <summary>Marks the current task as waiting, so its lease can run other work; null outside tasks.</summary>
    public virtual IDisposable? EnterBlocked() => null;

    /// <summary>Cancelled when the driver's runtime is disposed, to end the waits in flight; never in a worker.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Whether the driver's runtime was disposed.</summary>
    protected bool IsDisposed => _disposed;

    /// <summary>
    /// The driver's runtime is disposed: every later call, through the runtime or a reference it made, throws
    /// <see cref="ObjectDisposedException"/>; the waits in flight end with it too, and open views are closed.
    /// </summary>
    public virtual void Shutdown()
    {
        _disposed = true;
        _stopping.Cancel();
        CloseViews();
    }

    /// <summary>What calls on a disposed runtime, or on the references it made, throw.</summary>
    public static ObjectDisposedException Disposed() => new(
        nameof(RayRuntime),
        "This RayGen runtime was disposed: its node, objects and tasks are gone. Start a new one with RayRuntime.InitAsync().");

    /// <exception cref="ObjectDisposedException">The driver's runtime was disposed.</exception>
    protected void ThrowIfDisposed()
    {
        if (_disposed)
        {
            throw Disposed();
        }
    }

    /// <summary>Closes every view still open (the runtime is shutting down and its shared memory goes away).</summary>
    private void CloseViews()
    {
        foreach (var view in _openViews.Keys)
        {
            view.Dispose();
        }
    }

    /// <summary>A region of the store for a new object of <paramref name="payloadSize"/> bytes.</summary>
    protected abstract StoreAllocation Allocate(long payloadSize);

    /// <summary>The object's payload if it is ready now: the fast path of every get.</summary>
    protected abstract bool TryGetReady(ObjectId id, out ObjectPayload payload);

    /// <summary>Waits for the object to be ready.</summary>
    /// <exception cref="ObjectNotFoundException">There is no such object.</exception>
    protected abstract ValueTask<ObjectPayload> ResolveAsync(ObjectId id, CancellationToken cancellationToken);

    /// <summary>Pins a stored object and reads it in place; blocks while it is brought back from disk.</summary>
    protected abstract StoredRead ReadStored(ObjectId id);

    /// <summary>Pins a stored object and reads it in place.</summary>
    protected abstract ValueTask<StoredRead> ReadStoredAsync(ObjectId id, CancellationToken cancellationToken);

    /// <summary>A sentence on the state of the task that produces <paramref name="id"/>, for timeouts.</summary>
    public string DescribePending(ObjectId id) => Describe(id);

    /// <summary>A sentence on the state of the task that produces <paramref name="id"/>.</summary>
    protected abstract string Describe(ObjectId id);

    /// <summary>
    /// An object's error reached user code (it was thrown at a get or an await): it is handled, so it is not reported
    /// as an unhandled error when its last reference goes.
    /// </summary>
    protected abstract void OnErrorObserved(ObjectId id);

    private void ThrowIfError(ObjectId id, ObjectPayload payload)
    {
        if (payload.Error is { } error)
        {
            OnErrorObserved(id);
            throw RayErrors.ToException(error, Replays);
        }
    }

    private T Deserialize<T>(ObjectId id, ObjectPayload payload)
    {
        ThrowIfError(id, payload);
        try
        {
            // A large array of unmanaged elements is copied out on several cores; everything else goes through MemoryPack.
            return RawArray<T>.ElementSize > 0 && payload.Value.Length >= LargeCopy.ParallelThreshold &&
                   RawArray<T>.TryRead(payload.Value.Span, LargeCopy.Copy, out var array)
                ? array
                : MemoryPackSerializer.Deserialize<T>(payload.Value.Span)!;
        }
        catch (Exception e)
        {
            throw new RaySerializationException($"Object {id} could not be deserialized as {typeof(T)}: {e.Message}", e);
        }
    }

    private ArrayView<T> OpenView<T>(ObjectId id, StoredRead read)
        where T : unmanaged
    {
        var release = new ViewRelease(this, read);
        try
        {
            var view = ArrayView<T>.Create(id, read.Payload, release);
            release.View = view;
            _openViews[view] = 0;
            return view;
        }
        catch
        {
            read.Dispose();
            throw;
        }
    }

    private ObjectPayload Block(ObjectId id, TimeSpan? timeout)
    {
        if (TryGetReady(id, out var ready))
        {
            return ready;
        }

        var task = ResolveAsync(id, CancellationToken.None).AsTask();
        using (EnterBlocked())
        {
            try
            {
                if (!task.Wait(timeout ?? Timeout.InfiniteTimeSpan))
                {
                    throw new GetTimeoutException(id, Describe(id), timeout!.Value);
                }
            }
            catch (AggregateException e) when (e.InnerExceptions.Count == 1)
            {
                // The wait itself failed (the runtime was disposed meanwhile): throw what an awaited get throws.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException!);
            }
        }

        return task.Result;
    }

    private async ValueTask<T> AwaitValueAsync<T>(ObjectRef reference, ValueTask<ObjectPayload> pending, CancellationToken cancellationToken)
    {
        ObjectPayload payload;
        using (EnterBlocked())
        {
            payload = await pending.ConfigureAwait(false);
        }

        ThrowIfError(reference.Id, payload);
        if (!payload.IsStored)
        {
            return Deserialize<T>(reference.Id, payload);
        }

        using var read = await ReadStoredAsync(reference.Id, cancellationToken).ConfigureAwait(false);
        return Deserialize<T>(reference.Id, new ObjectPayload(read.Payload, null));
    }

    private async ValueTask AwaitReadyAsync(ObjectRef reference, ValueTask<ObjectPayload> pending)
    {
        ObjectPayload payload;
        using (EnterBlocked())
        {
            payload = await pending.ConfigureAwait(false);
        }

        ThrowIfError(reference.Id, payload);
        GC.KeepAlive(reference);
    }

    /// <summary>What disposing a view of a stored object does: the pin ends and the view is no longer tracked.</summary>
    private sealed class ViewRelease(CoreWorker core, StoredRead read) : IDisposable
    {
        public IDisposable? View { get; set; }

        public void Dispose()
        {
            if (View is not null)
            {
                core._openViews.TryRemove(View, out _);
            }

            read.Dispose();
        }
    }
}
