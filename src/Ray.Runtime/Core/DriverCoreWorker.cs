using Ray.Infrastructure;
using Ray.ObjectStore;
using Ray.Raylet;
using Ray.Runtime.Protocol;

namespace Ray.Core;

/// <summary>
/// The driver's core worker: the node runs in the same process, so calls go straight to it. References held by
/// the driver's <see cref="ObjectRef"/>s are counted on the objects themselves; a collected reference is released
/// off the finalizer thread, on the thread pool. Once the runtime is disposed, every call, through the runtime or a
/// reference it made, throws <see cref="ObjectDisposedException"/>, and so do the waits in flight.
/// </summary>
internal sealed class DriverCoreWorker : CoreWorker
{
    private readonly RayletNode _node;
    private readonly ReleaseQueue _released;
    private readonly int _processId = Environment.ProcessId;

    public DriverCoreWorker(RayletNode node)
    {
        _node = node;
        _released = new ReleaseQueue(ApplyReleases);
        MaxInlineObjectSize = node.Options.MaxInlineObjectSize;
        Arena = node.Store.Arena;
        Ids = new IdGenerator(JobId.Embedded);
        LocalOwner = new OwnerAddress(node.NodeGuid, _processId);
    }

    public override ObjectId SubmitTask(RemoteFunctionDescriptor function, TaskOptions? options, TaskArgument[] arguments)
    {
        var id = Ids.NextReturn();
        Live().Submit(id, function, options, arguments);
        return id;
    }

    public override ActorId CreateActor(ActorClassDescriptor actorClass, RemoteFunctionDescriptor constructor, ActorOptions? options, TaskArgument[] arguments)
    {
        var id = Ids.NextActor();
        Live().CreateActor(id, actorClass, constructor, options, arguments);
        return id;
    }

    public override ObjectId SubmitActorTask(ActorId actor, ActorClassDescriptor actorClass, RemoteFunctionDescriptor method, TaskArgument[] arguments)
    {
        var id = Ids.NextReturn();
        Live().SubmitActorTask(id, actor, actorClass, method, arguments);
        return id;
    }

    public override void KillActor(ActorId actor) => Live().Actors.Kill(actor);

    public override ValueTask<(ActorId Id, string ClassName)> LookupActorAsync(string name, CancellationToken cancellationToken) =>
        Live().Actors.Lookup(name) is { } found
            ? new ValueTask<(ActorId, string)>(found)
            : ValueTask.FromException<(ActorId, string)>(new ArgumentException(Actors.ActorSpecs.UnknownName(name), nameof(name)));

    public override ObjectId Put(SerializedValue value)
    {
        var id = Ids.NextPut();
        var objects = Live().Objects;
        var entry = objects.Create(id, _processId, ReferenceKind.Local);
        var contained = ProtoArguments.Ids(value.Contained);
        objects.AddReferences(contained, ReferenceKind.Contained);
        if (value.Allocation is { } allocation)
        {
            StoredObject stored;
            try
            {
                allocation.Seal(id);
                stored = _node.Store.Seal(id, allocation.Region);
            }
            catch
            {
                // No reference will be made to the object: let it go at once.
                objects.ReleaseAll(contained, ReferenceKind.Contained);
                objects.Fail(entry, RayErrors.System("Put", "the value could not be sealed in the object store"));
                entry.ErrorObserved = true;
                objects.Release(entry, ReferenceKind.Local);
                throw;
            }

            objects.Complete(entry, stored, contained);
        }
        else
        {
            objects.Complete(entry, value.Bytes, contained);
        }

        return id;
    }

    public override void Cancel(ObjectId id, bool force) => Live().Cancel(id, force);

    public override ValueTask<ObjectId> ReadStreamAsync(ObjectId stream, CancellationToken cancellationToken) =>
        _node.Streams.ReadAsync(stream, static item => item.AddReference(ReferenceKind.Local), cancellationToken);

    public override Task<FailedCallRecord> FetchFailedCallAsync(ObjectId taskId, CancellationToken cancellationToken) =>
        Live().FailedCalls.FetchAsync(taskId, JobId.Embedded, cancellationToken);

    public override Task WhenReady(ObjectId id) =>
        Live().Objects.TryGet(id, out var entry) ? entry.WhenReady() : Task.FromException(new ObjectNotFoundException(id));

    public override void AddReference(ObjectId id, OwnerAddress owner)
    {
        if (!IsDisposed)
        {
            _node.Objects.AddReference(id, ReferenceKind.Local);
        }
    }

    public override void ReleaseReference(ObjectId id)
    {
        if (IsDisposed)
        {
            // The node is gone: late sweeps have nothing to release.
            return;
        }

        // Called by the reference tracker on the finalizer thread: queue it, and let a pool thread take the table's locks.
        _released.Enqueue(id);
    }

    /// <summary>
    /// Frees what the driver's garbage holds: a full collection, the sweep of dropped references, and their
    /// releases applied before returning. Called by the object store when it needs room.
    /// </summary>
    public void CollectGarbage()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        _released.Flush();
    }

    protected override StoreAllocation Allocate(long payloadSize) => new DriverAllocation(Live().Store, _node.Store.Allocate(payloadSize));

    protected override bool TryGetReady(ObjectId id, out ObjectPayload payload)
    {
        if (Live().Objects.TryGet(id, out var entry) && entry.IsReady)
        {
            payload = Payload(entry);
            return true;
        }

        payload = default;
        return false;
    }

    public override Task? WhenAllReady(IReadOnlyList<ObjectRef> references, CancellationToken cancellationToken)
    {
        var objects = Live().Objects;
        var entries = new List<ObjectEntry>(references.Count);
        foreach (var reference in references)
        {
            if (!objects.TryGet(reference.Id, out var entry))
            {
                // The get of each in turn reports it.
                return Task.CompletedTask;
            }

            if (!entry.IsReady)
            {
                entries.Add(entry);
            }
            else if (entry.Error is not null)
            {
                return Task.CompletedTask;
            }
        }

        if (entries.Count == 0)
        {
            return Task.CompletedTask;
        }

        // The callbacks run on the thread that completes each object (a raylet loop): they only count.
        var countdown = new ReadyCountdown(entries.Count);
        Action<ObjectEntry> signal = countdown.Signal;
        foreach (var entry in entries)
        {
            entry.OnReady(signal);
        }

        return AwaitAsync(countdown.Task);

        async Task AwaitAsync(Task all)
        {
            try
            {
                await (cancellationToken.CanBeCanceled ? all.WaitAsync(cancellationToken) : all).WaitAsync(Stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (Stopping.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw Disposed();
            }
        }
    }

    protected override ValueTask<ObjectPayload> ResolveAsync(ObjectId id, CancellationToken cancellationToken)
    {
        if (!Live().Objects.TryGet(id, out var entry))
        {
            throw new ObjectNotFoundException(id);
        }

        return entry.IsReady ? new ValueTask<ObjectPayload>(Payload(entry)) : AwaitAsync();

        async ValueTask<ObjectPayload> AwaitAsync()
        {
            // A token, not a task: waits register and unregister with it in constant time, however many are in flight.
            var ready = entry.WhenReady();
            try
            {
                await (cancellationToken.CanBeCanceled ? ready.WaitAsync(cancellationToken) : ready).WaitAsync(Stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (Stopping.IsCancellationRequested)
            {
                throw Disposed();
            }

            return Payload(entry);
        }
    }

    protected override StoredRead ReadStored(ObjectId id)
    {
        var stored = StoredOf(id);
        _node.Store.Pin(stored);
        return Read(stored);
    }

    protected override async ValueTask<StoredRead> ReadStoredAsync(ObjectId id, CancellationToken cancellationToken)
    {
        var stored = StoredOf(id);
        await _node.Store.PinAsync(stored, cancellationToken).ConfigureAwait(false);
        return Read(stored);
    }

    protected override string Describe(ObjectId id) => _node.Scheduler.Describe(id);

    protected override void OnErrorObserved(ObjectId id) => _node.Objects.MarkErrorObserved(id);

    private static ObjectPayload Payload(ObjectEntry entry) => new(entry.Value, entry.Error, entry.Stored?.PayloadSize ?? -1);

    private StoredObject StoredOf(ObjectId id) =>
        Live().Objects.TryGet(id, out var entry) && entry.Stored is { } stored ? stored : throw new ObjectNotFoundException(id);

    /// <summary>The node, while the runtime is not disposed.</summary>
    /// <exception cref="ObjectDisposedException">The runtime was disposed.</exception>
    private RayletNode Live()
    {
        ThrowIfDisposed();
        return _node;
    }

    private StoredRead Read(StoredObject stored)
    {
        var store = _node.Store;
        try
        {
            return new StoredRead(store.Read(stored), () => store.Unpin(stored));
        }
        catch
        {
            store.Unpin(stored);
            throw;
        }
    }

    private void ApplyReleases()
    {
        while (_released.TryDequeue(out var id))
        {
            _node.Objects.Release(id, ReferenceKind.Local);
        }
    }

    private sealed class DriverAllocation(NodeObjectStore store, StoreRegion region) : StoreAllocation(store.Arena, region)
    {
        public override void Abort() => store.Abort(Region);
    }
}

/// <summary>Completes once its count of objects are ready, or at the first that holds an error.</summary>
internal sealed class ReadyCountdown(int count)
{
    private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _remaining = count;

    public Task Task => _all.Task;

    public void Signal(ObjectEntry entry)
    {
        if (entry.Error is not null || Interlocked.Decrement(ref _remaining) == 0)
        {
            _all.TrySetResult();
        }
    }
}
