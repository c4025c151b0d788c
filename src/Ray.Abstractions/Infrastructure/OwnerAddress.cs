using System.ComponentModel;
using System.Runtime.InteropServices;

namespace Ray.Infrastructure;

/// <summary>
/// Who owns an object or an actor: the node whose raylet keeps its state (value or locations, reference counts,
/// lineage) on behalf of the process that made it, and that process. References carry it across processes and
/// machines, so whoever holds one knows whom to ask.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
[StructLayout(LayoutKind.Sequential)]
public readonly record struct OwnerAddress(Guid Node, int ProcessId)
{
    /// <summary>No owner known (a reference made outside any runtime).</summary>
    public static OwnerAddress None => default;

    /// <summary>Whether no owner is known.</summary>
    public bool IsNone => Node == Guid.Empty;

    /// <inheritdoc/>
    public override string ToString() => IsNone ? "none" : $"node {Node:n} pid {ProcessId}";
}
