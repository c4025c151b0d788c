namespace Ray.Infrastructure;

/// <summary>
/// Collects the <see cref="ObjectRef"/>s that a value holds while it is serialized on this thread. A value that
/// holds references keeps their objects alive for as long as it exists (Ray's nested references), so the runtime
/// needs to know which ids a serialized argument, result or <c>Put</c> contains; keeping the instances reachable
/// until the value is handed over also keeps their own release from overtaking it.
/// </summary>
internal static class ContainedReferences
{
    [ThreadStatic]
    private static bool t_active;

    [ThreadStatic]
    private static List<ObjectRef>? t_collected;

    /// <summary>Starts collecting on this thread; dispose the scope to stop and restore any outer collection.</summary>
    public static Scope Collect()
    {
        var scope = new Scope(t_active, t_collected);
        t_active = true;
        t_collected = null;
        return scope;
    }

    /// <summary>Called by the <see cref="ObjectRef{T}"/> formatter for every reference it writes.</summary>
    public static void Add(ObjectRef reference)
    {
        if (t_active)
        {
            (t_collected ??= []).Add(reference);
        }
    }

    /// <summary>A collection in progress on one thread.</summary>
    public readonly struct Scope(bool outerActive, List<ObjectRef>? outerCollected) : IDisposable
    {
        /// <summary>The references written since the scope started; null when there were none.</summary>
        public ObjectRef[]? Collected => t_collected is { Count: > 0 } list ? [.. list] : null;

        /// <summary>Stops collecting.</summary>
        public void Dispose()
        {
            t_active = outerActive;
            t_collected = outerCollected;
        }
    }
}
