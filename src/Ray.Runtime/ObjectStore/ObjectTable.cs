using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Ray.ObjectStore;

/// <summary>
/// The node's table of objects: task results and <c>Put</c> values, held in the raylet's memory. Objects are
/// immutable once ready. Large objects in shared memory and freeing by reference count are the object store's
/// next step; today an object lives until the node shuts down.
/// </summary>
internal sealed class ObjectTable
{
    private readonly ConcurrentDictionary<ObjectId, ObjectEntry> _entries = new();

    public int Count => _entries.Count;

    public ObjectEntry GetOrCreate(ObjectId id) =>
        _entries.TryGetValue(id, out var entry) ? entry : _entries.GetOrAdd(id, static id => new ObjectEntry(id));

    public bool TryGet(ObjectId id, [NotNullWhen(true)] out ObjectEntry? entry) => _entries.TryGetValue(id, out entry);

    public ObjectEntry Put(ObjectId id, ReadOnlyMemory<byte> value)
    {
        var entry = GetOrCreate(id);
        entry.TrySetValue(value);
        return entry;
    }
}
