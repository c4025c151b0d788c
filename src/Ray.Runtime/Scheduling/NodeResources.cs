namespace Ray.Scheduling;

/// <summary>
/// The node's free resources, shared by task leases and actors. Its lock is a leaf: nothing is called while
/// it is held, and the notifications that one party freed resources for the other run on the thread pool,
/// so the scheduler and the actor manager never wait on each other's locks.
/// </summary>
internal sealed class NodeResources(ResourceSet total)
{
    private readonly object _lock = new();
    private ResourceSet _available = total;
    private int _actorsWaiting;

    public ResourceSet Total { get; } = total;

    public ResourceSet Available
    {
        get
        {
            lock (_lock)
            {
                return _available;
            }
        }
    }

    /// <summary>Raised after an actor gave resources back: queued tasks may now fit.</summary>
    public event Action? ReleasedByActor;

    /// <summary>Raised after a task lease gave resources back while an actor waits for some.</summary>
    public event Action? ReleasedByTask;

    public bool TryAcquire(ResourceSet request)
    {
        lock (_lock)
        {
            if (!_available.Contains(request))
            {
                return false;
            }

            _available = _available.Subtract(request);
            return true;
        }
    }

    public void ReleaseFromTask(ResourceSet resources)
    {
        Release(resources);
        if (Volatile.Read(ref _actorsWaiting) > 0)
        {
            Notify(ReleasedByTask);
        }
    }

    public void ReleaseFromActor(ResourceSet resources)
    {
        Release(resources);
        Notify(ReleasedByActor);
    }

    /// <summary>Tells the node whether actors wait for resources, so task releases are announced only then.</summary>
    public void SetActorsWaiting(bool waiting) => Volatile.Write(ref _actorsWaiting, waiting ? 1 : 0);

    private static void Notify(Action? handler)
    {
        if (handler is not null)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static h => h(), handler, preferLocal: false);
        }
    }

    private void Release(ResourceSet resources)
    {
        lock (_lock)
        {
            _available = _available.Add(resources);
        }
    }
}
