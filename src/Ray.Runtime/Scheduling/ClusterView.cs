using Ray.Gcs;
using Ray.Runtime.Protocol;

namespace Ray.Scheduling;

/// <summary>
/// What a node knows of the cluster for placing work (Ray's cluster resource view): every node, alive or dead, its
/// address, its total resources and its free ones as it last reported them (the GCS sends the view every heartbeat
/// period), corrected by the work this node sent there since (so a burst of forwarded tasks does not pile onto one
/// node before its next report). This node's own entry is exact: the scheduler reads its resources directly.
/// </summary>
internal sealed class ClusterView
{
    private readonly object _lock = new();
    private readonly Dictionary<Guid, NodeState> _nodes = [];
    private readonly Guid _self;
    private readonly Func<ResourceSet> _localAvailable;
    private readonly TimeProvider _time;
    private readonly long _started;
    private long _reportLagMs = 2050;

    /// <param name="self">This node.</param>
    /// <param name="localTotal">This node's resources.</param>
    /// <param name="localAvailable">What new work could have on this node now.</param>
    /// <param name="time">The clock that dates work sent against later reports; the system's by default.</param>
    public ClusterView(Guid self, ResourceSet localTotal, Func<ResourceSet> localAvailable, TimeProvider? time = null)
    {
        _self = self;
        _localAvailable = localAvailable;
        _time = time ?? TimeProvider.System;
        _started = _time.GetTimestamp();
        _nodes[self] = new NodeState(self, string.Empty, localTotal) { IsAlive = true };
    }

    /// <summary>Raised (outside the lock) when a node is declared dead.</summary>
    public event Action<Guid, string>? NodeDied;

    /// <summary>Raised (outside the lock) after a report may have given other nodes room: work queued here for want of it can look again.</summary>
    public event Action? RoomChanged;

    public Guid Self => _self;

    /// <summary>Applies a node table change from the GCS.</summary>
    public void OnNodeChanged(GcsNodeInfo info)
    {
        var id = NodeIds.ToGuid(info.NodeId);
        var died = false;
        lock (_lock)
        {
            if (!_nodes.TryGetValue(id, out var node))
            {
                _nodes[id] = node = new NodeState(id, info.Address, ResourceSet.FromMap(info.Total));
            }

            node.Address = info.Address;
            died = node.IsAlive && !info.IsAlive;
            node.IsAlive = info.IsAlive;
            if (id != _self)
            {
                node.Reported = ResourceSet.FromMap(info.Available);
            }
        }

        if (died)
        {
            NodeDied?.Invoke(id, info.DeathReason);
        }

        RoomChanged?.Invoke();
    }

    /// <summary>
    /// Applies the GCS's periodic view of free resources. Work this node sent a node counts against it until the node's
    /// reports surely include it (they are made every heartbeat period and relayed every period: two periods after the
    /// send), so a report that left the node before the work arrived does not make it look free.
    /// </summary>
    public void OnResources(ResourceView view)
    {
        var now = NowMs();
        lock (_lock)
        {
            foreach (var entry in view.Nodes)
            {
                var id = NodeIds.ToGuid(entry.NodeId);
                if (id != _self && _nodes.TryGetValue(id, out var node))
                {
                    node.Reported = ResourceSet.FromMap(entry.Available);
                    node.Sent.Expire(now - _reportLagMs);
                }
            }
        }

        RoomChanged?.Invoke();
    }

    /// <summary>Milliseconds since the view was made, on its clock.</summary>
    private long NowMs() => (long)_time.GetElapsedTime(_started).TotalMilliseconds;

    /// <summary>How long a report may lag behind work this node sent (two heartbeat periods).</summary>
    public void SetHeartbeatPeriod(TimeSpan period) => _reportLagMs = (long)(2 * period.TotalMilliseconds) + 50;

    /// <summary>Counts work this node sent to <paramref name="node"/> against it until the node's reports include it.</summary>
    public void Reserve(Guid node, ResourceSet resources)
    {
        lock (_lock)
        {
            if (node != _self && _nodes.TryGetValue(node, out var state))
            {
                state.Sent.Add(resources, NowMs());
            }
        }
    }

    /// <summary>Work sent to <paramref name="node"/> came back (finished, spilled back) before its reports showed it.</summary>
    public void Unreserve(Guid node, ResourceSet resources)
    {
        lock (_lock)
        {
            if (node != _self && _nodes.TryGetValue(node, out var state))
            {
                state.Sent.Remove(resources);
            }
        }
    }

    public string? AddressOf(Guid node)
    {
        lock (_lock)
        {
            return _nodes.TryGetValue(node, out var state) && state.Address.Length > 0 ? state.Address : null;
        }
    }

    public bool IsAlive(Guid node)
    {
        lock (_lock)
        {
            return _nodes.TryGetValue(node, out var state) && state.IsAlive;
        }
    }

    /// <summary>A snapshot of the live nodes: totals and what is free (this node's exact, the others' as estimated).</summary>
    public IReadOnlyList<NodeSnapshot> LiveNodes()
    {
        var local = _localAvailable();
        lock (_lock)
        {
            var nodes = new List<NodeSnapshot>(_nodes.Count);
            foreach (var node in _nodes.Values)
            {
                if (!node.IsAlive)
                {
                    continue;
                }

                var available = node.Id == _self ? local : node.Sent.Left(node.Reported);
                nodes.Add(new NodeSnapshot(node.Id, node.Address, node.Total, available));
            }

            return nodes;
        }
    }

    /// <summary>The live node <paramref name="node"/>, or null when it is dead or unknown.</summary>
    public NodeSnapshot? Find(Guid node)
    {
        foreach (var snapshot in LiveNodes())
        {
            if (snapshot.Id == node)
            {
                return snapshot;
            }
        }

        return null;
    }

    private sealed class NodeState(Guid id, string address, ResourceSet total)
    {
        public Guid Id { get; } = id;

        public string Address { get; set; } = address;

        public ResourceSet Total { get; } = total;

        public bool IsAlive { get; set; } = true;

        public ResourceSet Reported { get; set; } = total;

        /// <summary>Work this node sent there, and when, that its reports may not show yet.</summary>
        public SentWork Sent { get; } = new();
    }

    /// <summary>
    /// The work sent to one node that its reports may not show yet, by shape, each with when it was sent (oldest first).
    /// A burst of forwarded tasks adds one entry each, so what is left on the node is kept, not summed on every read:
    /// placement asks for it on every task.
    /// </summary>
    private sealed class SentWork
    {
        private readonly Dictionary<ResourceSet, Queue<long>> _byShape = [];
        private ResourceSet? _reported;
        private ResourceSet? _left;

        public void Add(ResourceSet resources, long at)
        {
            if (!_byShape.TryGetValue(resources, out var times))
            {
                _byShape[resources] = times = new Queue<long>();
            }

            times.Enqueue(at);
            _left = null;
        }

        /// <summary>Work of this shape came back: the oldest such entry goes.</summary>
        public void Remove(ResourceSet resources)
        {
            if (_byShape.TryGetValue(resources, out var times) && times.TryDequeue(out _))
            {
                _left = null;
                if (times.Count == 0)
                {
                    _byShape.Remove(resources);
                }
            }
        }

        /// <summary>Forgets what was sent before <paramref name="before"/>: the node's reports include it by now.</summary>
        public void Expire(long before)
        {
            foreach (var times in _byShape.Values)
            {
                while (times.TryPeek(out var at) && at < before)
                {
                    times.Dequeue();
                    _left = null;
                }
            }
        }

        /// <summary>What <paramref name="reported"/> leaves once the work sent since is taken from it.</summary>
        public ResourceSet Left(ResourceSet reported)
        {
            if (_left is not null && ReferenceEquals(_reported, reported))
            {
                return _left;
            }

            var left = reported;
            foreach (var (shape, times) in _byShape)
            {
                left = left.Minus(shape.Times(times.Count));
            }

            _reported = reported;
            _left = left;
            return left;
        }
    }
}

/// <summary>One live node as placement sees it.</summary>
internal sealed record NodeSnapshot(Guid Id, string Address, ResourceSet Total, ResourceSet Available)
{
    /// <summary>The busiest resource's share in use, 0 (idle) to 1 (full): Ray's "critical resource utilization".</summary>
    public double Utilization
    {
        get
        {
            var highest = 0.0;
            foreach (var (name, total) in Total.Amounts)
            {
                if (total > 0)
                {
                    highest = Math.Max(highest, 1 - (Available[name] / total));
                }
            }

            return highest;
        }
    }
}
