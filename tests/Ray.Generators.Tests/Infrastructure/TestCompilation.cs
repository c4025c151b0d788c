using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Ray.Generators.Tests.Infrastructure;

/// <summary>Builds compilations of test sources against the running framework, Ray.Abstractions and MemoryPack.</summary>
internal static class TestCompilation
{
    /// <summary>Parse options of every test source: the newest language, documentation comments checked.</summary>
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    /// <summary>Usings that every test compilation gets, so test sources stay short.</summary>
    public const string GlobalUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.Threading;
        global using System.Threading.Tasks;
        global using Ray;
        """;

    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyReferences = new(CreateReferences);

    /// <summary>The framework's assemblies plus Ray.Abstractions and MemoryPack.Core.</summary>
    public static ImmutableArray<MetadataReference> References => LazyReferences.Value;

    /// <summary>Creates a library compilation of <paramref name="sources"/> (named <c>Source0.cs</c>, <c>Source1.cs</c>, ...).</summary>
    public static CSharpCompilation Create(params string[] sources) => CreateNamed("TestAssembly", sources);

    /// <summary>Creates a library compilation named <paramref name="assemblyName"/>.</summary>
    public static CSharpCompilation CreateNamed(string assemblyName, params string[] sources)
    {
        var trees = sources
            .Select((source, i) => CSharpSyntaxTree.ParseText(source, ParseOptions, path: $"Source{i}.cs"))
            .Append(CSharpSyntaxTree.ParseText(GlobalUsings, ParseOptions, path: "GlobalUsings.cs"));
        return CSharpCompilation.Create(
            assemblyName,
            trees,
            References,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                allowUnsafe: true,
                deterministic: true));
    }

    private static ImmutableArray<MetadataReference> CreateReferences()
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(path => path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .Append(typeof(RemoteAttribute).Assembly.Location)
            .Append(typeof(MemoryPack.MemoryPackSerializer).Assembly.Location)
            .Distinct(StringComparer.Ordinal)

            // The test's own dependencies (xunit, Roslyn, the generator) are on the list too, but user code never needs them.
            .Where(path => !Path.GetFileName(path).StartsWith("xunit", StringComparison.OrdinalIgnoreCase)
                           && !Path.GetFileName(path).StartsWith("Microsoft.CodeAnalysis", StringComparison.OrdinalIgnoreCase)
                           && !Path.GetFileName(path).StartsWith("Ray.Generators", StringComparison.OrdinalIgnoreCase));
        return paths.Select(path => (MetadataReference)MetadataReference.CreateFromFile(path)).ToImmutableArray();
    }
}
