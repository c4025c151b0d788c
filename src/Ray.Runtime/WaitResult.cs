namespace Ray;

/// <summary>What <see cref="RayRuntime.WaitAsync{TRef}"/> returns: the references that are ready and those that are not, each in input order.</summary>
/// <typeparam name="TRef">The reference type.</typeparam>
/// <param name="Ready">References whose objects are ready (a value or an error).</param>
/// <param name="NotReady">The others.</param>
public sealed record WaitResult<TRef>(IReadOnlyList<TRef> Ready, IReadOnlyList<TRef> NotReady)
    where TRef : ObjectRef
{
    /// <summary>The counts and the ids on each side, for printing: <c>2 ready [a, b], 1 not ready [c]</c>.</summary>
    public override string ToString() =>
        $"{Ready.Count} ready [{string.Join(", ", Ready.Select(r => r.Id))}], {NotReady.Count} not ready [{string.Join(", ", NotReady.Select(r => r.Id))}]";
}
