namespace Ray.Generators.Model
{
    /// <summary>A static <c>[Remote]</c> method that gets a stub, a descriptor and an invoker.</summary>
    /// <param name="ContainingType">The type that declares it.</param>
    /// <param name="Accessibility">The stubs' accessibility: <c>public</c> or <c>internal</c>, as the method's.</param>
    /// <param name="Method">The method itself: its name, id, result and parameters.</param>
    /// <param name="Options">The values set on the method's <c>[Remote]</c> attribute.</param>
    internal sealed record RemoteMethodSpec(
        TypeHierarchySpec ContainingType,
        string Accessibility,
        MethodSpec Method,
        RemoteOptionsSpec Options);

    /// <summary>The named arguments set on a method's <c>[Remote]</c> attribute; null where not set.</summary>
    /// <param name="NumCpus">CPUs per call.</param>
    /// <param name="NumGpus">GPUs per call.</param>
    /// <param name="MaxRetries">Retries when the worker dies.</param>
    /// <param name="RetryExceptions">Whether user exceptions are retried.</param>
    internal sealed record RemoteOptionsSpec(double? NumCpus, double? NumGpus, int? MaxRetries, bool? RetryExceptions)
    {
        /// <summary>An attribute with no named arguments.</summary>
        public static RemoteOptionsSpec None { get; } = new RemoteOptionsSpec(null, null, null, null);
    }
}
