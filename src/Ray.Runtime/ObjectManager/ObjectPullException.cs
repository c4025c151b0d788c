using Ray.Core;

namespace Ray.ObjectManager;

/// <summary>Why one location could not deliver (its part of) an object.</summary>
/// <param name="Location">The node's address.</param>
/// <param name="Reason">What went wrong, for the message.</param>
/// <param name="NotFound">The node answered that it has no copy (as opposed to failing).</param>
internal sealed record PullFailure(string Location, string Reason, bool NotFound);

/// <summary>
/// An object could not be copied to this node: every location it was pulled from failed. Nothing of it was kept (the
/// region was given back unsealed). The message names the object, its size and each location with its reason.
/// </summary>
internal sealed class ObjectPullException(ObjectId id, long size, IReadOnlyList<PullFailure> failures)
    : RayException(Describe(id, size, failures))
{
    public ObjectId ObjectId { get; } = id;

    public long Size { get; } = size;

    /// <summary>One entry per location tried, in the order they failed.</summary>
    public IReadOnlyList<PullFailure> Failures { get; } = failures;

    /// <summary>Every location answered that it has no copy: the object is lost unless it can be made again.</summary>
    public bool ObjectLost => Failures.All(f => f.NotFound);

    private static string Describe(ObjectId id, long size, IReadOnlyList<PullFailure> failures)
    {
        if (failures.Count == 0)
        {
            return $"Could not pull object {id} ({ByteSize.Format(size)}) to this node: no node is known to hold a copy.";
        }

        var reasons = string.Join("; ", failures.Select(f => $"{f.Location}: {f.Reason}"));
        return $"Could not pull object {id} ({ByteSize.Format(size)}) to this node from any of its {failures.Count} location(s): {reasons}.";
    }
}
