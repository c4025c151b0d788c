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

    public ClusterView(Guid self, ResourceSet localTotal, Func<ResourceSet> localAvailable)
    {
        _self = self;
        _localAvailable = localAvailable;
        _nodes[self] = new NodeState(self, string.Empty, localTotal) { IsAlive = true };
    }

    /// <summary>Raised (outside the lock) when a node is declared dead.</summary>
    public event Action<Guid, string>? NodeDied;

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
    }

    /// <summary>Applies the GCS's periodic view of free resources; what this node sent since the last one counts again.</summary>
    public void OnResources(ResourceView view)
    {
        lock (_lock)
        {
            foreach (var entry in view.Nodes)
            {
                var id = NodeIds.ToGuid(entry.NodeId);
                if (id != _self && _nodes.TryGetValue(id, out var node))
                {
                    node.Reported = ResourceSet.FromMap(entry.Available);
                    node.Sent = ResourceSet.Empty;
                }
            }
        }
    }

    /// <summary>Counts work this node sent to <paramref name="node"/> until the node's next report.</summary>
    public void Reserve(Guid node, ResourceSet resources)
    {
        lock (_lock)
        {
            if (node != _self && _nodes.TryGetValue(node, out var state))
            {
                state.Sent = state.Sent.Add(resources);
            }
        }
    }

    /// <summary>Work sent to <paramref name="node"/> came back (finished, spilled back) before its next report.</summary>
    public void Unreserve(Guid node, ResourceSet resources)
    {
        lock (_lock)
        {
            if (node != _self && _nodes.TryGetValue(node, out var state) && state.Sent.Contains(resources))
            {
                state.Sent = state.Sent.Subtract(resources);
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

                var available = node.Id == _self ? local : node.Reported.Contains(node.Sent) ? node.Reported.Subtract(node.Sent) : ResourceSet.Empty;
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

        public ResourceSet Sent { get; set; } = ResourceSet.Empty;
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
