using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Ray.Core;
using Ray.Runtime.Protocol;

namespace Ray.ObjectStore;

/// <summary>
/// The node's table of objects: task results and <c>Put</c> values. Small values live here inline; large ones in
/// the shared-memory <see cref="NodeObjectStore"/>. An object is freed when it is ready and nothing references it any
/// more (no <see cref="ObjectRef"/> in the driver, no worker borrowing it, no pending task using it, no object
/// holding it); freeing releases its stored bytes (once no read or view has them pinned) and the objects it holds.
/// </summary>
internal sealed class ObjectTable(NodeObjectStore? store) : ObjectManager.ILocalObjects
{
    private readonly ConcurrentDictionary<ObjectId, ObjectEntry> _entries = new();

    public int Count => _entries.Count;

    public NodeObjectStore? Store => store;

    /// <summary>
    /// Whether this process's garbage collector hears of the shared memory behind its stored objects: only where a
    /// driver shares the raylet's process (an embedded node), whose dropped references then free them sooner. A
    /// standalone node's raylet holds no user references, so there the pressure would only start pointless
    /// collections, each pausing the raylet in the middle of a transfer. Set before the first object is stored.
    /// </summary>
    public bool ReportsMemoryPressure { get; set; }

    /// <summary>Called when an object that holds a failure no one saw is freed (a fire-and-forget call failed).</summary>
    public Action<ObjectEntry>? UnhandledError { get; set; }

    /// <summary>Called when a borrowed object (another node owns it) is freed here: the owner gets its hand-offs back.</summary>
    public Action<ObjectEntry>? BorrowedFreed { get; set; }

    /// <summary>Called when an object this node owns is freed: nodes that hold copies of it delete them.</summary>
    public Action<ObjectEntry>? OwnedFreed { get; set; }

    /// <summary>
    /// Called when the last reference to a stream goes while its producer still runs: no one can read its items any more,
    /// so the producer is cancelled (rather than run on, or wait at its backpressure bound, for nothing).
    /// </summary>
    public Action<ObjectEntry>? StreamAbandoned { get; set; }

    /// <summary>
    /// The entry of an object another node owns, which this node's processes or tasks now reference; created pending
    /// (its value comes from the owner) the first time, counting a hand-off from the owner and one reference of
    /// <paramref name="holder"/> at once, so that it cannot be freed before its holder counts. The second value says
    /// whether it was created now.
    /// </summary>
    public (ObjectEntry Entry, bool Created) GetOrCreateBorrowed(ObjectId id, Guid owner, int ownerPid, ReferenceKind holder)
    {
        while (true)
        {
            var created = false;
            var entry = _entries.GetOrAdd(id, _ =>
            {
                created = true;
                return new ObjectEntry(id, ownerPid, owner);
            });
            if (entry.AddReceivedHandoff(holder))
            {
                return (entry, created);
            }

            // Freed a moment ago; it leaves the table right after.
            _entries.TryRemove(new KeyValuePair<ObjectId, ObjectEntry>(id, entry));
        }
    }

    /// <summary>Counts a hand-off of a reference to an object this node owns to <paramref name="node"/>; false when there is no such object.</summary>
    public bool HandOff(ObjectId id, Guid node) => _entries.TryGetValue(id, out var entry) && !entry.IsBorrowed && entry.AddRemoteBorrower(node);

    /// <summary><paramref name="node"/> gave back hand-offs of an object this node owns; the object is freed if that was its last reference.</summary>
    public void ReturnHandoffs(ObjectId id, Guid node, int handoffs, bool all = false)
    {
        if (_entries.TryGetValue(id, out var entry))
        {
            Released(entry, entry.RemoveRemoteBorrower(node, handoffs, all));
        }
    }

    /// <summary>The failure of <paramref name="id"/> reached user code or a dependent task.</summary>
    public void MarkErrorObserved(ObjectId id)
    {
        if (_entries.TryGetValue(id, out var entry))
        {
            entry.ErrorObserved = true;
        }
    }

    /// <summary>Creates an entry held by one reference of <paramref name="holder"/>; an existing entry gains that reference.</summary>
    public ObjectEntry Create(ObjectId id, int ownerProcessId, ReferenceKind holder)
    {
        while (true)
        {
            var entry = _entries.GetOrAdd(id, static (id, owner) => new ObjectEntry(id, owner), ownerProcessId);
            if (entry.AddReference(holder))
            {
                return entry;
            }

            // Freed a moment ago; it leaves the table right after.
            _entries.TryRemove(new KeyValuePair<ObjectId, ObjectEntry>(id, entry));
        }
    }

    public bool TryGet(ObjectId id, [NotNullWhen(true)] out ObjectEntry? entry) => _entries.TryGetValue(id, out entry);

    /// <summary>
    /// Copies objects this node has no copy of from the nodes that have one; null on a node that is not part of a
    /// cluster (every object it knows is here).
    /// </summary>
    public ObjectManager.PullManager? Pulls { get; set; }

    /// <inheritdoc />
    public StoredObject? Find(ObjectId id) => _entries.TryGetValue(id, out var entry) && !entry.IsFreed ? entry.Stored : null;

    /// <summary>Attaches a copy pulled from another node to its entry; false (and the copy freed) when the entry cannot take it.</summary>
    public bool AttachCopy(ObjectEntry entry, StoredObject copy)
    {
        // Attached under the entry's lock only while it is not freed, so Free (which reads the copy after marking the
        // entry freed) never misses it.
        if (entry.TryAttachCopy(copy))
        {
            if (ReportsMemoryPressure)
            {
                GC.AddMemoryPressure(copy.RegionSize);
            }

            return true;
        }

        if (!ReferenceEquals(entry.Stored, copy))
        {
            store?.Free(copy);
        }

        return ReferenceEquals(entry.Stored, copy);
    }

    /// <summary>Counts a reference to <paramref name="id"/>; false when there is no such object.</summary>
    public bool AddReference(ObjectId id, ReferenceKind kind) => _entries.TryGetValue(id, out var entry) && entry.AddReference(kind);

    public void AddReferences(IReadOnlyList<ObjectId>? ids, ReferenceKind kind)
    {
        if (ids is not null)
        {
            foreach (var id in ids)
            {
                AddReference(id, kind);
            }
        }
    }

    /// <summary>Drops a reference to <paramref name="id"/>, freeing the object if it was the last.</summary>
    public void Release(ObjectId id, ReferenceKind kind)
    {
        if (_entries.TryGetValue(id, out var entry))
        {
            Released(entry, entry.RemoveReference(kind));
        }
    }

    public void Release(ObjectEntry entry, ReferenceKind kind) => Released(entry, entry.RemoveReference(kind));

    public void ReleaseAll(IReadOnlyList<ObjectId>? ids, ReferenceKind kind)
    {
        if (ids is not null)
        {
            foreach (var id in ids)
            {
                Release(id, kind);
            }
        }
    }

    /// <summary>Completes with an inline value; <paramref name="contained"/> must already be counted, and the table takes them over.</summary>
    public void Complete(ObjectEntry entry, ReadOnlyMemory<byte> value, ObjectId[]? contained = null) => Complete(entry, value, null, null, contained);

    /// <summary>Completes with a value in the shared-memory store.</summary>
    public void Complete(ObjectEntry entry, StoredObject stored, ObjectId[]? contained = null) => Complete(entry, default, stored, null, contained);

    /// <summary>Completes with a large value whose copies are on other nodes.</summary>
    public void CompleteRemote(ObjectEntry entry, long size, Guid[] locations, ObjectId[]? contained) =>
        Complete(entry, default, null, null, contained, new RemoteCopies(size, locations));

    /// <summary>Completes with an error.</summary>
    public void Fail(ObjectEntry entry, ErrorInfo error) => Complete(entry, default, null, error, null);

    /// <summary>
    /// Frees every object of a job that ended, whatever still references it (the references died with the job's
    /// processes); returns how many.
    /// </summary>
    /// <summary>Fails every borrowed object owned by <paramref name="owner"/> that is not ready yet: its owner's node died. Returns how many.</summary>
    public int FailBorrowedFrom(Guid owner, string reason)
    {
        var failed = 0;
        foreach (var entry in _entries.Values)
        {
            if (entry.IsBorrowed && entry.OwnerNode == owner && !entry.IsReady)
            {
                Fail(entry, RayErrors.Lost(entry.Id, reason));
                failed++;
            }
        }

        return failed;
    }

    public int FreeJob(JobId job)
    {
        var freed = 0;
        foreach (var entry in _entries.Values)
        {
            if (entry.Id.Job == job && entry.ForceFree())
            {
                entry.ErrorObserved = true;
                Free(entry);
                freed++;
            }
        }

        return freed;
    }

    /// <summary>Every object, for <c>ray.ListObjects()</c>.</summary>
    public IReadOnlyList<ObjectInfo> List()
    {
        var list = new List<ObjectInfo>(_entries.Count);
        foreach (var entry in _entries.Values)
        {
            list.Add(new ObjectInfo
            {
                Id = entry.Id,
                SizeBytes = entry.IsReady ? entry.Size : 0,
                Location = Locate(entry),
                OwnerProcessId = entry.OwnerProcessId,
                LocalReferences = entry.References(ReferenceKind.Local),
                BorrowingWorkers = entry.References(ReferenceKind.Borrower),
                TaskReferences = entry.References(ReferenceKind.Task),
                ContainedIn = entry.References(ReferenceKind.Contained),
                BorrowingNodes = entry.References(ReferenceKind.RemoteBorrower),
                UnreadInStream = entry.References(ReferenceKind.Stream) > 0,
                Pins = entry.Stored?.Pins ?? 0,
            });
        }

        list.Sort(static (a, b) => b.SizeBytes.CompareTo(a.SizeBytes));
        return list;
    }

    private static ObjectLocation Locate(ObjectEntry entry) => entry switch
    {
        { IsReady: false } => ObjectLocation.Pending,
        { Error: not null } => ObjectLocation.Failed,
        { Stored.State: StoredState.Spilled or StoredState.Restoring } => ObjectLocation.Spilled,
        { Stored: not null } => ObjectLocation.SharedMemory,
        { Remote: not null } => ObjectLocation.OtherNode,
        _ => ObjectLocation.Inline,
    };

    private void Complete(ObjectEntry entry, ReadOnlyMemory<byte> value, StoredObject? stored, ErrorInfo? error, ObjectId[]? contained, RemoteCopies? remote = null)
    {
        if (!entry.TryComplete(value, stored, error, contained, remote))
        {
            // A second result for the same object (a retried task's late twin): drop what it brought.
            if (stored is not null)
            {
                store?.Free(stored);
            }

            ReleaseAll(contained, ReferenceKind.Contained);
            return;
        }

        if (stored is not null && ReportsMemoryPressure)
        {
            // References to it are freed by garbage collectors; telling the driver's how much memory stands behind
            // them makes it collect as often as the shared memory, not its small managed heap, warrants.
            GC.AddMemoryPressure(stored.RegionSize);
        }

        if (entry.Stream is { } stream)
        {
            // A streaming producer finished: its stream ends, and a failure is read as the item where it happened, so
            // that is where it is observed (or reported as unhandled), not here.
            if (error is not null)
            {
                entry.ErrorObserved = true;
            }

            stream.End(error);
        }

        if (entry.TryFree())
        {
            Free(entry);
        }
    }

    /// <summary>A reference to <paramref name="entry"/> went: it is freed now, or it is a stream no one holds whose producer runs on.</summary>
    private void Released(ObjectEntry entry, bool free)
    {
        if (free)
        {
            Free(entry);
        }
        else if (entry.Stream is not null && !entry.IsReady && entry.IsUnreferenced)
        {
            StreamAbandoned?.Invoke(entry);
        }
    }

    private void Free(ObjectEntry first)
    {
        // Iterative, so that a long chain of objects holding objects does not recurse; the stack is made only when an
        // object held others (most hold none).
        Stack<ObjectEntry>? pending = null;
        for (var entry = first; entry is not null; entry = pending is not null && pending.TryPop(out var next) ? next : null)
        {
            _entries.TryRemove(new KeyValuePair<ObjectId, ObjectEntry>(entry.Id, entry));
            if (entry.IsBorrowed)
            {
                BorrowedFreed?.Invoke(entry);
            }
            else
            {
                OwnedFreed?.Invoke(entry);
                if (entry.Error is { Kind: not ErrorKind.Cancelled } && !entry.ErrorObserved)
                {
                    UnhandledError?.Invoke(entry);
                }
            }

            if (entry.Stored is { } stored)
            {
                store?.Free(stored);
                if (ReportsMemoryPressure)
                {
                    GC.RemoveMemoryPressure(stored.RegionSize);
                }
            }

            if (entry.Stream is { } stream)
            {
                // No reference to the stream remains: the items no reader took go with it.
                foreach (var unread in stream.Drop())
                {
                    if (unread.RemoveReference(ReferenceKind.Stream))
                    {
                        (pending ??= new()).Push(unread);
                    }
                }
            }

            if (entry.Contained is { } contained)
            {
                foreach (var id in contained)
                {
                    if (_entries.TryGetValue(id, out var inner) && inner.RemoveReference(ReferenceKind.Contained))
                    {
                        (pending ??= new()).Push(inner);
                    }
                }
            }
        }
    }
}
