using Microsoft.CodeAnalysis;
using Ray.Analyzers.Tests.Infrastructure;
using Xunit;

namespace Ray.Analyzers.Tests;

/// <summary>
/// RAY0014: an <c>ArrayView&lt;T&gt;</c> is a window on a stored array that only the call which received it may use,
/// so it is fine as a non-nullable parameter of a remote method, an actor constructor or an actor method, and an error
/// anywhere else in what crosses a process boundary: a result, inside a parameter's type, or a parameter that may be null.
/// </summary>
public sealed class ArrayViewTests
{
    private const string Types = """
        using MemoryPack;

        namespace MyApp
        {
            [MemoryPackable]
            public partial class Holder
            {
                public ArrayView<double>? View { get; set; }
            }

            [MemoryPackable]
            public partial class DerivedHolder : Holder
            {
                public int Extra { get; set; }
            }

            [MemoryPackable]
            public partial class PrivateHolder
            {
                [MemoryPackInclude]
                private ArrayView<double>? _view;

                public int Length => _view?.Length ?? 0;
            }

            [MemoryPackable]
            public partial class Node
            {
                public Node? Next { get; set; }

                public List<Node> Children { get; set; } = new();

                public Holder? Payload { get; set; }
            }

            [MemoryPackable]
            [MemoryPackUnion(0, typeof(ViewCase))]
            public partial interface IMessage
            {
            }

            [MemoryPackable]
            public partial class ViewCase : IMessage
            {
                public ArrayView<int>? Data { get; set; }
            }

            [MemoryPackable]
            public partial class Ignoring
            {
                public double[] Data { get; set; } = [];

                [MemoryPackIgnore]
                public ArrayView<double>? Cached { get; set; }

                private ArrayView<double>? _notSerialized;

                public static ArrayView<double>? Shared { get; set; }
            }
        }
        """;

    private const string ReturnTheArray = "return 'double[]' instead, which the caller can read without a copy through GetView() on the ObjectRef<double[]> it receives";

    private const string ReturnTheArrays = "return the arrays themselves ('double[]') instead";

    [Theory]
    [InlineData("[|ArrayView<double>|] Run() => null!;", "is 'Ray.ArrayView<double>'", ReturnTheArray)]
    [InlineData("Task<[|ArrayView<double>|]> Run() => Task.FromResult<ArrayView<double>>(null!);", "is 'Ray.ArrayView<double>'", ReturnTheArray)]
    [InlineData("async ValueTask<[|ArrayView<double>|]> Run() { await Task.Yield(); return null!; }", "is 'Ray.ArrayView<double>'", ReturnTheArray)]
    [InlineData("[|List<ArrayView<double>>|] Run() => new();", "has type 'System.Collections.Generic.List<Ray.ArrayView<double>>', which holds a 'Ray.ArrayView<double>'", ReturnTheArrays)]
    [InlineData("[|ObjectRef<ArrayView<double>>|] Run() => null!;", "has type 'Ray.ObjectRef<Ray.ArrayView<double>>', which holds a 'Ray.ArrayView<double>'", ReturnTheArrays)]
    [InlineData("[|Holder|] Run() => new();", "has type 'MyApp.Holder', which holds a 'Ray.ArrayView<double>'", ReturnTheArrays)]
    public void RAY0014_Result(string declaration, string expectedMessagePart, string expectedAdvice)
    {
        var (source, span) = Markup.Parse($$"""
            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static {{declaration}}
            }
            """);

        var run = AnalyzerRun.Of(source, Types);
        var diagnostic = run.Single("RAY0014", span);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        var message = diagnostic.GetMessage();
        Assert.StartsWith("The result of remote method 'MyApp.Work.Run()' ", message, StringComparison.Ordinal);
        Assert.Contains(expectedMessagePart, message, StringComparison.Ordinal);
        Assert.Contains("a view is valid only inside the call that received it; " + expectedAdvice, message, StringComparison.Ordinal);
        Assert.Equal(Ray.Generators.HelpLinks.For("RAY0014"), diagnostic.Descriptor.HelpLinkUri);
        AssertOnlyDiagnostic(run);
    }

    [Theory]
    [InlineData("List<ArrayView<double>> value", "System.Collections.Generic.List<Ray.ArrayView<double>>", "double")]
    [InlineData("ArrayView<double>[] value", "Ray.ArrayView<double>[]", "double")]
    [InlineData("params ArrayView<double>[] value", "Ray.ArrayView<double>[]", "double")]
    [InlineData("ObjectRef<ArrayView<double>> value", "Ray.ObjectRef<Ray.ArrayView<double>>", "double")]
    [InlineData("(int Count, ArrayView<float> Data) value", "(int Count, Ray.ArrayView<float> Data)", "float")]
    [InlineData("Dictionary<string, ArrayView<byte>?> value", "System.Collections.Generic.Dictionary<string, Ray.ArrayView<byte>>", "byte")]
    [InlineData("Holder value", "MyApp.Holder", "double")]
    [InlineData("DerivedHolder value", "MyApp.DerivedHolder", "double")]
    [InlineData("PrivateHolder value", "MyApp.PrivateHolder", "double")]
    [InlineData("List<Node> value", "System.Collections.Generic.List<MyApp.Node>", "double")]
    [InlineData("IMessage value", "MyApp.IMessage", "int")]
    public void RAY0014_InsideAParameter(string parameter, string declaredType, string element)
    {
        var (source, span) = Markup.Parse($$"""
            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static void Run(int first, [|{{parameter}}|]) { }
            }
            """);

        var run = AnalyzerRun.Of(source, Types);
        var message = run.Single("RAY0014", span).GetMessage();
        Assert.StartsWith("Parameter 'value' of remote method 'MyApp.Work.Run(", message, StringComparison.Ordinal);
        Assert.Contains($"has type '{declaredType}', which holds a 'Ray.ArrayView<{element}>'", message, StringComparison.Ordinal);
        Assert.Contains("a view is valid only inside the call that received it", message, StringComparison.Ordinal);
        Assert.Contains($"pass the arrays themselves ('{element}[]') or their ObjectRef<{element}[]> instead", message, StringComparison.Ordinal);
        AssertOnlyDiagnostic(run);
    }

    [Fact]
    public void RAY0014_NullableParameter()
    {
        var (source, span) = Markup.Parse("""
            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static int Run([|ArrayView<double>? data|]) => data?.Length ?? 0;
            }
            """);

        var run = AnalyzerRun.Of(source);
        var message = run.Single("RAY0014", span).GetMessage();
        Assert.Contains("Parameter 'data' of remote method 'MyApp.Work.Run(Ray.ArrayView<double>)' is a nullable 'Ray.ArrayView<double>?'", message, StringComparison.Ordinal);
        Assert.Contains("never on null", message, StringComparison.Ordinal);
        Assert.Contains("or take 'double[]?' instead", message, StringComparison.Ordinal);
        AssertOnlyDiagnostic(run);
    }

    [Fact]
    public void RAY0014_OptionalParameter()
    {
        var (source, span) = Markup.Parse("""
            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static int Run(int count, [|ArrayView<double> data = null!|]) => count;
            }
            """);

        var run = AnalyzerRun.Of(source);
        var message = run.Single("RAY0014", span).GetMessage();
        Assert.Contains("Parameter 'data' of remote method 'MyApp.Work.Run(int, Ray.ArrayView<double>)' has a default value", message, StringComparison.Ordinal);
        Assert.Contains("remove the default value", message, StringComparison.Ordinal);
        AssertOnlyDiagnostic(run);
    }

    [Fact]
    public void RAY0014_ActorConstructorAndMethods()
    {
        var run = AnalyzerRun.Of("""
            namespace MyApp;

            [Remote]
            public partial class Histogram
            {
                public Histogram(List<ArrayView<double>> edges) { }

                public ArrayView<long> Counts() => null!;

                public void Add(ArrayView<double>? samples) { }
            }
            """);

        var diagnostics = run.RayDiagnostics;
        Assert.Equal(3, diagnostics.Length);
        Assert.All(diagnostics, diagnostic => Assert.Equal("RAY0014", diagnostic.Id));
        Assert.StartsWith("Parameter 'edges' of actor constructor 'MyApp.Histogram(System.Collections.Generic.List<Ray.ArrayView<double>>)'", diagnostics[0].GetMessage(), StringComparison.Ordinal);
        Assert.StartsWith("The result of actor method 'MyApp.Histogram.Counts()' is 'Ray.ArrayView<long>'", diagnostics[1].GetMessage(), StringComparison.Ordinal);
        Assert.Contains("return 'long[]' instead", diagnostics[1].GetMessage(), StringComparison.Ordinal);
        Assert.StartsWith("Parameter 'samples' of actor method 'MyApp.Histogram.Add(Ray.ArrayView<double>)' is a nullable", diagnostics[2].GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0014_NotForMembersThatMemoryPackLeavesOut()
    {
        // [MemoryPackIgnore], private without [MemoryPackInclude], and static members are not serialized.
        AnalyzerRun.Of("""
            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static Ignoring Run(Ignoring value) => value;
            }
            """, Types).AssertNoRayDiagnostics();
    }

    [Fact]
    public void ArrayViewParametersAreFine()
    {
        var run = AnalyzerRun.Of("""
            namespace MyApp;

            public struct Pixel
            {
                public byte R, G, B;
            }

            public static partial class Work
            {
                [Remote]
                public static double Sum(ArrayView<double> data) => data.Length;

                [Remote]
                public static async Task<double[]> Scale(string label, ArrayView<double> data, CancellationToken ct, double factor, ArrayView<Pixel> pixels)
                {
                    await Task.Delay(1, ct);
                    return data.ToArray();
                }

                public static async Task<double> Driver(RayRuntime ray, double[] local)
                {
                    var stored = ray.Put(local);
                    using var view = await stored.GetViewAsync();
                    return await Remote.Sum(stored) + await Remote.Sum(local) + view.Length;
                }
            }

            [Remote]
            public partial class Histogram
            {
                public Histogram(ArrayView<double> edges, int bins) { }

                public void Add(ArrayView<double> samples, CancellationToken ct) { }

                public long Count(int bin, ArrayView<int> weights) => weights[bin];
            }
            """);

        run.AssertNoRayDiagnostics();
        Assert.True(run.CompilerErrors.IsEmpty, AnalyzerRun.Format(run.CompilerErrors));
    }

    /// <summary>The one RAY0014 is all there is: no RAY0001 for the same type, and nothing from the generator.</summary>
    private static void AssertOnlyDiagnostic(AnalyzerRun run)
        => Assert.True(run.RayDiagnostics.Length == 1, "Expected only RAY0014, got:\n" + AnalyzerRun.Format(run.RayDiagnostics));
}
