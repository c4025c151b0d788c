using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Ray.Tests.Shared;

/// <summary>
/// How the generator and analyzer tests compile test sources as a user's library: against the running framework
/// and the assemblies user code references, with the project's global usings in a file of their own.
/// </summary>
internal static class LibraryCompilation
{
    /// <summary>
    /// Creates a library compilation named <paramref name="assemblyName"/> of <paramref name="files"/> (path, text)
    /// and <paramref name="globalUsings"/>: nullable enabled, unsafe code allowed, deterministic.
    /// </summary>
    public static CSharpCompilation Create(
        string assemblyName,
        IEnumerable<(string Path, string Text)> files,
        string globalUsings,
        CSharpParseOptions parseOptions,
        ImmutableArray<MetadataReference> references)
    {
        var trees = files
            .Select(file => CSharpSyntaxTree.ParseText(file.Text, parseOptions, path: file.Path))
            .Append(CSharpSyntaxTree.ParseText(globalUsings, parseOptions, path: "GlobalUsings.cs"));
        return CSharpCompilation.Create(
            assemblyName,
            trees,
            references,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                allowUnsafe: true,
                deterministic: true));
    }

    /// <summary><paramref name="sources"/> as files named <c>Source0.cs</c>, <c>Source1.cs</c>, ...</summary>
    public static IEnumerable<(string Path, string Text)> NumberedFiles(IEnumerable<string> sources)
        => sources.Select((source, i) => ($"Source{i}.cs", source));

    /// <summary>References to the running framework's assemblies plus <paramref name="assemblies"/>.</summary>
    public static ImmutableArray<MetadataReference> References(params Assembly[] assemblies)
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(path => path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .Concat(assemblies.Select(assembly => assembly.Location))
            .Distinct(StringComparer.Ordinal)

            // The test's own dependencies (xunit, Roslyn, the generator) are on the list too, but user code never needs them.
            .Where(path => !Path.GetFileName(path).StartsWith("xunit", StringComparison.OrdinalIgnoreCase)
                           && !Path.GetFileName(path).StartsWith("Microsoft.CodeAnalysis", StringComparison.OrdinalIgnoreCase)
                           && !Path.GetFileName(path).StartsWith("Ray.Generators", StringComparison.OrdinalIgnoreCase));
        return paths.Select(path => (MetadataReference)MetadataReference.CreateFromFile(path)).ToImmutableArray();
    }
}
