using Ray.Core;
using Ray.Runtime.Protocol;

namespace Ray.Worker;

/// <summary>
/// The worker's side of a lease: its tasks run one at a time in arrival order, except that a task waiting
/// for an object lets the next one start (and the raylet is told, so it can queue more work here). Sync tasks
/// run back to back on one thread without a thread-pool hop between them.
/// </summary>
internal sealed class LeaseQueue
{
    private readonly TaskExecutor _executor;
    private readonly Queue<ExecuteTask> _pending = new();
    private int _runners;
    private int _inProgress;

    public LeaseQueue(ulong id, TaskExecutor executor)
    {
        Id = id;
        _executor = executor;
    }

    public ulong Id { get; }

    /// <summary>Set once the queue is idle and dropped; a late task for the same lease gets a new queue.</summary>
    public bool Closed { get; private set; }

    /// <summary>Queues a task; false if this queue was closed concurrently.</summary>
    public bool TryEnqueue(ExecuteTask task)
    {
        bool runInline;
        lock (_pending)
        {
            if (Closed)
            {
                return false;
            }

            _pending.Enqueue(task);
            if (_runners > 0)
            {
                return true;
            }

            _runners++;
            runInline = task.RunInline && RayletReader.IsReadingThread;
        }

        // A short task runs on the reading thread; it hands reading over if it ever has to block.
        if (runInline)
        {
            _ = RunAsync();
        }
        else
        {
            QueueRunner();
        }

        return true;
    }

    /// <summary>Removes a task that has not started; false if it is not queued here.</summary>
    public bool TryRemove(ObjectId taskId, out ExecuteTask? removed)
    {
        lock (_pending)
        {
            removed = null;
            var kept = new Queue<ExecuteTask>(_pending.Count);
            while (_pending.TryDequeue(out var task))
            {
                if (removed is null && task.TaskId.Is(taskId))
                {
                    removed = task;
                }
                else
                {
                    kept.Enqueue(task);
                }
            }

            while (kept.TryDequeue(out var task))
            {
                _pending.Enqueue(task);
            }

            return removed is not null;
        }
    }

    public void OnBlocked(TaskContext context)
    {
        lock (_pending)
        {
            _runners--;
            if (_runners == 0 && _pending.Count > 0)
            {
                _runners++;
                QueueRunner();
            }
        }

        _executor.Send(new WorkerMessage { Blocked = new TaskBlocked { TaskId = context.TaskId.ToProto(), LeaseId = Id } });
    }

    public void OnUnblocked(TaskContext context)
    {
        lock (_pending)
        {
            _runners++;
        }

        _executor.Send(new WorkerMessage { Unblocked = new TaskBlocked { TaskId = context.TaskId.ToProto(), LeaseId = Id } });
    }

    private void QueueRunner() =>
        ThreadPool.UnsafeQueueUserWorkItem(static queue => _ = queue.RunAsync(), this, preferLocal: false);

    private async Task RunAsync()
    {
        while (true)
        {
            ExecuteTask next;
            lock (_pending)
            {
                // Another runner took over while this one's task was blocked: one unblocked runner is enough.
                if (_runners > 1 || _pending.Count == 0)
                {
                    _runners--;
                    if (_runners == 0 && _pending.Count == 0 && _inProgress == 0)
                    {
                        Closed = true;
                        _executor.Forget(this);
                    }

                    return;
                }

                next = _pending.Dequeue();
                _inProgress++;
            }

            try
            {
                await _executor.ExecuteAsync(next, this).ConfigureAwait(false);
            }
            finally
            {
                lock (_pending)
                {
                    _inProgress--;
                }
            }
        }
    }
}
