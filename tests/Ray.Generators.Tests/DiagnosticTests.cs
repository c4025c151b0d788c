using Microsoft.CodeAnalysis;
using Ray.Generators.Tests.Infrastructure;
using Xunit;

namespace Ray.Generators.Tests;

/// <summary>
/// Each shape the generator cannot handle gives one error, at the offending parameter, method or type
/// (marked <c>[| |]</c> in the sources), and no stub for it.
/// </summary>
public sealed class DiagnosticTests
{
    [Theory]
    [InlineData("[|ref int x|]", "passed by reference ('ref')")]
    [InlineData("[|out int x|]", "passed by reference ('out')")]
    [InlineData("[|in int x|]", "passed by reference ('in')")]
    [InlineData("[|ref readonly int x|]", "passed by reference ('ref readonly')")]
    [InlineData("[|int* x|]", "pointer type 'int*'")]
    [InlineData("[|Span<int> x|]", "ref struct type 'System.Span<int>'")]
    [InlineData("[|params ReadOnlySpan<int> x|]", "ref struct type 'System.ReadOnlySpan<int>'")]
    [InlineData("[|Func<int, int> x|]", "delegate type 'System.Func<int, int>'")]
    [InlineData("CancellationToken first, [|CancellationToken x|]", "second CancellationToken")]
    public void RAY0002_UnsupportedParameter(string parameters, string expectedMessagePart)
    {
        var diagnostic = AssertSingleError($$"""
            public static unsafe partial class Work
            {
                [Remote]
                public static int Run({{parameters}}) => 0;
            }
            """, "RAY0002");
        Assert.Contains(expectedMessagePart, diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("Work.Run(", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[|Span<int>|] Run() => default;", "ref struct")]
    [InlineData("[|ref int|] Run() => ref Field;", "returns by reference")]
    [InlineData("[|int*|] Run() => null;", "pointer")]
    [InlineData("[|Func<int>|] Run() => () => 1;", "delegate")]
    public void RAY0002_UnsupportedReturnType(string declaration, string expectedMessagePart)
    {
        var diagnostic = AssertSingleError($$"""
            public static unsafe partial class Work
            {
                private static int Field;

                [Remote]
                public static {{declaration}}
            }
            """, "RAY0002");
        Assert.Contains(expectedMessagePart, diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0003_TypeNotPartial()
    {
        var diagnostic = AssertSingleError("""
            namespace MyApp;

            public static class [|Work|]
            {
                [Remote]
                public static int Add(int x, int y) => x + y;

                [Remote]
                public static int Negate(int x) => -x;
            }
            """, "RAY0003");
        Assert.Contains("'MyApp.Work'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("'partial'", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0003_ContainingTypeNotPartial()
    {
        var diagnostic = AssertSingleError("""
            public class [|Outer|]
            {
                public static partial class Work
                {
                    [Remote]
                    public static int Add(int x, int y) => x + y;
                }
            }
            """, "RAY0003");
        Assert.Contains("Type 'Outer'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("'Outer.Work'", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("private static int [|Add|](int x) => x;", "private")]
    [InlineData("protected static int [|Add|](int x) => x;", "protected")]
    [InlineData("private protected static int [|Add|](int x) => x;", "private protected")]
    public void RAY0004_MethodNotAccessible(string declaration, string accessibility)
    {
        var diagnostic = AssertSingleError($$"""
            public partial class Work
            {
                [Remote]
                {{declaration}}
            }
            """, "RAY0004");
        Assert.Contains($"Remote method 'Work.Add(int)' is {accessibility},", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("private", "private")]
    [InlineData("protected", "protected")]
    [InlineData("private protected", "private protected")]
    public void RAY0004_ContainingTypeNotAccessible(string modifier, string accessibility)
    {
        var diagnostic = AssertSingleError($$"""
            public partial class Outer
            {
                {{modifier}} static partial class [|Hidden|]
                {
                    [Remote]
                    public static int Add(int x) => x;
                }
            }
            """, "RAY0004");
        Assert.Contains($"Type 'Outer.Hidden', which contains [Remote] methods, is {accessibility}", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0004_FileLocalType()
    {
        var diagnostic = AssertSingleError("""
            file static partial class [|Work|]
            {
                [Remote]
                public static int Add(int x) => x;
            }
            """, "RAY0004");
        Assert.Contains("file-local", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0005_GenericMethod()
    {
        var diagnostic = AssertSingleError("""
            public static partial class Work
            {
                [Remote]
                public static T [|Echo|]<T>(T value) => value;
            }
            """, "RAY0005");
        Assert.Contains("Remote method 'Work.Echo<T>(T)' is generic", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0005_GenericContainingType()
    {
        var diagnostic = AssertSingleError("""
            public partial class [|Box|]<T>
            {
                [Remote]
                public static int Size(int x) => x;
            }
            """, "RAY0005");
        Assert.Contains("Type 'Box<T>'", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0006_InstanceMethod()
    {
        var diagnostic = AssertSingleError("""
            public partial class Calculator
            {
                [Remote]
                public int [|Add|](int x, int y) => x + y;
            }
            """, "RAY0006");
        Assert.Contains("'Calculator.Add(int, int)' is an instance method", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("make the method static", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0008_LocalFunction()
    {
        var diagnostic = AssertSingleError("""
            public static partial class Work
            {
                public static int Outer()
                {
                    return Inner(1);

                    [Remote]
                    static int [|Inner|](int x) => x;
                }
            }
            """, "RAY0008");
        Assert.Contains("local function", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0008_ExtensionBlockMember()
    {
        var diagnostic = AssertSingleError("""
            public static partial class Extensions
            {
                extension(int value)
                {
                    [Remote]
                    public static int [|Twice|](int x) => 2 * x;
                }
            }
            """, "RAY0008");
        Assert.Contains("not declared directly in a class, struct or interface", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("WithOptions")]
    [InlineData("Configured")]
    public void RAY0008_ReservedName(string name)
    {
        var diagnostic = AssertSingleError($$"""
            public static partial class Work
            {
                [Remote]
                public static int [|{{name}}|](int x) => x;
            }
            """, "RAY0008");
        Assert.Contains($"its name '{name}' is taken", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0008_TypeAlreadyHasAMemberNamedRemote()
    {
        var diagnostic = AssertSingleError("""
            public static partial class Work
            {
                public static int Remote => 1;

                [Remote]
                public static int [|Add|](int x) => x;
            }
            """, "RAY0008");
        Assert.Contains("already has a member named 'Remote'", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0008_StubsThatWouldCollide()
    {
        var run = GeneratorRun.Of("""
            public static partial class Work
            {
                [Remote]
                public static int Add(int x) => x;

                [Remote]
                public static int Add(int x, CancellationToken ct) => x;
            }
            """);
        Assert.Equal(2, run.Diagnostics.Length);
        Assert.All(run.Diagnostics, diagnostic => Assert.Equal("RAY0008", diagnostic.Id));
        Assert.Empty(run.Sources);
    }

    [Fact]
    public void RAY0008_StubsThatWouldCollideThroughAnArrayView()
    {
        // Both stubs would take an Arg<double[]>, though the signatures (and the function ids) differ.
        var run = GeneratorRun.Of("""
            public static partial class Work
            {
                [Remote]
                public static double Sum(double[] x) => 0;

                [Remote]
                public static double Sum(ArrayView<double> x, CancellationToken ct) => 0;

                [Remote]
                public static double Sum(ArrayView<float> x) => 0;
            }
            """);
        Assert.Equal(2, run.Diagnostics.Length);
        Assert.All(run.Diagnostics, diagnostic =>
        {
            Assert.Equal("RAY0008", diagnostic.Id);
            Assert.Contains("a stub takes 'double[]' for a parameter of type 'Ray.ArrayView<double>'", diagnostic.GetMessage(), StringComparison.Ordinal);
        });
        Assert.Contains("Work.Sum(double[])", run.Diagnostics[0].GetMessage() + run.Diagnostics[1].GetMessage(), StringComparison.Ordinal);
        var source = Assert.Single(run.Sources).SourceText.ToString();
        Assert.Contains("Sum(global::Ray.Arg<float[]> x)", source, StringComparison.Ordinal);
        Assert.DoesNotContain("Arg<double[]>", source, StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0008_AViewOnBothSidesIsNotWhyStubsCollide()
    {
        var run = GeneratorRun.Of("""
            public static partial class Work
            {
                [Remote]
                public static double Sum(ArrayView<double> x) => 0;

                [Remote]
                public static double Sum(ArrayView<double> x, CancellationToken ct) => 0;
            }
            """);
        Assert.Equal(2, run.Diagnostics.Length);
        Assert.All(run.Diagnostics, diagnostic =>
        {
            Assert.Equal("RAY0008", diagnostic.Id);
            Assert.Contains("(a CancellationToken is not part of a stub);", diagnostic.GetMessage(), StringComparison.Ordinal);
        });
    }

    [Fact]
    public void RAY0008_StaticAbstractInterfaceMember()
    {
        var diagnostic = AssertSingleError("""
            public partial interface IWork
            {
                [Remote]
                static abstract int [|Add|](int x);
            }
            """, "RAY0008");
        Assert.Contains("abstract or virtual", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0008_ObsoleteAsError()
    {
        var diagnostic = AssertSingleError("""
            public static partial class Work
            {
                [Obsolete("Gone.", true)]
                [Remote]
                public static int [|Add|](int x) => x;
            }
            """, "RAY0008");
        Assert.Contains("[Obsolete] as an error", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void AnInvalidMethodDoesNotStopTheValidOnesOfItsType()
    {
        var run = GeneratorRun.Of("""
            public static partial class Work
            {
                [Remote]
                public static int Good(int x) => x;

                [Remote]
                public static int Bad(ref int x) => x;
            }
            """);
        Assert.Equal("RAY0002", Assert.Single(run.Diagnostics).Id);
        var source = Assert.Single(run.Sources).SourceText.ToString();
        Assert.Contains(" Good(", source, StringComparison.Ordinal);
        Assert.DoesNotContain(" Bad(", source, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryRuleIsAnErrorWithAHelpLinkAndIsTrackedForRelease()
    {
        var descriptors = typeof(DiagnosticDescriptors)
            .GetFields()
            .Select(field => (DiagnosticDescriptor)field.GetValue(null)!)
            .ToList();
        var unshipped = File.ReadAllText(Path.Combine(SourceDirectory(), "..", "..", "src", "Ray.Generators", "AnalyzerReleases.Unshipped.md"));

        Assert.Equal(
            new[] { "RAY0002", "RAY0003", "RAY0004", "RAY0005", "RAY0006", "RAY0007", "RAY0008", "RAY0009", "RAY0010", "RAY0015", "RAY0016", "RAY0017" },
            descriptors.Select(descriptor => descriptor.Id).Order(StringComparer.Ordinal));
        Assert.All(descriptors, descriptor =>
        {
            Assert.Equal(DiagnosticSeverity.Error, descriptor.DefaultSeverity);
            Assert.Equal("RayGen", descriptor.Category);
            Assert.Equal(HelpLinks.For(descriptor.Id), descriptor.HelpLinkUri);
            Assert.True(File.Exists(Path.Combine(SourceDirectory(), "..", "..", HelpLinks.PagePath(descriptor.Id))), $"No page for {descriptor.Id}.");
            Assert.Contains($"{descriptor.Id} | RayGen | Error |", unshipped, StringComparison.Ordinal);
        });
    }

    /// <summary>
    /// Runs the generator over <paramref name="markup"/> and asserts exactly one diagnostic: <paramref name="id"/>,
    /// an error, at the marked span; and that nothing was generated for the broken declaration.
    /// </summary>
    internal static Diagnostic AssertSingleError(string markup, string id)
        => AssertSingleError(markup, id, out _, expectSources: false);

    /// <summary>
    /// Runs the generator over <paramref name="markup"/> and asserts exactly one diagnostic: <paramref name="id"/>,
    /// an error, at the marked span; and that something was generated when <paramref name="expectSources"/> says so,
    /// nothing otherwise.
    /// </summary>
    internal static Diagnostic AssertSingleError(string markup, string id, out GeneratorRun run, bool expectSources)
    {
        var (source, span) = Markup.Parse(markup);
        run = GeneratorRun.Of(source);
        var diagnostic = Assert.Single(run.Diagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal("Source0.cs", diagnostic.Location.GetLineSpan().Path);
        Assert.True(
            span == diagnostic.Location.SourceSpan,
            $"Expected the diagnostic at '{source.Substring(span.Start, span.Length)}' but it is at '{source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length)}'.");
        if (expectSources)
        {
            Assert.NotEmpty(run.Sources);
        }
        else
        {
            Assert.Empty(run.Sources);
        }

        return diagnostic;
    }

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
