using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Ray.Generators.Tests.Infrastructure;
using Xunit;

namespace Ray.Generators.Tests;

/// <summary>
/// The pipeline's steps are cached across edits that do not touch a <c>[Remote]</c> declaration, react to
/// edits that do, and never hold on to symbols, syntax or compilations.
/// </summary>
public sealed class IncrementalityTests
{
    private const string RemoteSource = """
        namespace MyApp
        {
            public static partial class Work
            {
                public static int Helper(int x) => x;

                [Remote]
                public static int Add(int x, int y) => x + y;

                [Remote]
                public static Task<string> EchoAsync(string text, CancellationToken ct) => Task.FromResult(text);
            }

            public static partial class Other
            {
                [Remote]
                public static void Log(string message) { }
            }
        }
        """;

    private const string BrokenSource = """
        namespace MyApp
        {
            public static partial class Broken
            {
                public static int Helper(int x) => x;

                [Remote]
                public static int Bad(ref int x) => x;
            }
        }
        """;

    private const string ActorSource = """
        namespace MyApp
        {
            [Remote]
            public partial class Counter
            {
                private int _value;

                public Counter(int start) => _value = start;

                public void Inc() => _value++;

                public int GetValue() => _value;

                private int Helper() => _value;
            }
        }
        """;

    private const string UnrelatedSource = """
        namespace MyApp
        {
            public sealed class Unrelated
            {
                public int Value { get; set; }
            }
        }
        """;

    public static TheoryData<string> TrackingNameValues => new(TrackingNamesList());

    [Fact]
    public void EveryStepIsTrackedByItsPublicName()
    {
        var run = GeneratorRun.Of(RemoteSource, BrokenSource, UnrelatedSource, ActorSource);
        Assert.All(TrackingNamesList(), name => Assert.True(run.Result.TrackedSteps.ContainsKey(name), $"Step '{name}' was not tracked."));
    }

    [Fact]
    public void AddingAnUnrelatedFileKeepsEveryStepCached()
    {
        var first = GeneratorRun.Of(RemoteSource, BrokenSource, ActorSource);
        var edited = first.Input.AddSyntaxTrees(CSharpSyntaxTree.ParseText(UnrelatedSource, TestCompilation.ParseOptions, path: "Unrelated.cs"));
        AssertAllCached(GeneratorRun.Of(edited, first.Driver));
    }

    [Fact]
    public void EditingAnUnrelatedFileKeepsEveryStepCached()
    {
        var first = GeneratorRun.Of(RemoteSource, BrokenSource, UnrelatedSource, ActorSource);
        var edited = ReplaceText(first.Input, "Source2.cs", "public int Value { get; set; }", "public string Name { get; set; } = \"\";");
        AssertAllCached(GeneratorRun.Of(edited, first.Driver));
    }

    [Fact]
    public void EditingANonRemoteMethodBodyKeepsEveryStepCached()
    {
        var first = GeneratorRun.Of(RemoteSource, BrokenSource, ActorSource);

        // The edit above the [Remote] methods moves them in the file; only their positions change.
        var edited = ReplaceText(first.Input, "Source0.cs", "public static int Helper(int x) => x;", "public static int Helper(int x)\n{\n    return x * 2 + 1;\n}");
        AssertAllCached(GeneratorRun.Of(edited, first.Driver));
    }

    [Fact]
    public void EditingAboveAnErrorMovesItsDiagnostic()
    {
        var first = GeneratorRun.Of(RemoteSource, BrokenSource);
        var edited = ReplaceText(first.Input, "Source1.cs", "public static int Helper(int x) => x;", "public static int Helper(int x)\n{\n    return x;\n}");
        var second = GeneratorRun.Of(edited, first.Driver);

        Assert.Equal(first.Diagnostics.Single().Location.GetLineSpan().StartLinePosition.Line + 3, second.Diagnostics.Single().Location.GetLineSpan().StartLinePosition.Line);
        Assert.All(Outputs(second, TrackingNames.RemoteTypes), output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    [Fact]
    public void ChangingARemoteSignatureModifiesItsOutput()
    {
        var first = GeneratorRun.Of(RemoteSource, BrokenSource);
        var edited = ReplaceText(first.Input, "Source0.cs", "public static int Add(int x, int y)", "public static long Add(long x, int y)");
        var second = GeneratorRun.Of(edited, first.Driver);

        Assert.Contains(Outputs(second, TrackingNames.RemoteTargets), output => output.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains(Outputs(second, TrackingNames.RemoteTypes), output => output.Reason == IncrementalStepRunReason.Modified);

        // The other type's file is not regenerated.
        var other = Assert.Single(Outputs(second, TrackingNames.RemoteTypes), output => output.Value.ToString()!.Contains("MyApp.Other", StringComparison.Ordinal));
        Assert.Equal(IncrementalStepRunReason.Unchanged, other.Reason);
        Assert.Contains("global::Ray.Arg<long> x", second.Source("MyApp.Work.Remote.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void ChangingAnAttributeOptionModifiesItsOutput()
    {
        var first = GeneratorRun.Of(RemoteSource, BrokenSource);
        var edited = ReplaceText(first.Input, "Source0.cs", "[Remote]\n        public static int Add", "[Remote(NumCpus = 4)]\n        public static int Add");
        var second = GeneratorRun.Of(edited, first.Driver);

        Assert.Contains(Outputs(second, TrackingNames.RemoteTypes), output => output.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("{ NumCpus = 4 }", second.Source("MyApp.Work.Remote.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void FixingAnErrorRemovesItsDiagnostic()
    {
        var first = GeneratorRun.Of(RemoteSource, BrokenSource);
        Assert.Equal("RAY0002", Assert.Single(first.Diagnostics).Id);

        var edited = ReplaceText(first.Input, "Source1.cs", "Bad(ref int x)", "Bad(int x)");
        var second = GeneratorRun.Of(edited, first.Driver);
        Assert.Empty(second.Diagnostics);
        Assert.Contains(Outputs(second, TrackingNames.Diagnostics), output => output.Reason == IncrementalStepRunReason.Modified);
        Assert.Equal(3, second.Sources.Length);
    }

    [Fact]
    public void EditingAnActorsPrivateMemberOrMethodBodyKeepsEveryStepCached()
    {
        var first = GeneratorRun.Of(RemoteSource, BrokenSource, ActorSource);
        var edited = ReplaceText(first.Input, "Source2.cs", "public int GetValue() => _value;", "public int GetValue()\n{\n    return _value + 0;\n}");
        edited = ReplaceText(edited, "Source2.cs", "private int Helper() => _value;", "private long Helper(int x) => _value + x;");
        AssertAllCached(GeneratorRun.Of(edited, first.Driver));
    }

    [Fact]
    public void ChangingAnActorMethodSignatureModifiesItsOutput()
    {
        var first = GeneratorRun.Of(RemoteSource, BrokenSource, ActorSource);
        var edited = ReplaceText(first.Input, "Source2.cs", "public int GetValue() => _value;", "public long GetValue() => _value;");
        var second = GeneratorRun.Of(edited, first.Driver);

        Assert.Contains(Outputs(second, TrackingNames.RemoteTargets), output => output.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains(Outputs(second, TrackingNames.RemoteActors), output => output.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains(Outputs(second, TrackingNames.RemoteActorsWithAssemblyName), output => output.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("global::Ray.ObjectRef<long> GetValue(", second.Source("MyApp.Counter.Actor.g.cs"), StringComparison.Ordinal);

        // The tasks' files are not regenerated.
        Assert.All(Outputs(second, TrackingNames.RemoteTypes), output => Assert.True(
            output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
            $"A task type was regenerated: {output.Value}"));
    }

    [Fact]
    public void AddingAConstructorToAnActorModifiesItsOutput()
    {
        var first = GeneratorRun.Of(RemoteSource, BrokenSource, ActorSource);
        var edited = ReplaceText(first.Input, "Source2.cs", "public void Inc()", "public Counter() : this(0) { }\n\npublic void Inc()");
        var second = GeneratorRun.Of(edited, first.Driver);

        Assert.Contains(Outputs(second, TrackingNames.RemoteActors), output => output.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("Remote()", second.Source("MyApp.Counter.Actor.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void AnActorsErrorAppearsAndGoesAway()
    {
        var first = GeneratorRun.Of(ActorSource);
        Assert.Empty(first.Diagnostics);

        var broken = GeneratorRun.Of(ReplaceText(first.Input, "Source0.cs", "public int GetValue()", "public int Equals()"), first.Driver);
        Assert.Equal("RAY0010", Assert.Single(broken.Diagnostics).Id);
        Assert.DoesNotContain("GetValue", broken.Source("MyApp.Counter.Actor.g.cs"), StringComparison.Ordinal);

        var fixedAgain = GeneratorRun.Of(first.Input, broken.Driver);
        Assert.Empty(fixedAgain.Diagnostics);
        Assert.Contains(Outputs(fixedAgain, TrackingNames.Diagnostics), output => output.Reason == IncrementalStepRunReason.Modified);
        Assert.Equal(first.Source("MyApp.Counter.Actor.g.cs"), fixedAgain.Source("MyApp.Counter.Actor.g.cs"));
    }

    [Fact]
    public void AnotherFileThatTakesTheExtensionsClassNameIsNoticed()
    {
        var first = GeneratorRun.Of(ActorSource);
        Assert.Empty(first.Diagnostics);

        var edited = first.Input.AddSyntaxTrees(CSharpSyntaxTree.ParseText(
            "namespace MyApp { public static class CounterActorExtensions { } }", TestCompilation.ParseOptions, path: "Taken.cs"));
        var second = GeneratorRun.Of(edited, first.Driver);
        Assert.Equal("RAY0007", Assert.Single(second.Diagnostics).Id);
        Assert.Empty(second.Sources);
    }

    [Theory]
    [MemberData(nameof(TrackingNameValues))]
    public void NoStepOutputHoldsSymbolsSyntaxOrCompilations(string trackingName)
    {
        var run = GeneratorRun.Of(RemoteSource, BrokenSource, UnrelatedSource, ActorSource);
        var outputs = Outputs(run, trackingName);
        Assert.NotEmpty(outputs);
        var found = outputs.SelectMany((output, i) => ObjectGraph.FindRoslynObjects(output.Value, $"{trackingName}[{i}]")).ToList();
        Assert.True(found.Count == 0, "Pipeline outputs hold Roslyn objects:\n" + string.Join("\n", found));
    }

    [Fact]
    public void TheObjectGraphCheckFindsASymbol()
    {
        var symbol = TestCompilation.Create("class C { }").GetTypeByMetadataName("C");
        Assert.NotEmpty(ObjectGraph.FindRoslynObjects(new { Holder = new object[] { 1, symbol! } }, "root"));
    }

    private static void AssertAllCached(GeneratorRun run)
    {
        foreach (var name in TrackingNamesList())
        {
            var outputs = Outputs(run, name);
            Assert.All(outputs, output => Assert.True(
                output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                $"Step '{name}' produced a {output.Reason} output: {output.Value}"));
        }

        Assert.All(
            run.Result.TrackedOutputSteps.SelectMany(step => step.Value).SelectMany(step => step.Outputs),
            output => Assert.True(
                output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                $"A source output ran again: {output.Reason}"));
    }

    private static List<(object Value, IncrementalStepRunReason Reason)> Outputs(GeneratorRun run, string trackingName)
        => run.Result.TrackedSteps.TryGetValue(trackingName, out var steps)
            ? steps.SelectMany(step => step.Outputs).ToList()
            : throw new Xunit.Sdk.XunitException($"Step '{trackingName}' did not run.");

    private static CSharpCompilation ReplaceText(CSharpCompilation compilation, string path, string oldText, string newText)
    {
        var tree = compilation.SyntaxTrees.Single(tree => tree.FilePath == path);
        var text = tree.GetText().ToString();
        Assert.Contains(oldText, text, StringComparison.Ordinal);
        var edited = tree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(text.Replace(oldText, newText, StringComparison.Ordinal)));
        return compilation.ReplaceSyntaxTree(tree, edited);
    }

    private static IEnumerable<string> TrackingNamesList()
        => typeof(TrackingNames).GetFields()
            .Where(field => field.IsLiteral)
            .Select(field => (string)field.GetRawConstantValue()!);
}
