namespace Ray.Transport;

/// <summary>
/// Matches replies to requests on one connection, whatever the kinds of request: <see cref="Begin{TReply}"/> hands
/// out an id to send with the request and a task for the reply, and the connection's reader calls
/// <see cref="Complete{TReply}"/> or <see cref="Fail"/> with the id that comes back. One instance serves every
/// message kind of a connection (look-ups, allocations, reads, …), so a dropped connection fails every waiter with
/// one <see cref="FailAll"/>, and every later request at once: nothing would ever answer it.
/// </summary>
/// <remarks>
/// <para>
/// Ids come from one counter, and a pending request lives in slot <c>id &amp; mask</c> of a table, placed and taken
/// with a compare-and-swap: no lock, and nothing allocated but the request, which is its own TaskCompletionSource
/// (a ConcurrentDictionary would lock a stripe on every add and remove and allocate a node per request). A slot
/// still held by an older request (one that waits long) is skipped by taking the next id, since ids need not be
/// dense. When requests keep meeting held slots the table doubles, under a lock that only growing and
/// <see cref="FailAll"/> take: growing freezes each old slot as it copies it, and whoever meets a frozen slot waits
/// for the lock and retries on the new table, so no request is lost between tables.
/// </para>
/// <para>
/// Begin a request before sending it: a reply can come back before the send returns. A reply that finds no waiter
/// (its request was cancelled, timed out or failed) makes <see cref="Complete{TReply}"/> return false, so the caller
/// can give back what the reply holds, a pinned object say.
/// </para>
/// </remarks>
internal sealed class RequestCorrelator
{
    private const int InitialCapacity = 64;

    // A request that meets this many held slots in a row grows the table: they belong to long-lived requests, and
    // skipping ever more of them would make every Begin slower.
    private const int ProbesBeforeGrowing = 4;

    /// <summary>Marks a slot of a table that has been copied into a bigger one (the current table never holds it).</summary>
    private static readonly IPending Frozen = new Pending<bool>();

    private readonly Lock _growLock = new();
    private volatile Slot[] _slots = new Slot[InitialCapacity];
    private long _lastId;
    private Exception? _closed;

    /// <summary>Requests waiting for a reply now. Counts the table, so it is for tests and diagnostics, not hot paths.</summary>
    public int Count
    {
        get
        {
            var count = 0;
            foreach (var slot in _slots)
            {
                if (slot.Pending is not null)
                {
                    count++;
                }
            }

            return count;
        }
    }

    /// <summary>
    /// Starts a request: the id to send with it and the task its reply completes. The task is cancelled when
    /// <paramref name="cancellationToken"/> fires and fails with <see cref="TimeoutException"/> when no reply comes
    /// within <paramref name="timeout"/>; either way the request is forgotten at once, so a late reply finds no
    /// waiter. Continuations run asynchronously: the reader that completes a reply never runs the waiter's code.
    /// After <see cref="FailAll"/> the task has already failed with the exception it was given.
    /// </summary>
    public (ulong Id, Task<TReply> Reply) Begin<TReply>(CancellationToken cancellationToken = default, TimeSpan? timeout = null)
    {
        var pending = new Pending<TReply>();
        Insert(pending);

        // Read after the request is placed, as FailAll sets this before it sweeps: either the sweep finds the request
        // or this sees the connection closed, so no request begun while it closes is left waiting.
        if (Volatile.Read(ref _closed) is { } closed)
        {
            Fail(pending.Id, closed);
        }
        else if (cancellationToken.CanBeCanceled || timeout is not null)
        {
            pending.Watch(this, cancellationToken, timeout);
        }

        return (pending.Id, pending.Task);
    }

    /// <summary>
    /// Completes request <paramref name="id"/> with <paramref name="reply"/>; true when a waiter took it. False when no
    /// one waits for it any more (or never did), and when the request expected another type of reply, which fails
    /// the request: the two sides disagree about the protocol.
    /// </summary>
    public bool Complete<TReply>(ulong id, TReply reply)
    {
        switch (Remove(id))
        {
            case Pending<TReply> pending:
                return pending.Finish(reply);
            case { } other:
                other.Fail(new InvalidOperationException(
                    $"Request {id} got a reply of type {typeof(TReply).Name}, which is not the type it expects."));
                return false;
            default:
                return false;
        }
    }

    /// <summary>Fails request <paramref name="id"/> with <paramref name="exception"/>; false when no one waits for it.</summary>
    public bool Fail(ulong id, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return Remove(id) is { } pending && pending.Fail(exception);
    }

    /// <summary>
    /// The connection is gone: fails every request pending with <paramref name="exception"/>, and every request begun
    /// later at once (the first exception given stays); returns how many were pending.
    /// </summary>
    public int FailAll(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        Interlocked.CompareExchange(ref _closed, exception, null);
        var failed = 0;

        // Under the lock, so the table does not grow (and move requests out of reach) while it is swept.
        lock (_growLock)
        {
            var slots = _slots;
            for (var i = 0; i < slots.Length; i++)
            {
                if (Interlocked.Exchange(ref slots[i].Pending, null) is { } pending && pending.Fail(exception))
                {
                    failed++;
                }
            }
        }

        return failed;
    }

    private void Insert(IPending pending)
    {
        while (true)
        {
            var slots = _slots;
            var mask = (ulong)(slots.Length - 1);
            for (var probe = 0; probe < ProbesBeforeGrowing; probe++)
            {
                var id = (ulong)Interlocked.Increment(ref _lastId);
                ref var slot = ref slots[(int)(id & mask)].Pending;
                var held = Volatile.Read(ref slot);
                if (held == Frozen)
                {
                    break;
                }

                // The id is set before the request is published, since growing reads it to place the request.
                pending.Id = id;
                if (held is null && Interlocked.CompareExchange(ref slot, pending, null) is null)
                {
                    return;
                }
            }

            if (_slots == slots)
            {
                Grow(slots);
            }
            else
            {
                WaitForGrowth();
            }
        }
    }

    private IPending? Remove(ulong id)
    {
        while (true)
        {
            // The table read here is the one the request was placed in or a later one, which holds it if it is live.
            var slots = _slots;
            ref var slot = ref slots[(int)(id & (ulong)(slots.Length - 1))].Pending;
            var held = Volatile.Read(ref slot);
            if (held == Frozen)
            {
                WaitForGrowth();
                continue;
            }

            if (held is null || held.Id != id)
            {
                return null;
            }

            if (Interlocked.CompareExchange(ref slot, null, held) == held)
            {
                return held;
            }
        }
    }

    private void Grow(Slot[] seen)
    {
        lock (_growLock)
        {
            if (_slots != seen)
            {
                return;
            }

            // Distinct low bits stay distinct with more bits, so every request finds its own slot in the new table.
            // A request leaves its slot before it completes, so what a slot holds is always waiting.
            var grown = new Slot[seen.Length * 2];
            var mask = (ulong)(grown.Length - 1);
            for (var i = 0; i < seen.Length; i++)
            {
                if (Interlocked.Exchange(ref seen[i].Pending, Frozen) is { } pending)
                {
                    grown[(int)(pending.Id & mask)].Pending = pending;
                }
            }

            _slots = grown;
        }
    }

    /// <summary>Waits out a growth in progress: the grower holds the lock until the new table is published.</summary>
    private void WaitForGrowth()
    {
        lock (_growLock)
        {
        }
    }

    /// <summary>A table entry; a struct so that <c>ref slots[i].Pending</c> needs no array covariance check.</summary>
    private struct Slot
    {
        public IPending? Pending;
    }

    /// <summary>What the table needs of a request, whatever its reply type.</summary>
    private interface IPending
    {
        ulong Id { get; set; }

        bool Fail(Exception exception);
    }

    /// <summary>A request and its reply's TaskCompletionSource in one object.</summary>
    private sealed class Pending<TReply>() : TaskCompletionSource<TReply>(TaskCreationOptions.RunContinuationsAsynchronously), IPending
    {
        private RequestCorrelator? _correlator;
        private CancellationToken _cancellationToken;
        private TimeSpan _timeout;
        private CancellationTokenSource? _timer;
        private CancellationTokenRegistration _registration;

        public ulong Id { get; set; }

        /// <summary>Ends the request when <paramref name="cancellationToken"/> fires or <paramref name="timeout"/> passes.</summary>
        public void Watch(RequestCorrelator correlator, CancellationToken cancellationToken, TimeSpan? timeout)
        {
            _correlator = correlator;
            _cancellationToken = cancellationToken;
            var token = cancellationToken;
            if (timeout is { } after)
            {
                _timeout = after;
                _timer = cancellationToken.CanBeCanceled
                    ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken)
                    : new CancellationTokenSource();
                _timer.CancelAfter(after);
                token = _timer.Token;
            }

            // Runs at once if the token has already fired.
            _registration = token.UnsafeRegister(static state => ((Pending<TReply>)state!).OnCancelled(), this);
        }

        public bool Finish(TReply reply)
        {
            Unwatch();
            return TrySetResult(reply);
        }

        public bool Fail(Exception exception)
        {
            Unwatch();
            return TrySetException(exception);
        }

        private void OnCancelled()
        {
            if (_correlator!.Remove(Id) != this)
            {
                // A reply or a failure took the request first.
                return;
            }

            Unwatch();
            if (_cancellationToken.IsCancellationRequested)
            {
                TrySetCanceled(_cancellationToken);
            }
            else
            {
                TrySetException(new TimeoutException($"No reply to request {Id} within {_timeout.TotalSeconds:0.###} s."));
            }
        }

        private void Unwatch()
        {
            // Unregister, not Dispose: Dispose waits for a running callback, which may be the caller.
            _registration.Unregister();
            _timer?.Dispose();
        }
    }
}
