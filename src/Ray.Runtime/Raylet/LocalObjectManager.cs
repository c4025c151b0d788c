using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.ObjectStore;
using Ray.Runtime.Protocol;

namespace Ray.Raylet;

/// <summary>
/// The raylet's side of the objects its workers put, read and reference (Ray's local object manager): stores their
/// puts, hands out and seals store regions, pins stored objects while a worker reads them (restoring spilled ones
/// first), counts which objects each worker borrows, and gives it all back when a worker dies. Requests that may
/// wait (an allocation that needs room, a read that needs a restore) run on the thread pool, never on the stream.
/// </summary>
internal sealed class LocalObjectManager(ObjectTable objects, NodeObjectStore store, Ownership.ObjectRefStreams streams, Func<IEnumerable<WorkerHandle>> workers, ILogger logger)
{
    private readonly object _collectionLock = new();
    private GarbageCollection? _collection;
    private ulong _nextCollection;

    /// <summary>Whether <paramref name="message"/> is one of this manager's.</summary>
    public static bool Handles(WorkerMessage message) => message.BodyCase is
        WorkerMessage.BodyOneofCase.Put or WorkerMessage.BodyOneofCase.Get or WorkerMessage.BodyOneofCase.Allocate or
        WorkerMessage.BodyOneofCase.AbortAllocation or WorkerMessage.BodyOneofCase.Read or WorkerMessage.BodyOneofCase.ReleaseRead or
        WorkerMessage.BodyOneofCase.AddReference or WorkerMessage.BodyOneofCase.ReleaseReferences or WorkerMessage.BodyOneofCase.GarbageCollected or
        WorkerMessage.BodyOneofCase.ErrorObserved or WorkerMessage.BodyOneofCase.ReadStream;

    public void Handle(WorkerHandle worker, WorkerMessage message)
    {
        switch (message.BodyCase)
        {
            case WorkerMessage.BodyOneofCase.Put:
                Put(worker, message.Put);
                break;
            case WorkerMessage.BodyOneofCase.Get:
                Subscribe(worker, message.Get.Id.ToObjectId());
                break;
            case WorkerMessage.BodyOneofCase.Allocate:
                Allocate(worker, message.Allocate);
                break;
            case WorkerMessage.BodyOneofCase.AbortAllocation:
                var region = new StoreRegion((long)message.AbortAllocation.Offset, (long)message.AbortAllocation.Size);
                if (worker.Objects.RemoveAllocation(region))
                {
                    store.Abort(region);
                }

                break;
            case WorkerMessage.BodyOneofCase.Read:
                Read(worker, message.Read);
                break;
            case WorkerMessage.BodyOneofCase.ReleaseRead:
                if (worker.Objects.RemovePin(message.ReleaseRead.Id.ToObjectId()) is { } pinned)
                {
                    store.Unpin(pinned);
                }

                break;
            case WorkerMessage.BodyOneofCase.AddReference:
                var id = message.AddReference.Id.ToObjectId();
                if (worker.Objects.Borrow(id) && !objects.AddReference(id, ReferenceKind.Borrower))
                {
                    // A reference to an object that no longer exists: its reads will say so.
                    worker.Objects.Return(id);
                }

                break;
            case WorkerMessage.BodyOneofCase.ReleaseReferences:
                foreach (var released in message.ReleaseReferences.Ids)
                {
                    var releasedId = released.ToObjectId();
                    if (worker.Objects.Return(releasedId))
                    {
                        objects.Release(releasedId, ReferenceKind.Borrower);
                    }
                }

                break;
            case WorkerMessage.BodyOneofCase.GarbageCollected:
                Collected(worker, message.GarbageCollected.RequestId);
                break;
            case WorkerMessage.BodyOneofCase.ErrorObserved:
                objects.MarkErrorObserved(message.ErrorObserved.Id.ToObjectId());
                break;
            case WorkerMessage.BodyOneofCase.ReadStream:
                // The reader borrows the item from the moment it is handed out, before the stream lets go of it.
                streams.Read(
                    message.ReadStream.StreamId.ToObjectId(),
                    message.ReadStream.RequestId,
                    item =>
                    {
                        if (worker.Objects.Borrow(item.Id) && !item.AddReference(ReferenceKind.Borrower))
                        {
                            worker.Objects.Return(item.Id);
                        }
                    },
                    read => worker.Send(new RayletMessage { StreamItem = read }));
                break;
        }
    }

    /// <summary>Registers a new object a worker creates (its result or its put): the worker borrows it from the start.</summary>
    public ObjectEntry CreateBorrowed(WorkerHandle worker, ObjectId id)
    {
        var entry = objects.Create(id, worker.ProcessId, ReferenceKind.Borrower);
        if (!worker.Objects.Borrow(id))
        {
            // Already borrowed (a forged or repeated id), or the worker is gone: count it once.
            objects.Release(entry, ReferenceKind.Borrower);
        }

        return entry;
    }

    /// <summary>Seals a region a worker filled; throws <see cref="ObjectCorruptedException"/> when it was not handed to it or is not sealed right.</summary>
    public StoredObject Seal(WorkerHandle worker, StoreLocation location)
    {
        var id = location.Id.ToObjectId();
        var region = location.Region();
        if (!worker.Objects.RemoveAllocation(region))
        {
            throw new ObjectCorruptedException(id, $"worker pid {worker.ProcessId} sealed a region (offset {region.Offset}, {region.PayloadSize} bytes) it was not given");
        }

        return store.Seal(id, region);
    }

    /// <summary>Gives back a region a worker filled for a result that is not wanted (a late twin of a retried task).</summary>
    public void Discard(WorkerHandle worker, StoreLocation location)
    {
        var region = location.Region();
        if (worker.Objects.RemoveAllocation(region))
        {
            store.Abort(region);
        }
    }

    /// <summary>Sends the object's value to the worker once it is ready (a stored object's size only: the worker reads it in place).</summary>
    public void Subscribe(WorkerHandle worker, ObjectId id)
    {
        if (!objects.TryGet(id, out var entry))
        {
            worker.Send(new RayletMessage { Object = new ObjectValue { Id = id.ToProto(), Error = RayErrors.NotFound(id) } });
            return;
        }

        entry.OnReady(ready =>
        {
            var value = new ObjectValue { Id = ready.Id.ToProto() };
            if (ready.Error is { } error)
            {
                value.Error = error;
            }
            else if (ready.Stored is { } stored)
            {
                value.StoredSize = (ulong)stored.PayloadSize;
            }
            else if (ready.Remote is { } remote)
            {
                // On other nodes only: the reader's read pulls it here.
                value.StoredSize = (ulong)remote.Size;
            }
            else
            {
                value.Value = ProtoConversions.Wrap(ready.Value);
            }

            worker.Send(new RayletMessage { Object = value });
        });
    }

    /// <summary>
    /// The store is short of memory: every worker collects its garbage, so its dropped references arrive. Completes
    /// when each has answered (its releases are handled by then) or died; a collection in progress is joined.
    /// </summary>
    public Task CollectGarbageInWorkers()
    {
        GarbageCollection collection;
        lock (_collectionLock)
        {
            if (_collection is { } running)
            {
                if (!running.IsStale)
                {
                    return running.Done.Task;
                }

                // A worker that never answered (stuck in a finalizer, say) must not hold every later collection up.
                logger.LogWarning("{Count} worker(s) did not answer a request to collect garbage within {Seconds} s: {Workers}.", running.Waiting.Count, GarbageCollection.StaleAfter.TotalSeconds, string.Join(", ", running.Waiting));
                running.Done.TrySetResult();
            }

            collection = new GarbageCollection(++_nextCollection, [.. workers()]);
            if (collection.Waiting.Count == 0)
            {
                return Task.CompletedTask;
            }

            _collection = collection;
        }

        foreach (var worker in collection.Waiting)
        {
            worker.Send(new RayletMessage { CollectGarbage = new CollectGarbage { RequestId = collection.Id } });
        }

        return collection.Done.Task;
    }

    /// <summary>A worker died: what it borrowed, pinned and was writing is given back.</summary>
    public void RemoveWorker(WorkerHandle worker, int? exitCode)
    {
        Collected(worker, requestId: null);
        var (borrowed, pins, allocations) = worker.Objects.Clear();
        foreach (var stored in pins)
        {
            store.Unpin(stored);
        }

        foreach (var region in allocations)
        {
            store.Abort(region);
        }

        foreach (var id in borrowed)
        {
            objects.Release(id, ReferenceKind.Borrower);
        }

        if (borrowed.Length + pins.Count + allocations.Length > 0)
        {
            logger.LogDebug(
                "{Worker} exited (code {ExitCode}): released {Borrowed} borrowed object(s), {Pins} pin(s) and {Allocations} unsealed region(s).",
                worker, exitCode, borrowed.Length, pins.Count, allocations.Length);
        }
    }

    /// <summary>A worker answered a collection (or died, with no request id); the collection ends when none is left.</summary>
    private void Collected(WorkerHandle worker, ulong? requestId)
    {
        GarbageCollection? finished = null;
        lock (_collectionLock)
        {
            if (_collection is { } collection && (requestId is null || requestId == collection.Id) &&
                collection.Waiting.Remove(worker) && collection.Waiting.Count == 0)
            {
                finished = collection;
                _collection = null;
            }
        }

        finished?.Done.TrySetResult();
    }

    private void Put(WorkerHandle worker, PutObject put)
    {
        var id = put.Id.ToObjectId();
        var contained = ProtoArguments.Ids(put.Contained);
        objects.AddReferences(contained, ReferenceKind.Contained);
        var entry = CreateBorrowed(worker, id);
        if (put.OutcomeCase != PutObject.OutcomeOneofCase.Stored)
        {
            objects.Complete(entry, put.Value.Memory, contained);
            return;
        }

        try
        {
            objects.Complete(entry, Seal(worker, put.Stored), contained);
        }
        catch (ObjectCorruptedException e)
        {
            logger.LogWarning("{Worker} put object {Id} wrongly: {Reason}", worker, id, e.Message);
            objects.ReleaseAll(contained, ReferenceKind.Contained);
            objects.Fail(entry, RayErrors.FromStore(e));
        }
    }

    private void Allocate(WorkerHandle worker, AllocateObject request)
    {
        // Making room may collect garbage, spill to disk or wait for other workers: off the stream's thread.
        ThreadPool.UnsafeQueueUserWorkItem(
            static state =>
            {
                var (manager, worker, request) = state;
                var reply = new ObjectAllocated { RequestId = request.RequestId, Size = request.Size };
                try
                {
                    var region = manager.AllocateFor(worker, (long)request.Size);
                    reply.Offset = (ulong)region.Offset;
                }
                catch (ObjectStoreFullException e)
                {
                    reply.Error = e.Message;
                    reply.Capacity = (ulong)e.CapacityBytes;
                    reply.Used = (ulong)e.UsedBytes;
                }

                worker.Send(new RayletMessage { Allocated = reply });
            },
            (this, worker, request),
            preferLocal: false);
    }

    private StoreRegion AllocateFor(WorkerHandle worker, long payloadSize)
    {
        var region = store.Allocate(payloadSize);
        if (!worker.Objects.AddAllocation(region))
        {
            store.Abort(region);
        }

        return region;
    }

    private void Read(WorkerHandle worker, ReadObject request)
    {
        var id = request.Id.ToObjectId();
        if (!objects.TryGet(id, out var entry))
        {
            worker.Send(new RayletMessage { Read = new ObjectRead { RequestId = request.RequestId, Error = RayErrors.NotFound(id) } });
            return;
        }

        entry.OnReady(ready =>
        {
            if (objects.Pulls is { } pulls && ObjectManager.PullManager.NeedsPull(ready))
            {
                // Its copies are on other nodes: pull one here first, off the stream's thread.
                _ = PullAndReadAsync(pulls, worker, request, ready);
                return;
            }

            ServeRead(worker, request, ready);
        });
    }

    private async Task PullAndReadAsync(ObjectManager.PullManager pulls, WorkerHandle worker, ReadObject request, ObjectEntry entry)
    {
        if (await pulls.MakeLocalAsync(entry).ConfigureAwait(false) is { } error)
        {
            worker.Send(new RayletMessage { Read = new ObjectRead { RequestId = request.RequestId, Error = error } });
            return;
        }

        ServeRead(worker, request, entry);
    }

    private void ServeRead(WorkerHandle worker, ReadObject request, ObjectEntry ready)
    {
        {
            if (ready.Stored is not { } stored)
            {
                var reply = new ObjectRead { RequestId = request.RequestId };
                if (ready.Error is { } error)
                {
                    reply.Error = error;
                }
                else
                {
                    reply.Value = ProtoConversions.Wrap(ready.Value);
                }

                worker.Send(new RayletMessage { Read = reply });
                return;
            }

            bool pinned;
            try
            {
                pinned = store.TryPin(stored);
            }
            catch (ObjectNotFoundException e)
            {
                worker.Send(new RayletMessage { Read = new ObjectRead { RequestId = request.RequestId, Error = RayErrors.FromStore(e) } });
                return;
            }

            if (pinned)
            {
                ReplyPinned(worker, request.RequestId, stored);
                return;
            }

            // Spilled: bring it back from disk off the stream's thread.
            _ = RestoreAndReplyAsync(worker, request.RequestId, stored);
        }
    }

    private async Task RestoreAndReplyAsync(WorkerHandle worker, ulong requestId, StoredObject stored)
    {
        try
        {
            await store.PinAsync(stored, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ObjectStoreFullException or ObjectCorruptedException or ObjectNotFoundException or IOException)
        {
            logger.LogWarning("Could not restore object {Id} for {Worker}: {Reason}", stored.Id, worker, e.Message);
            worker.Send(new RayletMessage { Read = new ObjectRead { RequestId = requestId, Error = RayErrors.FromStore(e) } });
            return;
        }

        ReplyPinned(worker, requestId, stored);
    }

    private void ReplyPinned(WorkerHandle worker, ulong requestId, StoredObject stored)
    {
        if (!worker.Objects.AddPin(stored))
        {
            store.Unpin(stored);
            return;
        }

        worker.Send(new RayletMessage
        {
            Read = new ObjectRead
            {
                RequestId = requestId,
                Stored = ProtoArguments.Stored(stored.Id, new StoreRegion(stored.Offset, stored.PayloadSize)),
            },
        });
    }

    /// <summary>One request to every worker to collect garbage, and the workers that have not answered yet.</summary>
    private sealed class GarbageCollection(ulong id, HashSet<WorkerHandle> waiting)
    {
        public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(10);

        private readonly long _started = Environment.TickCount64;

        public ulong Id { get; } = id;

        /// <summary>Whether it has waited so long for its workers that a new one should start.</summary>
        public bool IsStale => Environment.TickCount64 - _started > StaleAfter.TotalMilliseconds;

        public HashSet<WorkerHandle> Waiting { get; } = waiting;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
