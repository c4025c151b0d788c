using Ray.Generators.Helpers;

namespace Ray.Generators.Model
{
    /// <summary>
    /// The type that holds remote methods and the types around it, enough to reopen all of them as
    /// <c>partial</c> declarations in generated code (CommunityToolkit.Mvvm's HierarchyInfo does the same).
    /// </summary>
    /// <param name="Namespace">The namespace to open, escaped for C#; null for the global namespace.</param>
    /// <param name="Types">The containing types, outermost first, ending with the type itself.</param>
    /// <param name="FullyQualifiedName">The type's name as generated code refers to it, with <c>global::</c>.</param>
    /// <param name="FullName">
    /// The type's dotted full name without <c>global::</c>, the name of its generated file. No two types of a
    /// compilation share it, because C# forbids a namespace and a type of the same full name, and the
    /// generator accepts no generic types.
    /// </param>
    /// <param name="HidesInheritedRemote">Whether a base type has a <c>Remote</c> member the generated class hides.</param>
    /// <param name="HidesInheritedFunctions">Whether a base type has a <c>__RayFunctions</c> member the generated class hides.</param>
    internal sealed record TypeHierarchySpec(
        string? Namespace,
        ImmutableEquatableArray<ContainingTypeSpec> Types,
        string FullyQualifiedName,
        string FullName,
        bool HidesInheritedRemote,
        bool HidesInheritedFunctions);

    /// <summary>One type declaration to reopen.</summary>
    /// <param name="Keywords">
    /// The keywords that reopen it, <c>partial</c> included and in the order C# requires: <c>partial class</c>,
    /// <c>partial record</c>, <c>partial struct</c>, <c>ref partial struct</c>, <c>partial record struct</c>, <c>partial interface</c>.
    /// </param>
    /// <param name="Name">The type's name, escaped for C#.</param>
    internal sealed record ContainingTypeSpec(string Keywords, string Name);
}
