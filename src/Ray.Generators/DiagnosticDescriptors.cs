using Microsoft.CodeAnalysis;

namespace Ray.Generators
{
    /// <summary>
    /// The rules the generator reports. Every shape it cannot turn into a working stub is an error that says
    /// what to change, so a <c>[Remote]</c> method never silently ends up without one.
    /// </summary>
    public static class DiagnosticDescriptors
    {
        private const string Category = "RayGen";

        /// <summary>RAY0002: a parameter or the return type cannot cross a process boundary.</summary>
        public static readonly DiagnosticDescriptor UnsupportedParameterOrReturnType = Create(
            "RAY0002",
            "Unsupported parameter or return type in a remote method",
            "{0} in {1}: {2}");

        /// <summary>RAY0003: the type that holds remote methods or is an actor, or one around it, is not partial.</summary>
        public static readonly DiagnosticDescriptor TypeNotPartial = Create(
            "RAY0003",
            "A type with remote methods or an actor class must be partial",
            "Type '{0}' must be declared 'partial' because {1} and RayGen adds the generated stubs to it; add the 'partial' keyword to its declaration");

        /// <summary>RAY0004: the remote method or actor, or a type around it, is not reachable from the whole assembly.</summary>
        public static readonly DiagnosticDescriptor NotAccessible = Create(
            "RAY0004",
            "A remote method or actor must be accessible from the whole assembly",
            "{0} is {1}, but RayGen's generated stubs and worker registration must reach it from anywhere in the assembly; make it internal or public");

        /// <summary>RAY0005: the remote method, or the type that holds it, is generic.</summary>
        public static readonly DiagnosticDescriptor Generic = Create(
            "RAY0005",
            "A remote method cannot be generic",
            "{0} is generic, but a worker must know the exact types to read the arguments of a remote method; {1}");

        /// <summary>RAY0006: <c>[Remote]</c> on an instance method of a class that is not an actor.</summary>
        public static readonly DiagnosticDescriptor InstanceMethod = Create(
            "RAY0006",
            "A remote method must be static",
            "Method '{0}' is an instance method, but [Remote] on a method makes it a task, which must be static; make the method static, or mark its class '{1}' with [Remote] to make it an actor");

        /// <summary>RAY0007: a <c>[Remote]</c> class that cannot be an actor (abstract, static, generic, no accessible constructor, ...).</summary>
        public static readonly DiagnosticDescriptor InvalidActorClass = Create(
            "RAY0007",
            "An actor class must be a non-abstract, non-static, non-generic class with an accessible constructor",
            "Class '{0}' cannot be an actor because {1}");

        /// <summary>RAY0008: a <c>[Remote]</c> method, actor constructor or actor method of a shape that cannot get a stub (local function, name clash, ...).</summary>
        public static readonly DiagnosticDescriptor CannotGenerate = Create(
            "RAY0008",
            "A stub cannot be generated for this remote method",
            "No stub can be generated for {0}: {1}");

        /// <summary>RAY0009: a <c>[Remote]</c> static method (a task) inside an actor class.</summary>
        public static readonly DiagnosticDescriptor TaskInActorClass = Create(
            "RAY0009",
            "A [Remote] static method cannot be declared inside an actor class",
            "Static method '{0}' is marked [Remote], but it is declared in the actor class '{1}', where its generated 'Remote' stub class would collide with the actor's 'Remote(...)' factory; move the method to a separate static partial class");

        /// <summary>RAY0010: an actor method named like a member of <c>ActorHandle&lt;T&gt;</c>, which its extension method could never win over.</summary>
        public static readonly DiagnosticDescriptor ActorMethodHiddenByHandle = Create(
            "RAY0010",
            "An actor method's name collides with a member of ActorHandle<T>",
            "Actor method '{0}' has the name of the member '{1}' of ActorHandle<{2}>, and an extension method never wins over an instance member, so 'handle.{1}(...)' would silently go to the handle instead of the actor; rename the method");

        /// <summary>
        /// RAY0015: a <c>[Remote]</c> value that an actor does not use: a task-only one (<c>NumGpus</c>, <c>MaxRetries</c>,
        /// <c>RetryExceptions</c>) on an actor class, or any value on an actor's method.
        /// </summary>
        public static readonly DiagnosticDescriptor OptionUnusedByActor = Create(
            "RAY0015",
            "A [Remote] value that an actor does not use",
            "'{0}' has no effect on {1}: {2}; {3}");

        /// <summary>
        /// RAY0016: a <c>[Remote]</c> value that a task does not use: an actor-only one (<c>MaxRestarts</c>,
        /// <c>MaxTaskRetries</c>, <c>MaxConcurrency</c>, <c>DedicatedProcess</c>) on a static method.
        /// </summary>
        public static readonly DiagnosticDescriptor OptionUnusedByTask = Create(
            "RAY0016",
            "A [Remote] value that a task does not use",
            "'{0}' has no effect on remote method '{1}': it applies to actors ([Remote] classes) only; {2}");

        /// <summary>
        /// RAY0017: a streaming value of <c>[Remote]</c> that cannot apply: <c>Streaming</c> on a method whose result is not
        /// an <c>IEnumerable&lt;T&gt;</c> or <c>IAsyncEnumerable&lt;T&gt;</c>, <c>GeneratorBackpressureNumObjects</c> on a method
        /// that does not stream, or out of range.
        /// </summary>
        public static readonly DiagnosticDescriptor StreamingOptionCannotApply = Create(
            "RAY0017",
            "A streaming value of [Remote] that cannot apply",
            "'{0}' on {1} {2}; {3}");

        private static DiagnosticDescriptor Create(string id, string title, string messageFormat)
            => new DiagnosticDescriptor(
                id,
                title,
                messageFormat,
                Category,
                DiagnosticSeverity.Error,
                isEnabledByDefault: true,
                helpLinkUri: HelpLinks.For(id));
    }
}
