using Ray.Generators.Helpers;

namespace Ray.Generators.Model
{
    /// <summary>
    /// What a task and an actor method have in common: the method a worker calls, the id it is registered under,
    /// and what its stub (for a task) or its extension method on the handle (for an actor method) takes and returns.
    /// </summary>
    /// <param name="Name">The method's name as written in C#, escaped where it is a keyword.</param>
    /// <param name="ReadableName">The signature that names the function at run time, for example <c>MyApp.Work.Add(int, int)</c>.</param>
    /// <param name="FunctionId">The stable id: FNV-1a 64 of <paramref name="ReadableName"/>.</param>
    /// <param name="DocumentationId">The method's documentation comment id, for <c>inheritdoc</c>.</param>
    /// <param name="ReturnKind">How the method returns its result.</param>
    /// <param name="ResultType">The type of the result the caller receives, or null when there is none.</param>
    /// <param name="Parameters">All parameters in order, cancellation tokens included.</param>
    /// <param name="ObsoleteAttribute">The <c>[Obsolete]</c> attribute to repeat on what callers call, or null when the method is not obsolete.</param>
    /// <param name="GeneratorBackpressureNumObjects">
    /// For a streaming method, the <c>GeneratorBackpressureNumObjects</c> its <c>[Remote]</c> sets; null when it sets none.
    /// </param>
    internal sealed record MethodSpec(
        string Name,
        string ReadableName,
        ulong FunctionId,
        string DocumentationId,
        ReturnKind ReturnKind,
        string? ResultType,
        ImmutableEquatableArray<ParameterSpec> Parameters,
        string? ObsoleteAttribute,
        int? GeneratorBackpressureNumObjects = null);

    /// <summary>How a remote method hands back its result.</summary>
    internal enum ReturnKind
    {
        /// <summary>Returns a value synchronously.</summary>
        Value,

        /// <summary>Returns <c>void</c>.</summary>
        Void,

        /// <summary>Returns a non-generic <c>Task</c> or <c>ValueTask</c>.</summary>
        Awaitable,

        /// <summary>Returns <c>Task&lt;R&gt;</c> or <c>ValueTask&lt;R&gt;</c>; the caller receives the <c>R</c>.</summary>
        AwaitableValue,

        /// <summary>
        /// A streaming generator: returns <c>IAsyncEnumerable&lt;R&gt;</c> (or <c>IEnumerable&lt;R&gt;</c> with
        /// <c>[Remote(Streaming = true)]</c>); the caller receives an <c>ObjectRefStream&lt;R&gt;</c> of its items.
        /// </summary>
        Stream,
    }

    /// <summary>One parameter of a remote method.</summary>
    /// <param name="Name">The parameter's name, unescaped; error messages and argument labels use it.</param>
    /// <param name="Identifier">The name as a C# identifier, escaped where it is a keyword.</param>
    /// <param name="Type">The fully qualified type, nullable annotations kept.</param>
    /// <param name="Kind">What the stub and the invoker do with it.</param>
    /// <param name="ArgumentIndex">The position among the serialized arguments; -1 for a cancellation token.</param>
    /// <param name="IsOptional">Whether the parameter has a default value, so the stub's parameter is optional too.</param>
    /// <param name="DefaultValue">
    /// The C# expression of the default value when it is a constant other than null; null when the default is
    /// <c>null</c> or <c>default</c>, which <c>default(Arg&lt;T&gt;)</c> stands for.
    /// </param>
    /// <param name="ElementType">
    /// For <see cref="ParameterKind.ArrayView"/>, the fully qualified <c>E</c> of <c>ArrayView&lt;E&gt;</c>; null otherwise.
    /// </param>
    internal sealed record ParameterSpec(
        string Name,
        string Identifier,
        string Type,
        ParameterKind Kind,
        int ArgumentIndex,
        bool IsOptional,
        string? DefaultValue,
        string? ElementType);

    /// <summary>What the stub and the invoker do with a parameter.</summary>
    internal enum ParameterKind
    {
        /// <summary>A value or a future, <c>Arg&lt;T&gt;</c> in the stub.</summary>
        Value,

        /// <summary>A <c>params</c> collection, kept as it is in the stub and sent as one argument.</summary>
        Params,

        /// <summary>Not in the stub; the invoker passes the task's own token.</summary>
        CancellationToken,

        /// <summary>
        /// An <c>ArrayView&lt;E&gt;</c>: <c>Arg&lt;E[]&gt;</c> in the stub, so callers pass an array or its future, and
        /// the invoker opens a view of the array's bytes instead of deserializing a copy.
        /// </summary>
        ArrayView,
    }
}
