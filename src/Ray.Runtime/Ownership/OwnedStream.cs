using Ray.Core;
using Ray.ObjectStore;
using Ray.Runtime.Protocol;
using Ray.Scheduling;

namespace Ray.Ownership;

/// <summary>What a read of a stream got: the next item (its entry, held for the reader), the end, or why it failed.</summary>
internal readonly record struct StreamRead(ObjectEntry? Item, string? Failure)
{
    public static StreamRead End => default;

    public bool IsEnd => Item is null && Failure is null;
}

/// <summary>
/// One stream this node owns (Ray's <c>ObjectRefStream</c> in the owner's task manager): the items its producer has
/// written, how many readers have taken, and where it ends. Item <c>i</c> is the object <c>(task, 2 + i)</c>; the stream
/// holds each item (<see cref="ReferenceKind.Stream"/>) from when it is written until a reader takes it, and the reader's
/// own reference takes over. Items may be written out of order (two threads completing them), so a reader waits for the
/// item at its position. The stream ends when its producer's return object completes: after the items the producer was
/// seen to yield, and, if it failed, one more item that holds the failure. Guarded by its own lock; readers are answered
/// outside it.
/// </summary>
internal sealed class OwnedStream
{
    private readonly object _lock = new();
    private readonly ObjectTable _objects;
    private readonly Action<OwnedStream, int> _consumed;
    private readonly List<ObjectEntry?> _items = [];
    private readonly Queue<PendingRead> _readers = new();
    private int _cursor;
    private int _expected;
    private int _end = -1;
    private bool _dropped;

    /// <param name="generatorId">The producer's return object, which names the stream and its items.</param>
    /// <param name="ownerProcessId">The process that submitted the producer; it owns the items too.</param>
    /// <param name="backpressure">The unread items at which the producer pauses; -1 for no limit.</param>
    /// <param name="objects">The node's object table, where the items live.</param>
    /// <param name="isActorCall">Whether an actor method produces it, rather than a task.</param>
    /// <param name="consumed">Told (outside the lock) how many items readers have taken, when that changed and the stream has backpressure.</param>
    public OwnedStream(ObjectId generatorId, int ownerProcessId, int backpressure, bool isActorCall, ObjectTable objects, Action<OwnedStream, int> consumed)
    {
        GeneratorId = generatorId;
        OwnerProcessId = ownerProcessId;
        Backpressure = backpressure;
        IsActorCall = isActorCall;
        _objects = objects;
        _consumed = consumed;
    }

    public ObjectId GeneratorId { get; }

    public int OwnerProcessId { get; }

    /// <summary>The unread items at which the producer pauses; -1 for no limit.</summary>
    public int Backpressure { get; }

    /// <summary>Whether an actor method produces the stream (the actor manager runs it), rather than a task (the scheduler does).</summary>
    public bool IsActorCall { get; }

    /// <summary>How many items readers have taken.</summary>
    public int Consumed
    {
        get
        {
            lock (_lock)
            {
                return _cursor;
            }
        }
    }

    /// <summary>The id of item <paramref name="index"/>.</summary>
    public static ObjectId ItemId(ObjectId generatorId, long index) => new(generatorId.Task, checked((uint)(index + 2)));

    /// <summary>The producer was seen to yield <paramref name="count"/> items: the stream does not end before they are all written.</summary>
    public void Expect(int count)
    {
        lock (_lock)
        {
            _expected = Math.Max(_expected, count);
        }
    }

    /// <summary>Writes item <paramref name="index"/>: a new object, held by the stream until a reader takes it.</summary>
    public void Write(int index, TaskResult item)
    {
        var entry = _objects.Create(ItemId(GeneratorId, index), OwnerProcessId, ReferenceKind.Stream);
        item.CompleteIn(_objects, entry);
        bool keep;
        lock (_lock)
        {
            keep = !_dropped && (index >= _items.Count || _items[index] is null) && index >= _cursor;
            if (keep)
            {
                while (_items.Count <= index)
                {
                    _items.Add(null);
                }

                _items[index] = entry;
                _expected = Math.Max(_expected, index + 1);
            }
        }

        if (!keep)
        {
            // Nobody can read it: the stream was freed, or this index was written already.
            _objects.Release(entry, ReferenceKind.Stream);
            return;
        }

        Serve();
    }

    /// <summary>
    /// The producer finished (its return object completed, with <paramref name="error"/> if it failed): the stream ends
    /// after the items it yielded, and a failure becomes one more item, so that a reader meets it where it happened.
    /// </summary>
    public void End(ErrorInfo? error)
    {
        ObjectEntry? failed = null;
        int index;
        lock (_lock)
        {
            if (_end >= 0 || _dropped)
            {
                return;
            }

            index = _expected;
            _end = error is null ? index : index + 1;
        }

        if (error is not null)
        {
            failed = _objects.Create(ItemId(GeneratorId, index), OwnerProcessId, ReferenceKind.Stream);
            _objects.Fail(failed, error);
            lock (_lock)
            {
                while (_items.Count <= index)
                {
                    _items.Add(null);
                }

                _items[index] = failed;
            }
        }

        Serve();
    }

    /// <summary>
    /// Takes the next item now if it is there and no reader waits before this one: <paramref name="adopt"/> counts the
    /// reader's reference first. False when the reader must wait (read with <see cref="Read"/>); the fast path of a reader
    /// that keeps up with a faster producer, with nothing allocated.
    /// </summary>
    public bool TryTake(Action<ObjectEntry> adopt, out ObjectEntry? item)
    {
        int consumed;
        lock (_lock)
        {
            item = null;
            if (_dropped || _readers.Count > 0 || _cursor >= _items.Count || _items[_cursor] is not { } next)
            {
                return false;
            }

            adopt(next);
            item = next;
            _items[_cursor] = null;
            consumed = ++_cursor;
        }

        _objects.Release(item, ReferenceKind.Stream);
        if (Backpressure > 0)
        {
            _consumed(this, consumed);
        }

        return true;
    }

    /// <summary>
    /// Reads the next item: <paramref name="deliver"/> is called (at once, or when it is written) with the item, whose
    /// entry the stream still holds during the call, so the reader must count its own reference there; or with the end.
    /// </summary>
    public PendingRead Read(Action<StreamRead> deliver)
    {
        var read = new PendingRead(deliver);
        bool dropped;
        lock (_lock)
        {
            dropped = _dropped;
            if (!dropped)
            {
                _readers.Enqueue(read);
            }
        }

        if (dropped)
        {
            if (read.TryClaim())
            {
                deliver(new StreamRead(null, $"stream {GeneratorId} was freed: no reference to it remains"));
            }

            return read;
        }

        Serve();
        return read;
    }

    /// <summary>
    /// The stream is freed (no reference to it remains): returns the items no reader took, which the caller releases; readers
    /// still waiting are told.
    /// </summary>
    public List<ObjectEntry> Drop()
    {
        var unread = new List<ObjectEntry>();
        PendingRead[] readers;
        lock (_lock)
        {
            _dropped = true;
            for (var i = _cursor; i < _items.Count; i++)
            {
                if (_items[i] is { } item)
                {
                    unread.Add(item);
                }
            }

            _items.Clear();
            readers = [.. _readers];
            _readers.Clear();
        }

        foreach (var reader in readers)
        {
            if (reader.TryClaim())
            {
                reader.Deliver(new StreamRead(null, $"stream {GeneratorId} was freed: no reference to it remains"));
            }
        }

        return unread;
    }

    /// <summary>Gives readers, in the order they asked, the items now at their positions, or the end.</summary>
    private void Serve()
    {
        while (true)
        {
            PendingRead? reader = null;
            StreamRead read = default;
            int consumed;
            lock (_lock)
            {
                while (_readers.TryPeek(out var next) && next.IsClaimed)
                {
                    // Cancelled while it waited.
                    _readers.Dequeue();
                }

                if (_readers.Count == 0)
                {
                    return;
                }

                if (_cursor < _items.Count && _items[_cursor] is { } item)
                {
                    reader = _readers.Dequeue();
                    if (!reader.TryClaim())
                    {
                        continue;
                    }

                    _items[_cursor] = null;
                    _cursor++;
                    read = new StreamRead(item, null);
                }
                else if (_end >= 0 && _cursor >= _end)
                {
                    reader = _readers.Dequeue();
                    if (!reader.TryClaim())
                    {
                        continue;
                    }
                }
                else
                {
                    return;
                }

                consumed = _cursor;
            }

            reader.Deliver(read);
            if (read.Item is { } taken)
            {
                // The reader counted its own reference in Deliver; the stream's goes.
                _objects.Release(taken, ReferenceKind.Stream);
                if (Backpressure > 0)
                {
                    _consumed(this, consumed);
                }
            }
        }
    }

    /// <summary>A reader waiting for its item; claimed once, by the stream (to answer it) or by its cancellation.</summary>
    internal sealed class PendingRead(Action<StreamRead> deliver)
    {
        private int _claimed;

        public bool IsClaimed => Volatile.Read(ref _claimed) != 0;

        public bool TryClaim() => Interlocked.Exchange(ref _claimed, 1) == 0;

        public void Deliver(StreamRead read) => deliver(read);
    }
}
