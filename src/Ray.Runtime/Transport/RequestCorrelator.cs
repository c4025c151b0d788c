using System.Collections.Concurrent;

namespace Ray.Transport;

/// <summary>
/// Matches replies to requests on one stream, whatever their kinds: <see cref="Begin{TReply}"/> hands out an id and a
/// task, <see cref="Complete"/> finishes the task with the reply that carries the id. One correlator serves a
/// connection (instead of a map per message kind); when the connection drops, <see cref="FailAll"/> fails whatever is
/// still waiting, so no caller hangs. A cancelled wait forgets its entry.
/// </summary>
internal sealed class RequestCorrelator
{
    private readonly ConcurrentDictionary<ulong, IPending> _pending = new();
    private long _nextId;
    private Exception? _closed;

    /// <summary>Requests not answered yet.</summary>
    public int Count => _pending.Count;

    /// <summary>A new request: its id to send, and the task its reply completes.</summary>
    /// <exception cref="InvalidOperationException">The connection was closed (the exception <see cref="FailAll"/> was given is inside).</exception>
    public (ulong Id, Task<TReply> Reply) Begin<TReply>(CancellationToken cancellationToken = default)
    {
        var id = (ulong)Interlocked.Increment(ref _nextId);
        var pending = new Pending<TReply>();
        _pending[id] = pending;
        if (Volatile.Read(ref _closed) is { } closed && _pending.TryRemove(id, out _))
        {
            pending.Fail(closed);
        }
        else if (cancellationToken.CanBeCanceled)
        {
            pending.Registration = cancellationToken.Register(
                static state =>
                {
                    var (correlator, id, token) = ((RequestCorrelator, ulong, CancellationToken))state!;
                    if (correlator._pending.TryRemove(id, out var removed))
                    {
                        removed.Cancel(token);
                    }
                },
                (this, id, cancellationToken));
        }

        return (id, pending.Task);
    }

    /// <summary>Completes request <paramref name="id"/> with <paramref name="reply"/>; false when no such request waits (late or unknown).</summary>
    /// <exception cref="InvalidCastException">The reply is not of the kind the request expects.</exception>
    public bool Complete<TReply>(ulong id, TReply reply)
    {
        if (!_pending.TryRemove(id, out var pending))
        {
            return false;
        }

        if (pending is not Pending<TReply> typed)
        {
            pending.Fail(new InvalidCastException($"Request {id} expected another kind of reply than {typeof(TReply).Name}."));
            return true;
        }

        typed.Complete(reply);
        return true;
    }

    /// <summary>Fails request <paramref name="id"/>; false when no such request waits.</summary>
    public bool Fail(ulong id, Exception exception)
    {
        if (!_pending.TryRemove(id, out var pending))
        {
            return false;
        }

        pending.Fail(exception);
        return true;
    }

    /// <summary>The connection is gone: every waiting request fails with <paramref name="exception"/>, and later ones fail at once.</summary>
    public void FailAll(Exception exception)
    {
        Interlocked.CompareExchange(ref _closed, exception, null);
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var pending))
            {
                pending.Fail(exception);
            }
        }
    }

    private interface IPending
    {
        void Fail(Exception exception);

        void Cancel(CancellationToken cancellationToken);
    }

    private sealed class Pending<TReply> : IPending
    {
        private readonly TaskCompletionSource<TReply> _source = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<TReply> Task => _source.Task;

        public CancellationTokenRegistration Registration { get; set; }

        public void Complete(TReply reply)
        {
            Registration.Dispose();
            _source.TrySetResult(reply);
        }

        public void Fail(Exception exception)
        {
            Registration.Dispose();
            _source.TrySetException(exception);
        }

        public void Cancel(CancellationToken cancellationToken) => _source.TrySetCanceled(cancellationToken);
    }
}
