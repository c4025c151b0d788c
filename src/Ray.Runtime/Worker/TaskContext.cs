using System.Text;

namespace Ray.Worker;

/// <summary>
/// The task or actor call a piece of code in a worker belongs to, flowing with the async context. When a task waits
/// for an object it is marked blocked, which frees its lease for the next queued task; that is what keeps a tree of
/// nested tasks deeper than the core count from deadlocking. The context also holds what the call printed without a
/// newline yet, so that its partial line is never glued to another call's output (<see cref="TaskOutput"/>).
/// </summary>
internal sealed class TaskContext
{
    private static readonly AsyncLocal<TaskContext?> CurrentContext = new();

    private readonly LeaseQueue? _lease;
    private int _blockedDepth;

    /// <summary>A context for a task (with the lease it runs on) or for an actor call (no lease).</summary>
    public TaskContext(ObjectId taskId, LeaseQueue? lease)
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

    /// <summary>What the call wrote to stdout (index 0) and stderr (index 1) after its last newline; guarded by itself.</summary>
    public StringBuilder?[] PartialLines { get; } = new StringBuilder?[2];

    /// <summary>Marks the task blocked until the returned scope ends; null for an actor call, which holds no lease.</summary>
    public IDisposable? Block()
    {
        if (_lease is null)
        {
            return null;
        }

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
            _lease!.OnUnblocked(this);
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
