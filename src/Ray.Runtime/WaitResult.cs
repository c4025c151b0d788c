namespace Ray;

/// <summary>What <see cref="RayRuntime.WaitAsync{TRef}"/> returns: the references that are ready and those that are not, each in input order.</summary>
/// <typeparam name="TRef">The reference type.</typeparam>
/// <param name="Ready">References whose objects are ready (a value or an error).</param>
/// <param name="NotReady">The others.</param>
public sealed record WaitResult<TRef>(IReadOnlyList<TRef> Ready, IReadOnlyList<TRef> NotReady)
    where TRef : ObjectRef;
