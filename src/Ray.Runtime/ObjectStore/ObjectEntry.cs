using Ray.Runtime.Protocol;

namespace Ray.ObjectStore;

/// <summary>
/// One object in the node's object table: pending until its task finishes, then a value or an error, never
/// changing after that. Waiters are callbacks (the scheduler, worker subscriptions) or an awaitable task.
/// </summary>
internal sealed class ObjectEntry
{
    private readonly object _gate = new();
    private List<Action<ObjectEntry>>? _callbacks;
    private TaskCompletionSource? _ready;
    private volatile bool _isReady;

    public ObjectEntry(ObjectId id) => Id = id;

    public ObjectId Id { get; }

    public bool IsReady => _isReady;

    /// <summary>The serialized value; valid once <see cref="IsReady"/> and <see cref="Error"/> is null.</summary>
    public ReadOnlyMemory<byte> Value { get; private set; }

    /// <summary>The failure stored instead of a value.</summary>
    public ErrorInfo? Error { get; private set; }

    public bool TrySetValue(ReadOnlyMemory<byte> value) => TryComplete(value, null);

    public bool TrySetError(ErrorInfo error) => TryComplete(default, error);

    /// <summary>Runs <paramref name="callback"/> once the object is ready: now if it already is.</summary>
    public void OnReady(Action<ObjectEntry> callback)
    {
        lock (_gate)
        {
            if (!_isReady)
            {
                (_callbacks ??= new List<Action<ObjectEntry>>(1)).Add(callback);
                return;
            }
        }

        callback(this);
    }

    /// <summary>A task that completes (never faults) when the object is ready.</summary>
    public Task WhenReady()
    {
        if (_isReady)
        {
            return Task.CompletedTask;
        }

        lock (_gate)
        {
            if (_isReady)
            {
                return Task.CompletedTask;
            }

            // Continuations run off the thread that completes the object, which is a raylet loop.
            _ready ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _ready.Task;
        }
    }

    private bool TryComplete(ReadOnlyMemory<byte> value, ErrorInfo? error)
    {
        List<Action<ObjectEntry>>? callbacks;
        TaskCompletionSource? ready;
        lock (_gate)
        {
            if (_isReady)
            {
                return false;
            }

            Value = value;
            Error = error;
            _isReady = true;
            callbacks = _callbacks;
            ready = _ready;
            _callbacks = null;
            _ready = null;
        }

        ready?.TrySetResult();
        if (callbacks is not null)
        {
            foreach (var callback in callbacks)
            {
                callback(this);
            }
        }

        return true;
    }
}
