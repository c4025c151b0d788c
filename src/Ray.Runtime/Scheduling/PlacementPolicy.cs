namespace Ray.Scheduling;

/// <summary>
/// Which node runs a task (Ray's cluster scheduling policies). Default (hybrid): the local node while it is less than
/// half used, else the least used node with room, preferring the node that holds most of the task's large arguments;
/// spread: the nodes with room in turn; node affinity: that node (or, when soft and it cannot, the default).
/// Feasibility is against the whole cluster: a task that no live node could ever run fails at once.
/// </summary>
internal sealed class PlacementPolicy(Guid self)
{
    /// <summary>Below this share of its busiest resource in use, the local node takes the task (Ray's default, 0.5).</summary>
    private const double LocalThreshold = 0.5;

    /// <summary>Arguments smaller than this do not pull a task towards their node.</summary>
    private const long LocalityBytes = 100 * 1024;

    private int _spreadNext;

    /// <summary>Why no node could ever run a task of this shape and placement; null when some node could.</summary>
    public static string? Infeasible(string taskName, ResourceSet resources, Placement placement, IReadOnlyList<NodeSnapshot> nodes)
    {
        if (placement.Kind == PlacementKind.NodeAffinity && !placement.Soft)
        {
            var node = nodes.FirstOrDefault(n => n.Id == placement.Node);
            if (node is null)
            {
                return $"Task {taskName} must run on node {placement.Node:n} (NodeAffinity, not soft), which is not a live node of the cluster. " +
                       "Use soft: true to let it run elsewhere, or another node's id (ray.GetNodesAsync()).";
            }

            return node.Total.Contains(resources)
                ? null
                : $"Task {taskName} asks for {resources}, but node {placement.Node:n} (NodeAffinity, not soft) has only {node.Total} in total, so it could never run there.";
        }

        if (nodes.Any(n => n.Total.Contains(resources)))
        {
            return null;
        }

        var largest = nodes.Count == 1 ? $"the node has only {nodes[0].Total}" : $"no node of the cluster has that much (the largest: {string.Join("; ", nodes.Select(n => n.Total.ToString()).Distinct().Take(3))})";
        return $"Task {taskName} asks for {resources}, but {largest} in total, so it could never run. " +
               "Lower the task's NumCpus/NumGpus/Resources, or add a node that offers them (raygen start --num-cpus/--resources; RayOptions for an embedded node).";
    }

    /// <summary>
    /// The node for a task: <paramref name="argumentBytes"/> gives how many bytes of its large arguments each node holds;
    /// <paramref name="avoid"/> are nodes that sent it back for want of room (used only when nothing else can run it).
    /// Null when no live node can run it at all.
    /// </summary>
    public Guid? Choose(ResourceSet resources, Placement placement, IReadOnlyList<NodeSnapshot> nodes, IReadOnlyDictionary<Guid, long>? argumentBytes, ISet<Guid>? avoid)
    {
        var feasible = nodes.Where(n => n.Total.Contains(resources)).ToList();
        if (feasible.Count == 0)
        {
            return null;
        }

        if (placement.Kind == PlacementKind.NodeAffinity)
        {
            if (feasible.Any(n => n.Id == placement.Node))
            {
                return placement.Node;
            }

            if (!placement.Soft)
            {
                return null;
            }
        }

        if (avoid is { Count: > 0 } && feasible.Count > avoid.Count)
        {
            feasible.RemoveAll(n => avoid.Contains(n.Id) && n.Id != self);
        }

        var withRoom = feasible.Where(n => n.Available.Contains(resources)).ToList();
        if (placement.Kind == PlacementKind.Spread)
        {
            var candidates = withRoom.Count > 0 ? withRoom : feasible;
            candidates.Sort(static (a, b) => a.Id.CompareTo(b.Id));
            return candidates[(int)((uint)Interlocked.Increment(ref _spreadNext) % (uint)candidates.Count)].Id;
        }

        // Large arguments pull the task towards the node that holds most of their bytes, if it has room.
        if (argumentBytes is { Count: > 0 })
        {
            var (holder, bytes) = argumentBytes.MaxBy(a => a.Value);
            if (bytes >= LocalityBytes && withRoom.Any(n => n.Id == holder))
            {
                return holder;
            }
        }

        var local = feasible.FirstOrDefault(n => n.Id == self);
        if (local is not null && local.Available.Contains(resources) && local.Utilization < LocalThreshold)
        {
            return self;
        }

        if (withRoom.Count > 0)
        {
            // The least used node with room; this node first among equals, so work stays where its data is.
            return withRoom.MinBy(n => (n.Utilization, n.Id == self ? 0 : 1))!.Id;
        }

        // Nowhere has room now: wait here if this node can ever run it, else on the least used node that can.
        return local?.Id ?? feasible.MinBy(n => n.Utilization)!.Id;
    }
}

/// <summary>How the scheduler sends a task it owns to another node, and asks that node to stop it.</summary>
internal interface ITaskForwarder
{
    /// <summary>Sends <paramref name="task"/> to <paramref name="node"/>; its outcome comes back to the scheduler (done, spilled back).</summary>
    void Forward(TaskRecord task, Guid node);

    void Cancel(TaskRecord task, Guid node, bool force);

    /// <summary>Tells <paramref name="node"/>, which runs the streaming task, how many of its items the reader has taken.</summary>
    void StreamConsumed(TaskRecord task, Guid node, long consumed);
}
