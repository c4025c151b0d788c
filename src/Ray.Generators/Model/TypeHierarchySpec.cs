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
    /// <param name="HintNameStem">The type's dotted full name without <c>global::</c>, the base of the generated file's name.</param>
    /// <param name="MetadataName">The type's full metadata name (nested types after <c>+</c>), which no other type shares.</param>
    internal sealed record TypeHierarchySpec(
        string? Namespace,
        ImmutableEquatableArray<ContainingTypeSpec> Types,
        string FullyQualifiedName,
        string HintNameStem,
        string MetadataName);

    /// <summary>One type declaration to reopen.</summary>
    /// <param name="Keyword">The declaration keyword: <c>class</c>, <c>struct</c>, <c>record</c>, <c>record struct</c> or <c>interface</c>, with <c>ref</c> or <c>readonly</c> where the type has them.</param>
    /// <param name="Name">The type's name, escaped for C#.</param>
    internal sealed record ContainingTypeSpec(string Keyword, string Name);
}
