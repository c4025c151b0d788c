using Ray.Generators.Helpers;

namespace Ray.Generators.Model
{
    /// <summary>Everything one generated file holds: a type and its remote methods.</summary>
    /// <param name="Type">The type that gets the <c>Remote</c> class.</param>
    /// <param name="HintName">The generated file's name, unique in the compilation.</param>
    /// <param name="AssemblyName">The name of the assembly being compiled, which workers load.</param>
    /// <param name="Methods">The type's remote methods, in a stable order.</param>
    internal sealed record RemoteTypeSpec(
        TypeHierarchySpec Type,
        string HintName,
        string AssemblyName,
        ImmutableEquatableArray<RemoteMethodSpec> Methods);
}
