using System.Collections.Concurrent;
using Ray.Actors;
using Ray.Worker;
using Ray.Infrastructure;
using Ray.ObjectStore;
using Ray.Runtime.Protocol;
using Ray.Scheduling;
using Ray.Transport;

namespace Ray.Core;

/// <summary>
/// The core worker of a process connected to a raylet over its stream: a worker, or the driver of a cluster.
/// Submissions, puts and object requests travel to the raylet over that stream. The raylet owns what the process
/// submits on its behalf and sends those results here unasked, so awaiting them costs no request. Objects received
/// are kept while the process holds a reference to them. On the raylet's machine, large objects are read in place in
/// the node's shared memory, which the process maps when it registers (each read pins the object at the raylet until
/// it is done); a driver on another machine gets their bytes instead. Once a cluster driver's runtime is disposed,
/// every call throws <see cref="ObjectDisposedException"/>, and so do the gets and waits in flight.
/// </summary>
internal sealed class ConnectedCoreWorker : CoreWorker
{
    private readonly ConcurrentDictionary<ObjectId, TaskCompletionSource<ObjectPayload>> _objects = new();
    private readonly RequestCorrelator _requests = new();
    private readonly Action<WorkerMessage> _send;

    public ConnectedCoreWorker(Action<WorkerMessage> send)
    {
        _send = send;
        References = new ReferenceCounter(send, id => _objects.TryRemove(id, out _));
    }

    /// <summary>The worker's references, per object.</summary>
    public ReferenceCounter References { get; }

    /// <summary>Maps the node's shared-memory store, as the raylet described it at registration.</summary>
    public void AttachStore(WorkerRegistered registered)
    {
        Ids = new IdGenerator(new JobId(registered.JobId));
        if (registered.NodeId.Length > 0 && Guid.TryParseExact(registered.NodeId, "n", out var node))
        {
            LocalOwner = new OwnerAddress(node, Environment.ProcessId);
        }

        MaxInlineObjectSize = (int)Math.Min(int.MaxValue, registered.MaxInlineObjectSize);
        if (registered.ObjectStorePath.Length > 0)
        {
            Arena = SharedMemoryArena.Open(registered.ObjectStorePath, (long)registered.ObjectStoreCapacity);
        }
    }

    public override ActorId CreateActor(ActorClassDescriptor actorClass, RemoteFunctionDescriptor constructor, ActorOptions? options, TaskArgument[] arguments)
    {
        ThrowIfDisposed();
        var id = Ids.NextActor();
        _send(new WorkerMessage { CreateActor = ActorSpecs.Create(id, actorClass, constructor, options, arguments) });
        GC.KeepAlive(arguments);
        return id;
    }

    public override ObjectId SubmitActorTask(ActorId actor, ActorClassDescriptor actorClass, RemoteFunctionDescriptor method, TaskArgument[] arguments)
    {
        ThrowIfDisposed();
        var id = Ids.NextReturn();
        Expect(id);
        References.Adopt(id);
        _send(new WorkerMessage { SubmitActorTask = ActorSpecs.Call(id, actor, actorClass, method, arguments) });
        GC.KeepAlive(arguments);
        return id;
    }

    public override void KillActor(ActorId actor) => Send(new WorkerMessage { KillActor = new KillActor { ActorId = actor.Value.ToProto() } });

    public override async ValueTask<(ActorId Id, string ClassName)> LookupActorAsync(string name, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var (requestId, reply) = _requests.Begin<ActorLookupReply>(cancellationToken);
        _send(new WorkerMessage { LookupActor = new LookupActor { RequestId = requestId, Name = name } });
        ActorLookupReply found;
        using (EnterBlocked())
        {
            found = await reply.ConfigureAwait(false);
        }

        return found.Error.Length > 0
            ? throw new ArgumentException(found.Error, nameof(name))
            : (new ActorId(found.ActorId.ToObjectId()), found.ClassName);
    }

    /// <summary>The raylet's answer to a named-actor look-up.</summary>
    public void OnActorLookup(ActorLookupReply reply) => _requests.Complete(reply.RequestId, reply);

    /// <summary>The raylet's answer to a query about the node or the cluster.</summary>
    public void OnQueryReply(NodeQueryReply reply) => _requests.Complete(reply.RequestId, reply);

    /// <summary>The connection to the raylet ended: whatever waits for an answer fails now instead of hanging.</summary>
    public void OnDisconnected(Exception reason)
    {
        _requests.FailAll(reason);
        foreach (var pending in _objects.Values)
        {
            pending.TrySetResult(new ObjectPayload(default, RayErrors.System("get", $"the connection to the node ended: {reason.Message}")));
        }
    }

    /// <summary>
    /// The cluster driver's runtime is disposed: what waits for an answer or a value fails with
    /// <see cref="ObjectDisposedException"/> now, and later calls throw it, instead of waiting on a stream that is closing.
    /// </summary>
    public override void Shutdown()
    {
        base.Shutdown();
        var disposed = Disposed();
        _requests.FailAll(disposed);
        foreach (var pending in _objects.Values)
        {
            pending.TrySetException(disposed);
        }
    }

    /// <summary>Asks the raylet about the node or the cluster, and waits for the answer.</summary>
    public Task<NodeQueryReply> QueryAsync(NodeQueryKind kind, CancellationToken cancellationToken) =>
        QueryAsync(new NodeQuery { Kind = kind }, cancellationToken);

    public override async Task<FailedCallRecord> FetchFailedCallAsync(ObjectId taskId, CancellationToken cancellationToken)
    {
        var reply = await QueryAsync(new NodeQuery { Kind = NodeQueryKind.FailedCall, TaskId = taskId.ToProto() }, cancellationToken).ConfigureAwait(false);
        return reply.Unavailable.Length > 0 ? throw new Replay.ReplayUnavailableException(reply.Unavailable) : reply.FailedCall;
    }

    public override FailedCallRecord FetchFailedCall(ObjectId taskId, CancellationToken cancellationToken)
    {
        // The answer arrives on the reading thread, which must not be the one waiting for it.
        RayletReader.LeaveReadingThread();
        return base.FetchFailedCall(taskId, cancellationToken);
    }

    private async Task<NodeQueryReply> QueryAsync(NodeQuery query, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var (requestId, reply) = _requests.Begin<NodeQueryReply>(cancellationToken);
        query.RequestId = requestId;
        _send(new WorkerMessage { Query = query });
        NodeQueryReply answer;
        using (EnterBlocked())
        {
            answer = await reply.ConfigureAwait(false);
        }

        return answer.Error.Length > 0 ? throw new RayException(answer.Error) : answer;
    }

    /// <summary>The same, for the blocking APIs; the reading thread is left first, since the answer arrives there.</summary>
    public NodeQueryReply Query(NodeQueryKind kind)
    {
        RayletReader.LeaveReadingThread();
        return QueryAsync(kind, CancellationToken.None).GetAwaiter().GetResult();
    }

    public override ObjectId SubmitTask(RemoteFunctionDescriptor function, TaskOptions? options, TaskArgument[] arguments)
    {
        ThrowIfDisposed();
        var id = Ids.NextReturn();
        var submit = TaskSpecs.Submit(id, function, options, arguments);

        Expect(id);
        References.Adopt(id);
        _send(new WorkerMessage { Submit = submit });
        GC.KeepAlive(arguments);
        return id;
    }

    public override ObjectId Put(SerializedValue value)
    {
        ThrowIfDisposed();
        var id = Ids.NextPut();
        var put = new PutObject { Id = id.ToProto() };
        ObjectPayload payload;
        if (value.Allocation is { } allocation)
        {
            allocation.Seal(id);
            put.Stored = ProtoArguments.Stored(id, allocation.Region);
            payload = new ObjectPayload(default, null, allocation.Region.PayloadSize);
        }
        else
        {
            put.Value = ProtoConversions.Wrap(value.Bytes);
            payload = new ObjectPayload(value.Bytes, null);
        }

        ProtoArguments.AddIds(put.Contained, value.Contained);
        var stored = new TaskCompletionSource<ObjectPayload>(TaskCreationOptions.RunContinuationsAsynchronously);
        stored.SetResult(payload);
        _objects[id] = stored;
        References.Adopt(id);
        if (payload.IsStored)
        {
            References.AddPressure(id, payload.StoredSize);
        }

        _send(new WorkerMessage { Put = put });
        return id;
    }

    public override async ValueTask<ObjectId> ReadStreamAsync(ObjectId stream, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var (requestId, reply) = _requests.Begin<StreamItemRead>(cancellationToken);
        _send(new WorkerMessage { ReadStream = new ReadStream { RequestId = requestId, StreamId = stream.ToProto() } });
        StreamItemRead read;
        using (EnterBlocked())
        {
            read = await reply.ConfigureAwait(false);
        }

        if (read.Failure.Length > 0)
        {
            throw new ObjectNotFoundException(stream, read.Failure);
        }

        return read.ItemId is { } item ? item.ToObjectId() : ObjectId.Nil;
    }

    /// <summary>
    /// The raylet's answer to a stream read: the item (whose reference the raylet counted for this process, and whose value
    /// comes with it when small) or the end. A reader that stopped waiting meanwhile gives the item back.
    /// </summary>
    public void OnStreamItem(StreamItemRead read)
    {
        var item = read.ItemId?.ToObjectId() ?? ObjectId.Nil;
        if (!item.IsNil && read.OutcomeCase == StreamItemRead.OutcomeOneofCase.None)
        {
            // Read from a stream another node owns: the value comes when this process asks for it.
            References.Adopt(item);
        }
        else if (!item.IsNil)
        {
            var payload = read.OutcomeCase switch
            {
                StreamItemRead.OutcomeOneofCase.Error => new ObjectPayload(default, read.Error),
                StreamItemRead.OutcomeOneofCase.StoredSize => new ObjectPayload(default, null, (long)read.StoredSize),
                _ => new ObjectPayload(read.Value.Memory, null),
            };
            var known = new TaskCompletionSource<ObjectPayload>(TaskCreationOptions.RunContinuationsAsynchronously);
            known.SetResult(payload);
            _objects[item] = known;
            References.Adopt(item);
            if (payload.IsStored)
            {
                References.AddPressure(item, payload.StoredSize);
            }
        }

        if (!_requests.Complete(read.RequestId, read) && !item.IsNil)
        {
            References.Release(item);
        }
    }

    public override void Cancel(ObjectId id, bool force) => Send(new WorkerMessage { Cancel = new CancelTask { TaskId = id.ToProto(), Force = force } });

    public override Task WhenReady(ObjectId id) => Request(id).Task;

    public override void AddReference(ObjectId id, OwnerAddress owner) => References.Add(id, owner);

    public override void ReleaseReference(ObjectId id) => References.Release(id);

    public override IDisposable? EnterBlocked()
    {
        // A short task running on the reading thread must not block it: the value it waits for arrives there.
        RayletReader.LeaveReadingThread();
        return TaskContext.Current?.Block();
    }

    /// <summary>Collects garbage at the raylet's request, releases the references it held, and says so.</summary>
    public void CollectGarbage(ulong requestId)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        References.Drain();
        _send(new WorkerMessage { GarbageCollected = new GarbageCollected { RequestId = requestId } });
    }

    /// <summary>Reads in place an object the raylet pinned for this worker (a task's argument sent by location).</summary>
    /// <exception cref="ObjectCorruptedException">The region does not hold the object intact.</exception>
    public ReadOnlyMemory<byte> ReadPinned(StoreLocation location) =>
        (Arena ?? throw new InvalidOperationException("This worker has not mapped the object store yet."))
            .Read((long)location.Offset, location.Id.ToObjectId(), (long)location.Size);

    /// <summary>Pins a stored object and reads it in place (task arguments use this).</summary>
    public ValueTask<StoredRead> ReadAsync(ObjectId id, CancellationToken cancellationToken) => ReadStoredAsync(id, cancellationToken);

    /// <summary>An object the raylet sent in answer to a request, or a result of a task this worker submitted.</summary>
    public void OnObjectValue(ObjectValue value)
    {
        var id = value.Id.ToObjectId();
        if (value.OutcomeCase == ObjectValue.OutcomeOneofCase.StoredSize)
        {
            References.AddPressure(id, (long)value.StoredSize);
        }

        if (_objects.TryGetValue(id, out var request))
        {
            request.TrySetResult(value.OutcomeCase switch
            {
                ObjectValue.OutcomeOneofCase.Error => new ObjectPayload(default, value.Error),
                ObjectValue.OutcomeOneofCase.StoredSize => new ObjectPayload(default, null, (long)value.StoredSize),
                _ => new ObjectPayload(value.Value.Memory, null),
            });
        }
    }

    /// <summary>The raylet's answer to an allocation request.</summary>
    public void OnAllocated(ObjectAllocated reply) => _requests.Complete(reply.RequestId, reply);

    /// <summary>The raylet's answer to a read request.</summary>
    public void OnRead(ObjectRead reply) => _requests.Complete(reply.RequestId, reply);

    protected override StoreAllocation Allocate(long payloadSize)
    {
        ThrowIfDisposed();
        var arena = Arena ?? throw new InvalidOperationException("This worker has not mapped the object store yet.");
        var (requestId, reply) = _requests.Begin<ObjectAllocated>();

        // The answer arrives on the reading thread, which must not be the one waiting for it.
        RayletReader.LeaveReadingThread();
        _send(new WorkerMessage { Allocate = new AllocateObject { RequestId = requestId, Size = (ulong)payloadSize } });
        var allocated = reply.GetAwaiter().GetResult();
        if (allocated.Error.Length > 0)
        {
            throw new ObjectStoreFullException(allocated.Error, payloadSize, (long)allocated.Capacity, (long)allocated.Used);
        }

        return new WorkerAllocation(arena, new StoreRegion((long)allocated.Offset, payloadSize), _send);
    }

    protected override bool TryGetReady(ObjectId id, out ObjectPayload payload)
    {
        ThrowIfDisposed();
        if (_objects.TryGetValue(id, out var request) && request.Task.IsCompletedSuccessfully)
        {
            payload = request.Task.Result;
            return true;
        }

        payload = default;
        return false;
    }

    protected override ValueTask<ObjectPayload> ResolveAsync(ObjectId id, CancellationToken cancellationToken)
    {
        var task = Request(id).Task;
        return new ValueTask<ObjectPayload>(cancellationToken.CanBeCanceled ? task.WaitAsync(cancellationToken) : task);
    }

    protected override StoredRead ReadStored(ObjectId id)
    {
        RayletReader.LeaveReadingThread();
        return ReadStoredAsync(id, CancellationToken.None).AsTask().GetAwaiter().GetResult();
    }

    protected override async ValueTask<StoredRead> ReadStoredAsync(ObjectId id, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var (requestId, request) = _requests.Begin<ObjectRead>();
        _send(new WorkerMessage { Read = new ReadObject { RequestId = requestId, Id = id.ToProto() } });
        ObjectRead reply;
        try
        {
            reply = await request.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The pin the raylet grants anyway must still be given back.
            _ = request.ContinueWith(
                static (read, state) => ((ConnectedCoreWorker)state!).ReleaseRead(read.Result),
                this,
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnRanToCompletion,
                TaskScheduler.Default);
            throw;
        }

        switch (reply.OutcomeCase)
        {
            case ObjectRead.OutcomeOneofCase.Stored:
                try
                {
                    var payload = Arena!.Read((long)reply.Stored.Offset, id, (long)reply.Stored.Size);
                    return new StoredRead(payload, () => ReleaseRead(reply));
                }
                catch
                {
                    ReleaseRead(reply);
                    throw;
                }

            case ObjectRead.OutcomeOneofCase.Value:
                return new StoredRead(reply.Value.Memory, static () => { });
            default:
                throw RayErrors.ToException(reply.Error ?? RayErrors.NotFound(id));
        }
    }

    protected override string Describe(ObjectId id) => "the worker asked its raylet for it and it is not ready yet";

    protected override void OnErrorObserved(ObjectId id) => _send(new WorkerMessage { ErrorObserved = new ObjectErrorObserved { Id = id.ToProto() } });

    private void ReleaseRead(ObjectRead read)
    {
        if (read.OutcomeCase == ObjectRead.OutcomeOneofCase.Stored)
        {
            _send(new WorkerMessage { ReleaseRead = new ReleaseRead { Id = read.Stored.Id } });
        }
    }

    /// <summary>Sends a message that acts on the node, once this process's runtime is known not to be disposed.</summary>
    private void Send(WorkerMessage message)
    {
        ThrowIfDisposed();
        _send(message);
    }

    /// <summary>Registers an object this worker owns; the raylet will send its value unasked.</summary>
    private void Expect(ObjectId id) =>
        _objects.TryAdd(id, new TaskCompletionSource<ObjectPayload>(TaskCreationOptions.RunContinuationsAsynchronously));

    private TaskCompletionSource<ObjectPayload> Request(ObjectId id)
    {
        ThrowIfDisposed();
        if (_objects.TryGetValue(id, out var existing))
        {
            return existing;
        }

        var request = new TaskCompletionSource<ObjectPayload>(TaskCreationOptions.RunContinuationsAsynchronously);
        var winner = _objects.GetOrAdd(id, request);
        if (winner != request)
        {
            return winner;
        }

        if (IsDisposed)
        {
            // Shutdown went over the requests before this one was added.
            request.TrySetException(Disposed());
            return request;
        }

        _send(new WorkerMessage { Get = new GetObject { Id = id.ToProto() } });
        return request;
    }

    private sealed class WorkerAllocation(SharedMemoryArena arena, StoreRegion region, Action<WorkerMessage> send) : StoreAllocation(arena, region)
    {
        public override void Abort() =>
            send(new WorkerMessage { AbortAllocation = new AbortAllocation { Offset = (ulong)Region.Offset, Size = (ulong)Region.PayloadSize } });
    }
}
