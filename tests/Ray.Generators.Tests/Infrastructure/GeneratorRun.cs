using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace Ray.Generators.Tests.Infrastructure;

/// <summary>One run of <see cref="RemoteGenerator"/> over a compilation, and what it produced.</summary>
internal sealed class GeneratorRun
{
    private GeneratorRun(GeneratorDriver driver, CSharpCompilation input, Compilation output)
    {
        Driver = driver;
        Input = input;
        Output = output;
        Result = driver.GetRunResult().Results.Single();
    }

    /// <summary>The driver after the run; run it again on an edited compilation to test caching.</summary>
    public GeneratorDriver Driver { get; }

    /// <summary>The user's compilation.</summary>
    public CSharpCompilation Input { get; }

    /// <summary>The user's compilation plus the generated sources.</summary>
    public Compilation Output { get; }

    /// <summary>The generator's result: sources, diagnostics, tracked steps.</summary>
    public GeneratorRunResult Result { get; }

    /// <summary>The diagnostics the generator reported.</summary>
    public ImmutableArray<Diagnostic> Diagnostics => Result.Diagnostics;

    /// <summary>The generated sources.</summary>
    public ImmutableArray<GeneratedSourceResult> Sources => Result.GeneratedSources;

    /// <summary>Creates a driver that records every pipeline step.</summary>
    public static GeneratorDriver CreateDriver()
        => CSharpGeneratorDriver.Create(
            new[] { new RemoteGenerator().AsSourceGenerator() },
            parseOptions: TestCompilation.ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator over <paramref name="sources"/>.</summary>
    public static GeneratorRun Of(params string[] sources) => Of(TestCompilation.Create(sources));

    /// <summary>Runs the generator over <paramref name="compilation"/>, continuing from <paramref name="driver"/> if given.</summary>
    public static GeneratorRun Of(CSharpCompilation compilation, GeneratorDriver? driver = null)
    {
        driver = (driver ?? CreateDriver()).RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        var run = new GeneratorRun(driver, compilation, output);
        Assert.Null(run.Result.Exception);
        return run;
    }

    /// <summary>
    /// Asserts that the generator reported nothing and that user code plus generated code compiles with no error
    /// and no warning (missing XML docs on the test's own public types aside).
    /// </summary>
    public GeneratorRun AssertCleanBuild()
    {
        Assert.True(Diagnostics.IsEmpty, "The generator reported:\n" + Format(Diagnostics));
        var generatedTrees = Sources.Select(source => source.SyntaxTree).ToHashSet();
        var problems = Output.GetDiagnostics()
            .Where(diagnostic => diagnostic.Severity == DiagnosticSeverity.Error
                                 || (diagnostic.Severity == DiagnosticSeverity.Warning
                                     && (diagnostic.Id != "CS1591" || generatedTrees.Contains(diagnostic.Location.SourceTree!))))
            .ToList();
        Assert.True(problems.Count == 0, "The compilation with generated code has problems:\n" + Format(problems) + "\n\n" + AllSources());
        return this;
    }

    /// <summary>The text of the generated file named <paramref name="hintName"/>.</summary>
    public string Source(string hintName)
        => Sources.Single(source => source.HintName == hintName).SourceText.ToString();

    private string AllSources()
        => string.Join("\n", Sources.Select(source => $"// ---- {source.HintName}\n{source.SourceText}"));

    private static string Format(IEnumerable<Diagnostic> diagnostics)
        => string.Join("\n", diagnostics.Select(diagnostic => diagnostic.ToString()));
}
