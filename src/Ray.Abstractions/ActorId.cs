namespace Ray;

/// <summary>
/// The identity of an actor in a RayGen cluster: the id of the task that creates it, so it names its job and the
/// process that created it.
/// </summary>
public readonly record struct ActorId(ObjectId Value)
{
    /// <summary>A new, unique actor id outside any runtime's counter (tests and tools).</summary>
    public static ActorId New() => new(ObjectId.New());

    /// <summary>The job the actor belongs to.</summary>
    public JobId Job => Value.Job;

    /// <inheritdoc/>
    public override string ToString() => Value.ToString();
}
