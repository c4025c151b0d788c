using Ray.Generators.Helpers;

namespace Ray.Generators.Model
{
    /// <summary>
    /// A <c>[Remote]</c> class (an actor): the <c>Remote(...)</c> factories added to it, the extension methods that
    /// call its methods through an <c>ActorHandle</c>, and the descriptors and registration behind both.
    /// </summary>
    /// <param name="Type">The actor class and the types around it; <see cref="TypeHierarchySpec.FullName"/> is the class descriptor's name.</param>
    /// <param name="DocumentationId">The class's documentation comment id, for <c>cref</c>s.</param>
    /// <param name="ExtensionsClassName">The top-level static class that holds the extension methods, for example <c>CounterActorExtensions</c>.</param>
    /// <param name="ExtensionsAccessibility"><c>public</c> when the class is public all the way out, otherwise <c>internal</c>.</param>
    /// <param name="Options">The values set on the class's <c>[Remote]</c> attribute.</param>
    /// <param name="ObsoleteAttribute">The class's <c>[Obsolete]</c> attribute, repeated on the extension class; null when it has none.</param>
    /// <param name="HidesInheritedWithOptions">Whether a base type has a <c>WithOptions(ActorOptions)</c> the generated one hides.</param>
    /// <param name="HidesInheritedConfigured">Whether a base type has an <c>ActorConfigured</c> member the generated struct hides.</param>
    /// <param name="HidesInheritedActorClass">Whether a base type has an accessible <c>__RayActor</c> member the generated class hides.</param>
    /// <param name="Constructors">The constructors that get a factory, in a stable order.</param>
    /// <param name="Methods">The public instance methods that get an extension method on the handle, in a stable order.</param>
    internal sealed record ActorSpec(
        TypeHierarchySpec Type,
        string DocumentationId,
        string ExtensionsClassName,
        string ExtensionsAccessibility,
        ActorOptionsSpec Options,
        string? ObsoleteAttribute,
        bool HidesInheritedWithOptions,
        bool HidesInheritedConfigured,
        bool HidesInheritedActorClass,
        ImmutableEquatableArray<ActorConstructorSpec> Constructors,
        ImmutableEquatableArray<MethodSpec> Methods)
    {
        /// <summary>The generated file's name, unique in the compilation (see <see cref="TypeHierarchySpec.FullName"/>).</summary>
        public string HintName => Type.FullName + ".Actor.g.cs";
    }

    /// <summary>A constructor of an actor class, which gets a <c>Remote(...)</c> factory.</summary>
    /// <param name="Accessibility">The factory's accessibility: <c>public</c> or <c>internal</c>, as the constructor's.</param>
    /// <param name="ReadableName">The name the runtime knows it by, for example <c>MyApp.Counter..ctor(int)</c>.</param>
    /// <param name="FunctionId">The stable id: FNV-1a 64 of <paramref name="ReadableName"/>.</param>
    /// <param name="DocumentationId">The constructor's documentation comment id, or null when the compiler declared it.</param>
    /// <param name="Parameters">All parameters in order, cancellation tokens included.</param>
    /// <param name="ObsoleteAttribute">The <c>[Obsolete]</c> attribute to repeat on the factories, or null.</param>
    /// <param name="HidesInherited">Whether a base type has a <c>Remote</c> member that the factory hides.</param>
    internal sealed record ActorConstructorSpec(
        string Accessibility,
        string ReadableName,
        ulong FunctionId,
        string? DocumentationId,
        ImmutableEquatableArray<ParameterSpec> Parameters,
        string? ObsoleteAttribute,
        bool HidesInherited);

    /// <summary>The named arguments set on an actor class's <c>[Remote]</c> attribute; null where not set.</summary>
    /// <param name="NumCpus">CPUs an instance holds for its whole life.</param>
    /// <param name="MaxRestarts">Restarts after its worker dies.</param>
    /// <param name="MaxTaskRetries">Retries of a call in flight after a restart.</param>
    /// <param name="MaxConcurrency">Calls that may run at once.</param>
    /// <param name="DedicatedProcess">Whether each instance gets a worker process of its own.</param>
    internal sealed record ActorOptionsSpec(double? NumCpus, int? MaxRestarts, int? MaxTaskRetries, int? MaxConcurrency, bool? DedicatedProcess)
    {
        /// <summary>An attribute with no named arguments.</summary>
        public static ActorOptionsSpec None { get; } = new ActorOptionsSpec(null, null, null, null, null);
    }
}
