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

    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyReferences = new(() => LibraryCompilation.References(
        typeof(RemoteAttribute).Assembly,
        typeof(RayRuntime).Assembly,
        typeof(MemoryPack.MemoryPackSerializer).Assembly));

    /// <summary>The framework's assemblies plus Ray.Abstractions, Ray.Runtime and MemoryPack.Core.</summary>
    public static ImmutableArray<MetadataReference> References => LazyReferences.Value;

    /// <summary>Creates a library compilation of <paramref name="sources"/>, named <c>Source0.cs</c>, <c>Source1.cs</c>, ...</summary>
    public static CSharpCompilation Create(params string[] sources) => CreateFromFiles(LibraryCompilation.NumberedFiles(sources));

    /// <summary>Creates a library compilation of (path, text) pairs.</summary>
    public static CSharpCompilation CreateFromFiles(IEnumerable<(string Path, string Text)> files)
        => LibraryCompilation.Create("TestAssembly", files, GlobalUsings, ParseOptions, References);
}
