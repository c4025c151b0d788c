namespace Ray.Actors;

/// <summary>Who makes actor calls: a process (its pid) on a node. Calls from one caller run in the order they were made.</summary>
internal readonly record struct CallerKey(Guid Node, int ProcessId);

/// <summary>
/// An actor's calls not sent to it yet, one queue per caller (Ray's per-caller ordering): a call waits only for the
/// earlier calls of its own caller, so one caller's call whose arguments are not ready holds nobody else's up.
/// </summary>
internal sealed class CallQueues
{
    private readonly Dictionary<CallerKey, Queue<ActorCall>> _queues = [];

    public int Count { get; private set; }

    public void Enqueue(ActorCall call)
    {
        if (!_queues.TryGetValue(call.Caller, out var queue))
        {
            _queues[call.Caller] = queue = new Queue<ActorCall>();
        }

        queue.Enqueue(call);
        Count++;
    }

    /// <summary>Takes, caller by caller, the calls at the front whose arguments are ready: those that may be sent now.</summary>
    public void TakeReady(List<ActorCall> ready)
    {
        foreach (var queue in _queues.Values)
        {
            while (queue.TryPeek(out var call) && call.PendingArguments == 0)
            {
                ready.Add(queue.Dequeue());
                Count--;
            }
        }
    }

    /// <summary>Removes one call; false when it is not queued.</summary>
    public bool Remove(ActorCall call)
    {
        if (!_queues.TryGetValue(call.Caller, out var queue) || !queue.Contains(call))
        {
            return false;
        }

        var kept = queue.Where(c => c != call).ToArray();
        queue.Clear();
        foreach (var other in kept)
        {
            queue.Enqueue(other);
        }

        Count--;
        return true;
    }

    public ActorCall? Find(ObjectId id)
    {
        foreach (var queue in _queues.Values)
        {
            foreach (var call in queue)
            {
                if (call.Id == id)
                {
                    return call;
                }
            }
        }

        return null;
    }

    /// <summary>Puts calls that must run again (in flight when the actor restarted) back at the front of their callers' queues, in their original order.</summary>
    public void RequeueFront(IEnumerable<ActorCall> calls)
    {
        foreach (var group in calls.GroupBy(c => c.Caller))
        {
            var rest = _queues.TryGetValue(group.Key, out var queue) ? queue.ToArray() : [];
            var front = group.OrderBy(c => c.Sequence).ToArray();
            _queues[group.Key] = new Queue<ActorCall>(front.Concat(rest));
            Count += front.Length;
        }
    }

    /// <summary>Takes every queued call (the actor died).</summary>
    public List<ActorCall> TakeAll()
    {
        var all = _queues.Values.SelectMany(q => q).ToList();
        _queues.Clear();
        Count = 0;
        return all;
    }
}
