using Ray.Core;
using Ray.Infrastructure;
using Ray.Runtime.Protocol;

namespace Ray.Worker;

/// <summary>
/// Counts a worker's <see cref="ObjectRef"/> instances per object and tells the raylet when the worker starts and
/// stops borrowing an object: an <c>AddReference</c> when the first instance appears (a deserialized reference),
/// a batched <c>ReleaseReferences</c> when the last one is collected. The first reference to an object the worker
/// creates itself (a submitted task's result, a put) is implied by the message that creates it. Messages about one
/// object are sent under one lock, so the raylet sees them in the order the counts changed.
/// </summary>
internal sealed class ReferenceCounter
{
    private readonly object _lock = new();
    private readonly Dictionary<ObjectId, int> _counts = [];
    private readonly Dictionary<ObjectId, long> _pressure = [];
    private readonly Action<WorkerMessage> _send;
    private readonly Action<ObjectId> _dropped;
    private readonly ReleaseQueue _released;

    public ReferenceCounter(Action<WorkerMessage> send, Action<ObjectId> dropped)
    {
        _send = send;
        _dropped = dropped;
        _released = new ReleaseQueue(Drain);
    }

    /// <summary>Objects this worker holds references to.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _counts.Count;
            }
        }
    }

    /// <summary>Counts the reference of an object this worker just created; the creating message tells the raylet.</summary>
    public void Adopt(ObjectId id)
    {
        lock (_lock)
        {
            _counts[id] = _counts.GetValueOrDefault(id) + 1;
        }
    }

    /// <summary>
    /// Tells the garbage collector that a held object stands for <paramref name="bytes"/> of shared memory, until the
    /// worker lets go of it: references are freed by collections, which should come as often as that memory warrants.
    /// </summary>
    public void AddPressure(ObjectId id, long bytes)
    {
        lock (_lock)
        {
            if (_counts.ContainsKey(id) && _pressure.TryAdd(id, bytes))
            {
                GC.AddMemoryPressure(bytes);
            }
        }
    }

    /// <summary>Counts a new instance; the first one makes this worker a borrower of the object.</summary>
    public void Add(ObjectId id, OwnerAddress owner)
    {
        lock (_lock)
        {
            var count = _counts.GetValueOrDefault(id);
            if (count == 0)
            {
                _send(new WorkerMessage { AddReference = new AddReference { Id = id.ToProto(), Owner = owner.ToProto() } });
            }

            _counts[id] = count + 1;
        }
    }

    /// <summary>An instance was collected. Called by the reference tracker on the finalizer thread, so it only queues; a pool thread does the rest.</summary>
    public void Release(ObjectId id) => _released.Enqueue(id);

    /// <summary>Applies the queued releases now and tells the raylet about the objects no longer held.</summary>
    public void Drain()
    {
        lock (_lock)
        {
            ReleaseReferences? message = null;
            while (_released.TryDequeue(out var id))
            {
                if (!_counts.TryGetValue(id, out var count))
                {
                    continue;
                }

                if (count > 1)
                {
                    _counts[id] = count - 1;
                    continue;
                }

                _counts.Remove(id);
                if (_pressure.Remove(id, out var bytes))
                {
                    GC.RemoveMemoryPressure(bytes);
                }

                _dropped(id);
                (message ??= new ReleaseReferences()).Ids.Add(id.ToProto());
            }

            if (message is not null)
            {
                _send(new WorkerMessage { ReleaseReferences = message });
            }
        }
    }

}
