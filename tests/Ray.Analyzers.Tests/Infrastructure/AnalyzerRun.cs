using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Ray.Generators;
using Ray.Generators.Analyzers;
using Xunit;

namespace Ray.Analyzers.Tests.Infrastructure;

/// <summary>
/// What a build reports for some sources: the generator runs first (the analyzers see its stubs, as in a real
/// build), then RayGen's analyzers run over user code plus generated code.
/// </summary>
internal sealed class AnalyzerRun
{
    private AnalyzerRun(Compilation output, ImmutableArray<Diagnostic> generatorDiagnostics, ImmutableArray<Diagnostic> analyzerDiagnostics)
    {
        Output = output;
        GeneratorDiagnostics = generatorDiagnostics;
        AnalyzerDiagnostics = analyzerDiagnostics;
    }

    /// <summary>RayGen's analyzers, as the compiler loads them from the generator's assembly.</summary>
    public static ImmutableArray<DiagnosticAnalyzer> Analyzers { get; } =
        ImmutableArray.Create<DiagnosticAnalyzer>(new SerializationAnalyzer(), new RemoteCallAnalyzer());

    /// <summary>The user's compilation plus the generated sources.</summary>
    public Compilation Output { get; }

    /// <summary>What the generator reported.</summary>
    public ImmutableArray<Diagnostic> GeneratorDiagnostics { get; }

    /// <summary>What the analyzers reported.</summary>
    public ImmutableArray<Diagnostic> AnalyzerDiagnostics { get; }

    /// <summary>Every RAY diagnostic, from the generator and the analyzers, in source order.</summary>
    public ImmutableArray<Diagnostic> RayDiagnostics =>
        GeneratorDiagnostics.Concat(AnalyzerDiagnostics)
            .Where(diagnostic => diagnostic.Id.StartsWith("RAY", StringComparison.Ordinal))
            .OrderBy(diagnostic => diagnostic.Location.SourceTree?.FilePath, StringComparer.Ordinal)
            .ThenBy(diagnostic => diagnostic.Location.SourceSpan.Start)
            .ToImmutableArray();

    /// <summary>The compiler's errors in user code plus generated code.</summary>
    public ImmutableArray<Diagnostic> CompilerErrors =>
        Output.GetDiagnostics().Where(diagnostic => diagnostic.Severity == DiagnosticSeverity.Error).ToImmutableArray();

    /// <summary>Runs the generator and the analyzers over <paramref name="sources"/>.</summary>
    public static AnalyzerRun Of(params string[] sources) => Of(TestCompilation.Create(sources));

    /// <summary>Runs the generator and the analyzers over <paramref name="compilation"/>.</summary>
    public static AnalyzerRun Of(CSharpCompilation compilation)
    {
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            new[] { new RemoteGenerator().AsSourceGenerator() },
            parseOptions: TestCompilation.ParseOptions);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        Assert.Null(driver.GetRunResult().Results.Single().Exception);

        var analyzerDiagnostics = output
            .WithAnalyzers(Analyzers, new CompilationWithAnalyzersOptions(
                new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
                onAnalyzerException: (exception, analyzer, _) => throw new InvalidOperationException($"{analyzer} threw.", exception),
                concurrentAnalysis: true,
                logAnalyzerExecutionTime: false))
            .GetAnalyzerDiagnosticsAsync()
            .GetAwaiter()
            .GetResult();
        return new AnalyzerRun(output, generatorDiagnostics, analyzerDiagnostics);
    }

    /// <summary>Asserts that neither the generator nor the analyzers reported anything.</summary>
    public AnalyzerRun AssertNoRayDiagnostics()
    {
        Assert.True(RayDiagnostics.IsEmpty, "Expected no RAY diagnostics, got:\n" + Format(RayDiagnostics));
        return this;
    }

    /// <summary>The one diagnostic with <paramref name="id"/>, asserted to be at the marked span of source 0.</summary>
    public Diagnostic Single(string id, Microsoft.CodeAnalysis.Text.TextSpan span)
    {
        var matching = RayDiagnostics.Where(diagnostic => diagnostic.Id == id).ToList();
        Assert.True(matching.Count == 1, $"Expected one {id}, got:\n" + Format(RayDiagnostics));
        var diagnostic = matching[0];
        Assert.Equal("Source0.cs", diagnostic.Location.SourceTree?.FilePath);
        Assert.Equal(span, diagnostic.Location.SourceSpan);
        return diagnostic;
    }

    /// <summary>One diagnostic per line.</summary>
    public static string Format(IEnumerable<Diagnostic> diagnostics)
        => string.Join("\n", diagnostics.Select(diagnostic => diagnostic.ToString()));
}
