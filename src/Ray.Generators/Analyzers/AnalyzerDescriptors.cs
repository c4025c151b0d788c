using Microsoft.CodeAnalysis;

namespace Ray.Generators.Analyzers
{
    /// <summary>
    /// The rules the analyzers report: what the generator cannot see from one declaration (whether a type can be
    /// serialized), and Ray's documented anti-patterns in code that calls remote methods.
    /// </summary>
    public static class AnalyzerDescriptors
    {
        private const string Category = "RayGen";

        /// <summary>RAY0001: a parameter or result of a remote method or actor cannot be serialized by MemoryPack.</summary>
        public static readonly DiagnosticDescriptor NotSerializable = Create(
            "RAY0001",
            "A remote argument or result must be serializable",
            "{0} of {1} has type '{2}', which cannot be sent to another process{3}; {4}",
            DiagnosticSeverity.Error);

        /// <summary>RAY0011: a blocking wait (<c>Get()</c>, <c>Wait()</c>, <c>ray.Get(references)</c>) inside an async remote method or actor method.</summary>
        public static readonly DiagnosticDescriptor BlockingGetInAsync = Create(
            "RAY0011",
            "Use 'await' instead of a blocking Get() in async remote code",
            "'{0}' blocks a worker thread inside async {1}; write '{2}' instead, which frees the thread while the objects are not ready",
            DiagnosticSeverity.Warning);

        /// <summary>RAY0012: <c>await</c>, <c>Get()</c> or <c>Wait()</c> on a future inside the loop that submits it.</summary>
        public static readonly DiagnosticDescriptor GetInSubmittingLoop = Create(
            "RAY0012",
            "Do not wait for a future in the loop that submits it",
            "'{0}' waits for the result of '{1}' in the same loop that submits it, so the tasks run one after another instead of in parallel; collect the futures in the loop and get them all after it, for example with 'await ray.GetAsync(references)'",
            DiagnosticSeverity.Warning);

        /// <summary>RAY0013: the same large value passed by value to a remote call on every pass of a loop.</summary>
        public static readonly DiagnosticDescriptor LargeValueInLoop = Create(
            "RAY0013",
            "Put a large value in the object store once instead of passing it in a loop",
            "'{0}' ({1}) is passed by value to '{2}' on every pass of the loop, so it is serialized and copied once per task; call 'ray.Put({0})' once before the loop and pass the ObjectRef it returns",
            DiagnosticSeverity.Warning);

        /// <summary>
        /// RAY0014: an <c>ArrayView&lt;T&gt;</c> anywhere but as a non-nullable parameter of a remote method, actor
        /// constructor or actor method: a result, inside a parameter's type, or a nullable or optional parameter.
        /// </summary>
        public static readonly DiagnosticDescriptor ArrayViewOutsideParameter = Create(
            "RAY0014",
            "An ArrayView<T> can only be a non-nullable parameter of a remote method",
            "{0} of {1} {2}; {3}",
            DiagnosticSeverity.Error);

        private static DiagnosticDescriptor Create(string id, string title, string messageFormat, DiagnosticSeverity severity)
            => new DiagnosticDescriptor(
                id,
                title,
                messageFormat,
                Category,
                severity,
                isEnabledByDefault: true,
                helpLinkUri: HelpLinks.For(id));
    }
}
