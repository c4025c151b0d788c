using System.Collections.Concurrent;

namespace Ray.Core;

/// <summary>
/// The objects whose <see cref="ObjectRef"/>s were collected, waiting to be released. The reference tracker's sweeps
/// only enqueue (they run on the finalizer thread, which must never wait for a lock); <paramref name="apply"/> takes
/// them off on the thread pool, one
/// drain at a time. <see cref="Flush"/> applies them now, after any drain in progress has finished, so that its
/// caller sees every release queued before it.
/// </summary>
internal sealed class ReleaseQueue(Action apply)
{
    private readonly ConcurrentQueue<ObjectId> _released = new();
    private readonly Lock _applying = new();
    private int _draining;

    /// <summary>Queues a release and makes sure a drain will see it.</summary>
    public void Enqueue(ObjectId id)
    {
        _released.Enqueue(id);
        if (Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static queue => queue.DrainLoop(), this, preferLocal: false);
        }
    }

    public bool TryDequeue(out ObjectId id) => _released.TryDequeue(out id);

    /// <summary>Applies every queued release before returning, including one a pool thread is applying right now.</summary>
    public void Flush()
    {
        lock (_applying)
        {
            apply();
        }
    }

    private void DrainLoop()
    {
        while (true)
        {
            Flush();
            Volatile.Write(ref _draining, 0);

            // A release queued after the last look but before the flag was cleared must not be stranded.
            if (_released.IsEmpty || Interlocked.CompareExchange(ref _draining, 1, 0) != 0)
            {
                return;
            }
        }
    }
}
