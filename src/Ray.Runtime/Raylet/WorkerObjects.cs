using Ray.ObjectStore;

namespace Ray.Raylet;

/// <summary>
/// What one worker holds in the node's object table and store: the objects it borrows (it has references to them),
/// the stored objects it has pinned for reading, and the regions it is filling. When the worker dies, all of it is
/// given back. Guarded by its own lock.
/// </summary>
internal sealed class WorkerObjects
{
    private readonly object _lock = new();
    private readonly HashSet<ObjectId> _borrowed = [];
    private readonly Dictionary<ObjectId, (StoredObject Stored, int Count)> _pins = [];
    private readonly Dictionary<long, StoreRegion> _allocations = [];
    private bool _gone;

    /// <summary>Starts borrowing; false when the worker already borrowed it or is gone.</summary>
    public bool Borrow(ObjectId id)
    {
        lock (_lock)
        {
            return !_gone && _borrowed.Add(id);
        }
    }

    /// <summary>Stops borrowing; false when it did not borrow it.</summary>
    public bool Return(ObjectId id)
    {
        lock (_lock)
        {
            return _borrowed.Remove(id);
        }
    }

    /// <summary>Records a pin; false when the worker is gone (the caller unpins).</summary>
    public bool AddPin(StoredObject stored)
    {
        lock (_lock)
        {
            if (_gone)
            {
                return false;
            }

            _pins[stored.Id] = (stored, _pins.TryGetValue(stored.Id, out var pin) ? pin.Count + 1 : 1);
            return true;
        }
    }

    /// <summary>Ends one pin of <paramref name="id"/>; the pinned object, or null when the worker held no pin on it.</summary>
    public StoredObject? RemovePin(ObjectId id)
    {
        lock (_lock)
        {
            if (!_pins.TryGetValue(id, out var pin))
            {
                return null;
            }

            if (pin.Count == 1)
            {
                _pins.Remove(id);
            }
            else
            {
                _pins[id] = (pin.Stored, pin.Count - 1);
            }

            return pin.Stored;
        }
    }

    /// <summary>Records a region handed to the worker; false when the worker is gone (the caller aborts it).</summary>
    public bool AddAllocation(StoreRegion region)
    {
        lock (_lock)
        {
            if (_gone)
            {
                return false;
            }

            _allocations[region.Offset] = region;
            return true;
        }
    }

    /// <summary>The worker sealed or aborted a region; false when it was not handed to this worker.</summary>
    public bool RemoveAllocation(StoreRegion region)
    {
        lock (_lock)
        {
            return _allocations.TryGetValue(region.Offset, out var held) && held == region && _allocations.Remove(region.Offset);
        }
    }

    /// <summary>The worker is gone: everything it held, to give back.</summary>
    public (ObjectId[] Borrowed, List<StoredObject> Pins, StoreRegion[] Allocations) Clear()
    {
        lock (_lock)
        {
            _gone = true;
            var pins = new List<StoredObject>();
            foreach (var (stored, count) in _pins.Values)
            {
                for (var i = 0; i < count; i++)
                {
                    pins.Add(stored);
                }
            }

            var result = (_borrowed.ToArray(), pins, _allocations.Values.ToArray());
            _borrowed.Clear();
            _pins.Clear();
            _allocations.Clear();
            return result;
        }
    }
}
