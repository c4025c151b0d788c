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

    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyReferences = new(() => LibraryCompilation.References(
        typeof(RemoteAttribute).Assembly,
        typeof(MemoryPack.MemoryPackSerializer).Assembly));

    /// <summary>The framework's assemblies plus Ray.Abstractions and MemoryPack.Core.</summary>
    public static ImmutableArray<MetadataReference> References => LazyReferences.Value;

    /// <summary>Creates a library compilation of <paramref name="sources"/> (named <c>Source0.cs</c>, <c>Source1.cs</c>, ...).</summary>
    public static CSharpCompilation Create(params string[] sources) => CreateNamed("TestAssembly", sources);

    /// <summary>Creates a library compilation named <paramref name="assemblyName"/>.</summary>
    public static CSharpCompilation CreateNamed(string assemblyName, params string[] sources)
        => LibraryCompilation.Create(assemblyName, LibraryCompilation.NumberedFiles(sources), GlobalUsings, ParseOptions, References);
}
