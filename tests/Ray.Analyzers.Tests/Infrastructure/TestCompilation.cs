using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Ray.Analyzers.Tests.Infrastructure;

/// <summary>Compilations of test sources against the running framework, Ray.Abstractions, Ray.Runtime and MemoryPack.</summary>
internal static class TestCompilation
{
    /// <summary>Parse options of every test source: the newest language.</summary>
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    /// <summary>The SDK's implicit usings for a console app, plus Ray, so test sources look like user code.</summary>
    public const string GlobalUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        global using Ray;
        """;

    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyReferences = new(CreateReferences);

    /// <summary>The framework's assemblies plus Ray.Abstractions, Ray.Runtime and MemoryPack.Core.</summary>
    public static ImmutableArray<MetadataReference> References => LazyReferences.Value;

    /// <summary>Creates a library compilation of <paramref name="sources"/>, named <c>Source0.cs</c>, <c>Source1.cs</c>, ...</summary>
    public static CSharpCompilation Create(params string[] sources)
        => CreateFromFiles(sources.Select((source, i) => ($"Source{i}.cs", source)));

    /// <summary>Creates a library compilation of (path, text) pairs.</summary>
    public static CSharpCompilation CreateFromFiles(IEnumerable<(string Path, string Text)> files)
    {
        var trees = files
            .Select(file => CSharpSyntaxTree.ParseText(file.Text, ParseOptions, path: file.Path))
            .Append(CSharpSyntaxTree.ParseText(GlobalUsings, ParseOptions, path: "GlobalUsings.cs"));
        return CSharpCompilation.Create(
            "TestAssembly",
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
            .Append(typeof(RayRuntime).Assembly.Location)
            .Append(typeof(MemoryPack.MemoryPackSerializer).Assembly.Location)
            .Distinct(StringComparer.Ordinal)

            // The test's own dependencies (xunit, Roslyn, the generator) are on the list too, but user code never needs them.
            .Where(path => !Path.GetFileName(path).StartsWith("xunit", StringComparison.OrdinalIgnoreCase)
                           && !Path.GetFileName(path).StartsWith("Microsoft.CodeAnalysis", StringComparison.OrdinalIgnoreCase)
                           && !Path.GetFileName(path).StartsWith("Ray.Generators", StringComparison.OrdinalIgnoreCase));
        return paths.Select(path => (MetadataReference)MetadataReference.CreateFromFile(path)).ToImmutableArray();
    }
}
