namespace Ray;

/// <summary>The identity of an actor in a RayGen cluster.</summary>
public readonly record struct ActorId(ObjectId Value)
{
    /// <summary>A new, unique actor id.</summary>
    public static ActorId New() => new(ObjectId.New());

    /// <inheritdoc/>
    public override string ToString() => Value.ToString();
}
