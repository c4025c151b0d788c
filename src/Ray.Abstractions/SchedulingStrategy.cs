namespace Ray;

/// <summary>
/// Where the cluster places a task or an actor (Ray's <c>scheduling_strategy</c>). The default prefers the node of the
/// caller until it is about half used, then the least used node that has room, and pulls a task towards the node that
/// holds most of its large arguments.
/// </summary>
public abstract record SchedulingStrategy
{
    private protected SchedulingStrategy()
    {
    }

    /// <summary>Ray's default ("hybrid") policy.</summary>
    public static SchedulingStrategy Default { get; } = new DefaultStrategy();

    /// <summary>Spreads tasks or actors over the nodes that can run them, one node after another (Ray's <c>"SPREAD"</c>).</summary>
    public static SchedulingStrategy Spread { get; } = new SpreadStrategy();

    /// <summary>
    /// Runs on the node <paramref name="nodeId"/> (as <c>NodeInfo.NodeId</c> and <c>RayRuntime.NodeId</c> give it).
    /// With <paramref name="soft"/>, another node is used when that one is dead or cannot run it; without, the call fails
    /// then with a clear error (Ray's <c>NodeAffinitySchedulingStrategy</c>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="nodeId"/> is not 32 hex digits.</exception>
    public static SchedulingStrategy NodeAffinity(string nodeId, bool soft = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        if (!Guid.TryParseExact(nodeId, "n", out var node))
        {
            throw new ArgumentException($"'{nodeId}' is not a node id (32 hex digits, as NodeInfo.NodeId gives it).", nameof(nodeId));
        }

        return new NodeAffinityStrategy(node, soft);
    }

    internal sealed record DefaultStrategy : SchedulingStrategy;

    internal sealed record SpreadStrategy : SchedulingStrategy;

    internal sealed record NodeAffinityStrategy(Guid Node, bool Soft) : SchedulingStrategy;
}
