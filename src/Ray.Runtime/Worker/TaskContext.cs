namespace Ray.Worker;

/// <summary>
/// The task a piece of code in a worker belongs to, flowing with the async context. When the task waits for
/// an object it is marked blocked, which frees its lease for the next queued task; that is what keeps a tree
/// of nested tasks deeper than the core count from deadlocking.
/// </summary>
internal sealed class TaskContext
{
    private static readonly AsyncLocal<TaskContext?> CurrentContext = new();

    private readonly LeaseQueue _lease;
    private int _blockedDepth;

    public TaskContext(ObjectId taskId, LeaseQueue lease)
    {
        TaskId = taskId;
        _lease = lease;
    }

    public static TaskContext? Current
    {
        get => CurrentContext.Value;
        set => CurrentContext.Value = value;
    }

    public ObjectId TaskId { get; }

    public IDisposable Block()
    {
        if (Interlocked.Increment(ref _blockedDepth) == 1)
        {
            _lease.OnBlocked(this);
        }

        return new Unblocker(this);
    }

    private void Unblock()
    {
        if (Interlocked.Decrement(ref _blockedDepth) == 0)
        {
            _lease.OnUnblocked(this);
        }
    }

    private sealed class Unblocker(TaskContext context) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                context.Unblock();
            }
        }
    }
}
