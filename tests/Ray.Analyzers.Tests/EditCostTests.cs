using System.Collections.Immutable;
using System.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Ray.Analyzers.Tests.Infrastructure;
using Ray.Generators;
using Xunit;
using Xunit.Abstractions;

namespace Ray.Analyzers.Tests;

/// <summary>
/// What typing in a method body costs on a project of 1,000 remote methods: the generator re-parses the edited
/// declaration and emits nothing, and the analyzers, which register only symbol and operation actions, analyze
/// the edited body alone (the IDE asks for one document's or one span's diagnostics after an edit).
/// </summary>
public sealed class EditCostTests
{
    private readonly ITestOutputHelper _output;

    public EditCostTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task AnalyzersRegisterOnlySymbolAndOperationActions()
    {
        var compilation = RunGenerator(TestCompilation.CreateFromFiles(LargeProject.Create(files: 2, methodsPerFile: 10)), out _);
        var withAnalyzers = WithAnalyzers(compilation);
        await withAnalyzers.GetAnalyzerDiagnosticsAsync();

        foreach (var analyzer in AnalyzerRun.Analyzers)
        {
            var telemetry = await withAnalyzers.GetAnalyzerTelemetryInfoAsync(analyzer, CancellationToken.None);
            Assert.Equal(1, telemetry.CompilationStartActionsCount);
            Assert.True(telemetry.SymbolActionsCount + telemetry.OperationActionsCount > 0);

            // A compilation-end, syntax-tree or semantic-model action would make every edit re-run it over the project.
            Assert.Equal(0, telemetry.CompilationActionsCount + telemetry.CompilationEndActionsCount);
            Assert.Equal(0, telemetry.SyntaxTreeActionsCount + telemetry.SemanticModelActionsCount + telemetry.AdditionalFileActionsCount);
            Assert.Equal(0, telemetry.SyntaxNodeActionsCount + telemetry.CodeBlockActionsCount + telemetry.CodeBlockStartActionsCount + telemetry.CodeBlockEndActionsCount);
            Assert.Equal(0, telemetry.OperationBlockActionsCount + telemetry.OperationBlockStartActionsCount + telemetry.OperationBlockEndActionsCount);
            Assert.True(telemetry.Concurrent, $"{analyzer} does not enable concurrent execution.");
        }
    }

    [Fact]
    public async Task TypingInARemoteMethodBodyReRunsNothingExpensive()
    {
        var files = LargeProject.Create(files: 100, methodsPerFile: 10);
        var compilation = TestCompilation.CreateFromFiles(files);
        var driver = CreateDriver();
        var stopwatch = Stopwatch.StartNew();
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        var fullGenerator = stopwatch.Elapsed;

        var whole = WithAnalyzers(output);
        Assert.Empty(await whole.GetAnalyzerDiagnosticsAsync());
        var fullAnalysis = await ExecutionTimeAsync(whole);

        // Type in the body of a [Remote] method, two keystrokes ('x + y' becomes 'x + y + 1', then 'x + y + 12');
        // the second one is timed, as the IDE's runs after the first are.
        var edited = TypeInto(compilation, "Tasks050.cs", "x + y;", " + 1");
        driver = driver.RunGeneratorsAndUpdateCompilation(edited, out _, out _);
        edited = TypeInto(edited, "Tasks050.cs", "x + y + 1;", "2");
        var editedTree = edited.SyntaxTrees.Single(tree => tree.FilePath == "Tasks050.cs");
        driver = driver.RunGeneratorsAndUpdateCompilation(edited, out var editedOutput, out _);

        // Timed without step tracking, which records every step's inputs and outputs and is not on in a build or the IDE.
        var untracked = CreateDriver(track: false).RunGenerators(compilation);
        untracked = untracked.RunGenerators(TypeInto(compilation, "Tasks050.cs", "x + y;", " + 1"));
        stopwatch.Restart();
        untracked.RunGenerators(edited);
        var incrementalGenerator = stopwatch.Elapsed;

        // The floor: a generator that finds the same [Remote] declarations and does nothing with them. What it takes
        // is the compiler building the edited compilation's symbols, which the IDE does for the edit anyway.
        var floor = CSharpGeneratorDriver.Create(new[] { new FindOnlyGenerator().AsSourceGenerator() }, parseOptions: TestCompilation.ParseOptions)
            .RunGenerators(compilation)
            .RunGenerators(TypeInto(compilation, "Tasks050.cs", "x + y;", " + 1"));
        stopwatch.Restart();
        floor.RunGenerators(edited);
        var floorGenerator = stopwatch.Elapsed;
        var result = driver.GetRunResult().Results.Single();
        var emitted = result.TrackedSteps[TrackingNames.RemoteTypes].SelectMany(step => step.Outputs).ToList();
        Assert.All(emitted, output => Assert.True(
            output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
            $"A generated file was produced again after a body edit: {output.Reason}"));
        Assert.All(
            result.TrackedOutputSteps.SelectMany(step => step.Value).SelectMany(step => step.Outputs),
            output => Assert.True(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"An output ran again: {output.Reason}"));

        // The IDE re-analyzes the edited span (then the document); nothing else in the project.
        var model = editedOutput.GetSemanticModel(editedOutput.SyntaxTrees.Single(t => t.FilePath == "Tasks050.cs"));
        var method = editedTree.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax>().First();
        // One untimed run first: the first analysis in a process pays for JIT compilation, which the IDE has long done.
        await WithAnalyzers(editedOutput).GetAnalyzerSemanticDiagnosticsAsync(model, method.Span, CancellationToken.None);
        var forSpan = WithAnalyzers(editedOutput);
        Assert.Empty(await forSpan.GetAnalyzerSemanticDiagnosticsAsync(model, method.Span, CancellationToken.None));
        var spanAnalysis = await ExecutionTimeAsync(forSpan);
        var forDocument = WithAnalyzers(editedOutput);
        Assert.Empty(await forDocument.GetAnalyzerSemanticDiagnosticsAsync(model, null, CancellationToken.None));
        var documentAnalysis = await ExecutionTimeAsync(forDocument);

        // Analyzer times are the analyzers' own execution time; binding the code they look at is the compiler's.
        _output.WriteLine($"1,000 remote methods in 100 files ({Environment.ProcessorCount} cores):");
        _output.WriteLine($"  generator, first run:             {fullGenerator.TotalMilliseconds,8:0.0} ms");
        _output.WriteLine($"  analyzers, whole compilation:     {fullAnalysis.TotalMilliseconds,8:0.0} ms");
        _output.WriteLine($"  generator, after a body edit:     {incrementalGenerator.TotalMilliseconds,8:0.0} ms (no file emitted again)");
        _output.WriteLine($"  a find-only generator, same edit: {floorGenerator.TotalMilliseconds,8:0.0} ms");
        _output.WriteLine($"  analyzers, the edited method:     {spanAnalysis.TotalMilliseconds,8:0.0} ms");
        _output.WriteLine($"  analyzers, the edited document:   {documentAnalysis.TotalMilliseconds,8:0.0} ms");
        Assert.True(spanAnalysis < fullAnalysis, $"Analyzing one method ({spanAnalysis}) took as long as the whole project ({fullAnalysis}).");
    }

    /// <summary>Finds the <c>[Remote]</c> declarations like RayGen's generator, and generates nothing.</summary>
    private sealed class FindOnlyGenerator : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var found = context.SyntaxProvider.ForAttributeWithMetadataName(RemoteGenerator.RemoteAttributeMetadataName, static (_, _) => true, static (_, _) => 0);
            context.RegisterSourceOutput(found.Collect(), static (_, _) => { });
        }
    }

    private static CSharpCompilation TypeInto(CSharpCompilation compilation, string path, string after, string typed)
    {
        var tree = compilation.SyntaxTrees.Single(tree => tree.FilePath == path);
        var text = tree.GetText();
        var position = text.ToString().IndexOf(after, StringComparison.Ordinal) + after.Length - 1;
        return compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(text.WithChanges(new TextChange(new TextSpan(position, 0), typed))));
    }

    private static async Task<TimeSpan> ExecutionTimeAsync(CompilationWithAnalyzers compilation)
    {
        var total = TimeSpan.Zero;
        foreach (var analyzer in AnalyzerRun.Analyzers)
        {
            total += (await compilation.GetAnalyzerTelemetryInfoAsync(analyzer, CancellationToken.None)).ExecutionTime;
        }

        return total;
    }

    private static GeneratorDriver CreateDriver(bool track = true)
        => CSharpGeneratorDriver.Create(
            new[] { new RemoteGenerator().AsSourceGenerator() },
            parseOptions: TestCompilation.ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: track));

    private static Compilation RunGenerator(CSharpCompilation compilation, out ImmutableArray<Diagnostic> diagnostics)
    {
        CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out diagnostics);
        return output;
    }

    private static CompilationWithAnalyzers WithAnalyzers(Compilation compilation)
        => compilation.WithAnalyzers(AnalyzerRun.Analyzers, new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
            onAnalyzerException: null,
            concurrentAnalysis: true,
            logAnalyzerExecutionTime: true));
}
