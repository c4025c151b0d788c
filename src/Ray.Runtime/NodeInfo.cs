using Ray.Gcs;
using Ray.Runtime.Protocol;

namespace Ray;

/// <summary>One node of the cluster, from <see cref="RayRuntime.GetNodesAsync"/> (Ray's <c>ray.nodes()</c>).</summary>
public sealed record NodeInfo
{
    /// <summary>The node's id: 32 hex digits, as <see cref="RayRuntime.NodeId"/> and <c>SchedulingStrategy.NodeAffinity</c> take it.</summary>
    public required string NodeId { get; init; }

    /// <summary>Where the node's raylet listens, <c>ip:port</c> (empty for an embedded node, which does not listen on the network).</summary>
    public required string Address { get; init; }

    /// <summary>Whether the node runs the cluster's GCS.</summary>
    public required bool IsHead { get; init; }

    /// <summary>Whether the node is alive; a dead node stays in the list with <see cref="DeathReason"/>.</summary>
    public required bool IsAlive { get; init; }

    /// <summary>The resources the node offers, by name (<c>CPU</c>, <c>GPU</c>, custom).</summary>
    public required IReadOnlyDictionary<string, double> Resources { get; init; }

    /// <summary>The resources not in use when the node last reported.</summary>
    public required IReadOnlyDictionary<string, double> AvailableResources { get; init; }

    /// <summary>Why the node is dead (it was stopped, or it stopped answering), or empty.</summary>
    public string DeathReason { get; init; } = string.Empty;

    /// <summary>A line for printing: id, address, state and resources.</summary>
    public override string ToString() =>
        $"{NodeId} {(Address.Length > 0 ? Address : "(embedded)")}{(IsHead ? " head" : string.Empty)} {(IsAlive ? "alive" : "dead")} " +
        string.Join(", ", Resources.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}: {r.Value:0.##}"));

    internal static NodeInfo From(GcsNodeInfo info) => new()
    {
        NodeId = NodeIds.Format(info.NodeId),
        Address = info.Address,
        IsHead = info.IsHead,
        IsAlive = info.IsAlive,
        Resources = new Dictionary<string, double>(info.Total),
        AvailableResources = new Dictionary<string, double>(info.Available),
        DeathReason = info.DeathReason,
    };
}
