using Ray.Runtime.Protocol;

namespace Ray.ObjectStore;

/// <summary>What keeps an object alive (Ray's reference types).</summary>
internal enum ReferenceKind
{
    /// <summary>An <see cref="ObjectRef"/> instance in the driver process.</summary>
    Local,

    /// <summary>A worker process holding at least one <see cref="ObjectRef"/> to it.</summary>
    Borrower,

    /// <summary>A pending task, actor call or actor that takes it as an argument (directly or inside one).</summary>
    Task,

    /// <summary>Another object whose value holds a reference to it.</summary>
    Contained,

    /// <summary>Other nodes holding references to it (counted once per node; see <see cref="ObjectEntry.AddRemoteBorrower"/>).</summary>
    RemoteBorrower,

    /// <summary>A copy this node keeps for the object's owner on another node (a result made here), until the owner frees it.</summary>
    Primary,

    /// <summary>The stream whose producer made it (an item), until a reader takes it.</summary>
    Stream,
}

/// <summary>
/// One object in the node's object table: pending until its task finishes, then a value (inline, or in the
/// shared-memory store) or an error, never changing after that. Waiters are callbacks (the scheduler, worker
/// subscriptions) or an awaitable task. The entry counts what references it; the table frees it when it is ready
/// and nothing does.
/// </summary>
internal sealed class ObjectEntry
{
    private readonly object _gate = new();
    private ReferenceCounts _references;
    // The callbacks waiting for the object: none, one Action (the usual case, no list), or a List of them.
    private object? _callbacks;
    private TaskCompletionSource? _ready;
    private volatile bool _isReady;
    private bool _freed;

    public ObjectEntry(ObjectId id, int ownerProcessId, Guid ownerNode = default)
    {
        Id = id;
        OwnerProcessId = ownerProcessId;
        OwnerNode = ownerNode;
    }

    public ObjectId Id { get; }

    /// <summary>
    /// The node that owns the object, when it is another one: this node only borrows it (its processes hold references
    /// to it), learns its value from the owner, and gives its hand-offs back when its last reference goes. Empty when
    /// this node owns it.
    /// </summary>
    public Guid OwnerNode { get; }

    /// <summary>Whether another node owns the object.</summary>
    public bool IsBorrowed => OwnerNode != Guid.Empty;

    /// <summary>For a borrowed object: how many times a reference to it was handed to this node (the owner counted each).</summary>
    public int ReceivedHandoffs { get; private set; }

    /// <summary>For an owned object: the hand-offs to each node that borrows it, not given back yet. Guarded by the entry.</summary>
    private Dictionary<Guid, int>? _remoteBorrowers;

    /// <summary>The process that created it: the driver, or the worker that submitted its task or put it.</summary>
    public int OwnerProcessId { get; }

    public bool IsReady => _isReady;

    /// <summary>The serialized value when it travels inline; valid once <see cref="IsReady"/>, with no error and nothing stored.</summary>
    public ReadOnlyMemory<byte> Value { get; private set; }

    /// <summary>The value's place in the shared-memory store, for a large object.</summary>
    public StoredObject? Stored { get; private set; }

    /// <summary>The failure stored instead of a value.</summary>
    public ErrorInfo? Error { get; private set; }

    /// <summary>
    /// Whether the failure reached someone: user code that got or awaited the object, or a task that took it as an
    /// argument (and failed with it). A failure no one saw is logged when the object is freed.
    /// </summary>
    public bool ErrorObserved { get; set; }

    /// <summary>
    /// The spec of the task that made the object (its lineage), kept while the object lives so that a lost copy can be
    /// made again by running the task again; null for a <c>Put</c> and for actor calls, which cannot be re-run.
    /// </summary>
    public Scheduling.TaskRecord? Lineage { get; set; }

    /// <summary>
    /// For the return object of a streaming task or actor call that this node owns: its stream, whose items the producer
    /// writes while it runs and which ends when this object completes. Set once, before the producer runs.
    /// </summary>
    public Ownership.OwnedStream? Stream { get; set; }

    /// <summary>The objects the value holds references to; each is counted as <see cref="ReferenceKind.Contained"/>.</summary>
    public ObjectId[]? Contained { get; private set; }

    /// <summary>The value's size in bytes.</summary>
    public long Size => Stored?.PayloadSize ?? Remote?.Size ?? Value.Length;

    /// <summary>
    /// A large value this node has no copy of: its size and the nodes that have one (for the owner, where its task ran;
    /// for a borrower, what the owner said). Reading it here pulls a copy first.
    /// </summary>
    public RemoteCopies? Remote { get; private set; }

    /// <summary>
    /// For an owned object: the other nodes that pulled a copy (besides <see cref="Remote"/>'s, which hold the copy its
    /// task made). Told to borrowers that need the object, so that they can pull from several nodes; a copy that went
    /// meanwhile only costs a puller a failed attempt. Guarded by the entry.
    /// </summary>
    private List<Guid>? _copies;

    /// <summary>Whether the table has let go of it.</summary>
    public bool IsFreed
    {
        get
        {
            lock (_gate)
            {
                return _freed;
            }
        }
    }

    /// <summary>A snapshot of the counts, by <see cref="ReferenceKind"/>.</summary>
    public int References(ReferenceKind kind)
    {
        lock (_gate)
        {
            return _references[(int)kind];
        }
    }

    /// <summary>Whether nothing references it (whether or not it is ready).</summary>
    public bool IsUnreferenced
    {
        get
        {
            lock (_gate)
            {
                for (var kind = 0; kind < ReferenceCounts.Length; kind++)
                {
                    if (_references[kind] != 0)
                    {
                        return false;
                    }
                }

                return true;
            }
        }
    }

    /// <summary>Counts one more reference; false if the entry was already freed.</summary>
    public bool AddReference(ReferenceKind kind)
    {
        lock (_gate)
        {
            if (_freed)
            {
                return false;
            }

            _references[(int)kind]++;
            return true;
        }
    }

    /// <summary>
    /// Counts a hand-off of a reference to this borrowed object from another node, and the reference of
    /// <paramref name="holder"/> that takes it in; false if it was already freed.
    /// </summary>
    public bool AddReceivedHandoff(ReferenceKind holder)
    {
        lock (_gate)
        {
            if (_freed)
            {
                return false;
            }

            _references[(int)holder]++;
            ReceivedHandoffs++;
            return true;
        }
    }

    /// <summary>Counts a hand-off of a reference to this owned object to <paramref name="node"/>; false if the entry was already freed.</summary>
    public bool AddRemoteBorrower(Guid node)
    {
        lock (_gate)
        {
            if (_freed)
            {
                return false;
            }

            _remoteBorrowers ??= [];
            var count = _remoteBorrowers.GetValueOrDefault(node);
            _remoteBorrowers[node] = count + 1;
            if (count == 0)
            {
                _references[(int)ReferenceKind.RemoteBorrower]++;
            }

            return true;
        }
    }

    /// <summary>
    /// <paramref name="node"/> gave back <paramref name="handoffs"/> hand-offs (it holds no reference any more, as of the
    /// last of them it received). True when the entry is now ready and unreferenced, and the caller must free it.
    /// </summary>
    public bool RemoveRemoteBorrower(Guid node, int handoffs, bool all = false)
    {
        lock (_gate)
        {
            if (_freed || _remoteBorrowers is null || !_remoteBorrowers.TryGetValue(node, out var count))
            {
                return false;
            }

            count = all ? 0 : count - handoffs;
            if (count > 0)
            {
                // A hand-off to the node is still on its way: it borrows the object again when that arrives.
                _remoteBorrowers[node] = count;
                return false;
            }

            _remoteBorrowers.Remove(node);
            _references[(int)ReferenceKind.RemoteBorrower]--;
            return TryMarkFreed();
        }
    }

    /// <summary>Counts one reference less; true when the entry is now ready and unreferenced, and the caller must free it.</summary>
    public bool RemoveReference(ReferenceKind kind)
    {
        lock (_gate)
        {
            if (_freed || _references[(int)kind] == 0)
            {
                return false;
            }

            _references[(int)kind]--;
            return TryMarkFreed();
        }
    }

    /// <summary>Marks the entry freed whatever references it (its job ended); true (once) when the caller must free it.</summary>
    public bool ForceFree()
    {
        lock (_gate)
        {
            if (_freed)
            {
                return false;
            }

            _freed = true;
            return true;
        }
    }

    /// <summary>True (once) when the entry is ready and nothing references it: the caller must free it.</summary>
    public bool TryFree()
    {
        lock (_gate)
        {
            return TryMarkFreed();
        }
    }

    /// <summary>
    /// Gives a ready object that had no copy here the one just pulled from another node. False when the object was freed
    /// meanwhile, failed, or already has a copy here (the caller then frees <paramref name="copy"/> unless it is that one).
    /// </summary>
    public bool TryAttachCopy(StoredObject copy)
    {
        lock (_gate)
        {
            if (_freed || !_isReady || Stored is not null || Error is not null)
            {
                return false;
            }

            Stored = copy;
            return true;
        }
    }

    /// <summary>For an owned object: <paramref name="node"/> pulled a copy.</summary>
    public void AddCopy(Guid node)
    {
        lock (_gate)
        {
            if (!_freed && !(Remote?.Locations.Contains(node) ?? false) && !(_copies?.Contains(node) ?? false))
            {
                (_copies ??= []).Add(node);
            }
        }
    }

    /// <summary>The nodes with a copy, <paramref name="self"/> first when this node has one: where to pull it from.</summary>
    public Guid[] Locations(Guid self)
    {
        lock (_gate)
        {
            var locations = new List<Guid>((Remote?.Locations.Length ?? 0) + (_copies?.Count ?? 0) + 1);
            if (Stored is not null)
            {
                locations.Add(self);
            }

            locations.AddRange(Remote?.Locations ?? []);
            locations.AddRange(_copies ?? []);
            return [.. locations.Distinct()];
        }
    }

    /// <summary>Completes the object; false if it was already complete. <paramref name="contained"/> must already be counted.</summary>
    public bool TryComplete(ReadOnlyMemory<byte> value, StoredObject? stored, ErrorInfo? error, ObjectId[]? contained, RemoteCopies? remote = null)
    {
        object? callbacks;
        TaskCompletionSource? ready;
        lock (_gate)
        {
            if (_isReady)
            {
                return false;
            }

            Value = value;
            Stored = stored;
            Remote = remote;
            Error = error;
            Contained = contained;
            _isReady = true;
            callbacks = _callbacks;
            ready = _ready;
            _callbacks = null;
            _ready = null;
        }

        ready?.TrySetResult();
        if (callbacks is Action<ObjectEntry> callback)
        {
            callback(this);
        }
        else if (callbacks is List<Action<ObjectEntry>> list)
        {
            foreach (var each in list)
            {
                each(this);
            }
        }

        return true;
    }

    /// <summary>Runs <paramref name="callback"/> once the object is ready: now if it already is.</summary>
    public void OnReady(Action<ObjectEntry> callback)
    {
        lock (_gate)
        {
            if (!_isReady)
            {
                switch (_callbacks)
                {
                    case null:
                        _callbacks = callback;
                        break;
                    case Action<ObjectEntry> first:
                        _callbacks = new List<Action<ObjectEntry>>(2) { first, callback };
                        break;
                    case List<Action<ObjectEntry>> list:
                        list.Add(callback);
                        break;
                }

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

    private bool TryMarkFreed()
    {
        if (_freed || !_isReady)
        {
            return false;
        }

        for (var kind = 0; kind < ReferenceCounts.Length; kind++)
        {
            if (_references[kind] != 0)
            {
                return false;
            }
        }

        _freed = true;
        return true;
    }
}

/// <summary>Where the copies of a large object are, when this node has none: its size and the nodes that hold one.</summary>
internal sealed record RemoteCopies(long Size, Guid[] Locations);

/// <summary>One count per <see cref="ReferenceKind"/>, stored inside the entry.</summary>
[System.Runtime.CompilerServices.InlineArray(Length)]
internal struct ReferenceCounts
{
    public const int Length = 7;

    private int _first;
}
