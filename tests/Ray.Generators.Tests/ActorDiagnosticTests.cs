using Microsoft.CodeAnalysis;
using Ray.Generators.Tests.Infrastructure;
using Xunit;

namespace Ray.Generators.Tests;

/// <summary>
/// Each actor shape the generator cannot handle gives one error at the offending class, constructor, method or
/// parameter (marked <c>[| |]</c>). A problem with the class generates nothing; a problem with one member leaves
/// out only that member.
/// </summary>
public sealed class ActorDiagnosticTests
{
    [Fact]
    public void RAY0007_StaticClass()
    {
        var diagnostic = AssertClassError("""
            [Remote]
            public static partial class [|Counter|]
            {
                public static int Add(int x) => x;
            }
            """, "RAY0007");
        Assert.Contains("Class 'Counter' cannot be an actor because it is static", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0007_AbstractClass()
    {
        var diagnostic = AssertClassError("""
            [Remote]
            public abstract partial class [|Counter|]
            {
                public void Inc() { }
            }
            """, "RAY0007");
        Assert.Contains("Class 'Counter' cannot be an actor because it is abstract", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0007_GenericClass()
    {
        var diagnostic = AssertClassError("""
            [Remote]
            public partial class [|Box|]<T>
            {
                public void Set(T value) { }
            }
            """, "RAY0007");
        Assert.Contains("Class 'Box<T>' cannot be an actor because it is generic", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0007_NestedInAGenericType()
    {
        var diagnostic = AssertClassError("""
            public partial class Outer<T>
            {
                [Remote]
                public partial class [|Counter|]
                {
                    public void Inc() { }
                }
            }
            """, "RAY0007");
        Assert.Contains("nested in the generic type 'Outer<T>'", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("private Counter() { }")]
    [InlineData("protected Counter(int x) { }")]
    [InlineData("private protected Counter(string s) { }")]
    public void RAY0007_NoAccessibleConstructor(string constructor)
    {
        var diagnostic = AssertClassError($$"""
            [Remote]
            public partial class [|Counter|]
            {
                {{constructor}}

                public void Inc() { }
            }
            """, "RAY0007");
        Assert.Contains("it has no public or internal constructor", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0007_ObsoleteAsError()
    {
        var diagnostic = AssertClassError("""
            [Obsolete("Gone.", true)]
            [Remote]
            public partial class [|Counter|]
            {
            }
            """, "RAY0007");
        Assert.Contains("[Obsolete] as an error", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0007_ExtensionClassNameTaken()
    {
        var diagnostic = AssertClassError("""
            namespace MyApp
            {
                [Remote]
                public partial class [|Counter|]
                {
                    public void Inc() { }
                }

                public static class CounterActorExtensions
                {
                }
            }
            """, "RAY0007");
        Assert.Contains("already has a type named 'CounterActorExtensions'", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("public int [|Remote|]() => 1;", "Remote")]
    [InlineData("public static int [|Remote|] => 1;", "Remote")]
    [InlineData("public void [|WithOptions|](int x) { }", "WithOptions")]
    [InlineData("public class [|ActorConfigured|] { }", "ActorConfigured")]
    [InlineData("internal static class [|__RayActor|] { }", "__RayActor")]
    public void RAY0007_MemberNamedLikeAGeneratedOne(string member, string name)
    {
        var diagnostic = AssertClassError($$"""
            [Remote]
            public partial class Counter
            {
                {{member}}
            }
            """, "RAY0007");
        Assert.Contains($"it declares a member named '{name}'", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0009_TaskInsideAnActor()
    {
        var diagnostic = AssertMemberError("""
            namespace MyApp;

            [Remote]
            public partial class Counter
            {
                public void Inc() { }

                [Remote]
                public static int [|Add|](int x, int y) => x + y;
            }
            """, "RAY0009", out var source);
        Assert.Contains("'MyApp.Counter.Add(int, int)'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("actor class 'MyApp.Counter'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("move the method to a separate static partial class", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains(" Inc(", source, StringComparison.Ordinal);
        Assert.DoesNotContain("Add", source, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("public bool [|Equals|](int other) => false;", "Equals")]
    [InlineData("public int [|GetHashCode|](int seed) => seed;", "GetHashCode")]
    [InlineData("public string [|ToString|](string format) => format;", "ToString")]
    [InlineData("public new Type [|GetType|]() => typeof(int);", "GetType")]
    [InlineData("public int [|Id|]() => 1;", "Id")]
    [InlineData("public int [|Create|](int x) => x;", "Create")]
    public void RAY0010_MethodNamedLikeAHandleMember(string method, string name)
    {
        var diagnostic = AssertMemberError($$"""
            [Remote]
            public partial class Counter
            {
                public void Inc() { }

                {{method}}
            }
            """, "RAY0010", out var source);
        Assert.Contains($"Actor method 'Counter.{name}(", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains($"'handle.{name}(...)'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("ActorHandle<Counter>", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.DoesNotContain($" {name}(this", source, StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0003_ActorNotPartial()
    {
        var diagnostic = AssertClassError("""
            [Remote]
            public class [|Counter|]
            {
                public void Inc() { }
            }
            """, "RAY0003");
        Assert.Contains("Type 'Counter' must be declared 'partial' because it is an actor", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0003_ContainingTypeOfAnActorNotPartial()
    {
        var diagnostic = AssertClassError("""
            public class [|Outer|]
            {
                [Remote]
                public partial class Counter
                {
                }
            }
            """, "RAY0003");
        Assert.Contains("its nested type 'Outer.Counter' is an actor", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("private", "private")]
    [InlineData("protected", "protected")]
    [InlineData("private protected", "private protected")]
    public void RAY0004_ActorNotAccessible(string modifier, string accessibility)
    {
        var diagnostic = AssertClassError($$"""
            public partial class Outer
            {
                [Remote]
                {{modifier}} partial class [|Counter|]
                {
                }
            }
            """, "RAY0004");
        Assert.Contains($"Actor class 'Outer.Counter' is {accessibility}", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0004_ContainingTypeOfAnActorNotAccessible()
    {
        var diagnostic = AssertClassError("""
            public partial class Outer
            {
                private partial class [|Hidden|]
                {
                    [Remote]
                    public partial class Counter
                    {
                    }
                }
            }
            """, "RAY0004");
        Assert.Contains("Type 'Outer.Hidden', which contains the actor class 'Outer.Hidden.Counter', is private", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0004_FileLocalActor()
    {
        var diagnostic = AssertClassError("""
            [Remote]
            file partial class [|Counter|]
            {
            }
            """, "RAY0004");
        Assert.Contains("file-local", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[|ref int x|]", "passed by reference ('ref')")]
    [InlineData("[|out int x|]", "passed by reference ('out')")]
    [InlineData("[|int* x|]", "pointer type 'int*'")]
    [InlineData("[|Span<int> x|]", "ref struct type 'System.Span<int>'")]
    [InlineData("[|Func<int> x|]", "delegate type 'System.Func<int>'")]
    [InlineData("CancellationToken first, [|CancellationToken x|]", "second CancellationToken")]
    public void RAY0002_UnsupportedConstructorParameter(string parameters, string expectedMessagePart)
    {
        // An out parameter must be assigned; the others ignore the assignment's value.
        var body = parameters.Contains("out ", StringComparison.Ordinal) ? "x = 0;" : string.Empty;
        var diagnostic = AssertMemberError($$"""
            [Remote]
            public unsafe partial class Counter
            {
                public Counter() { }

                public Counter({{parameters}}) { {{body}} }

                public void Inc() { }
            }
            """, "RAY0002", out var source);
        Assert.Contains(expectedMessagePart, diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("actor constructor 'Counter(", diagnostic.GetMessage(), StringComparison.Ordinal);

        // The other constructor still gets its factory.
        Assert.Contains("Remote()", source, StringComparison.Ordinal);
        Assert.Single(source.Split("RegisterConstructor(").Skip(1));
    }

    [Theory]
    [InlineData("[|ref int x|]", "passed by reference ('ref')")]
    [InlineData("[|in int x|]", "passed by reference ('in')")]
    [InlineData("[|Span<int> x|]", "ref struct type 'System.Span<int>'")]
    [InlineData("[|Action x|]", "delegate type 'System.Action'")]
    public void RAY0002_UnsupportedMethodParameter(string parameters, string expectedMessagePart)
    {
        var diagnostic = AssertMemberError($$"""
            [Remote]
            public partial class Counter
            {
                public void Inc() { }

                public int Run({{parameters}}) => 0;
            }
            """, "RAY0002", out var source);
        Assert.Contains(expectedMessagePart, diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("actor method 'Counter.Run(", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains(" Inc(this", source, StringComparison.Ordinal);
        Assert.DoesNotContain(" Run(", source, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("public [|Span<int>|] Run() => default;", "ref struct")]
    [InlineData("public [|ref int|] Run() => ref _field;", "returns by reference")]
    [InlineData("public [|Func<int>|] Run() => () => 1;", "delegate")]
    public void RAY0002_UnsupportedMethodReturnType(string method, string expectedMessagePart)
    {
        var diagnostic = AssertMemberError($$"""
            [Remote]
            public partial class Counter
            {
                private int _field;

                public void Inc() => _field++;

                {{method}}
            }
            """, "RAY0002", out var source);
        Assert.Contains(expectedMessagePart, diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.DoesNotContain(" Run(", source, StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0005_GenericActorMethod()
    {
        var diagnostic = AssertMemberError("""
            [Remote]
            public partial class Counter
            {
                public void Inc() { }

                public T [|Echo|]<T>(T value) => value;
            }
            """, "RAY0005", out var source);
        Assert.Contains("Actor method 'Counter.Echo<T>(T)' is generic", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.DoesNotContain("Echo", source, StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0008_ObsoleteAsErrorActorMethod()
    {
        var diagnostic = AssertMemberError("""
            [Remote]
            public partial class Counter
            {
                public void Inc() { }

                [Obsolete("Gone.", true)]
                public void [|Old|]() { }
            }
            """, "RAY0008", out var source);
        Assert.Contains("actor method 'Counter.Old()'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("[Obsolete] as an error", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.DoesNotContain("Old", source, StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0008_ObsoleteAsErrorConstructor()
    {
        var diagnostic = AssertMemberError("""
            [Remote]
            public partial class Counter
            {
                public Counter() { }

                [Obsolete("Gone.", true)]
                public [|Counter|](int start) { }
            }
            """, "RAY0008", out var source);
        Assert.Contains("actor constructor 'Counter(int)'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.DoesNotContain("Arg<int>", source, StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0008_ExtensionMethodsThatWouldCollide()
    {
        var run = GeneratorRun.Of("""
            [Remote]
            public partial class Counter
            {
                public void Inc() { }

                public int Add(int x) => x;

                public int Add(int x, CancellationToken ct) => x;
            }
            """);
        Assert.Equal(2, run.Diagnostics.Length);
        Assert.All(run.Diagnostics, diagnostic => Assert.Equal("RAY0008", diagnostic.Id));
        Assert.All(run.Diagnostics, diagnostic => Assert.Contains("would take the same parameters", diagnostic.GetMessage(), StringComparison.Ordinal));
        Assert.DoesNotContain("Add", Assert.Single(run.Sources).SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0008_FactoriesThatWouldCollide()
    {
        var run = GeneratorRun.Of("""
            [Remote]
            public partial class Counter
            {
                public Counter() { }

                public Counter(int start) { }

                public Counter(int start, CancellationToken ct) { }
            }
            """);
        Assert.Equal(2, run.Diagnostics.Length);
        Assert.All(run.Diagnostics, diagnostic => Assert.Equal("RAY0008", diagnostic.Id));
        Assert.All(run.Diagnostics, diagnostic => Assert.Contains("'Remote(...)' factory would take the same parameters", diagnostic.GetMessage(), StringComparison.Ordinal));
        Assert.Single(Assert.Single(run.Sources).SourceText.ToString().Split("RegisterConstructor(").Skip(1));
    }

    [Fact]
    public void RAY0008_ExtensionMethodsThatWouldCollideThroughAnArrayView()
    {
        var run = GeneratorRun.Of("""
            [Remote]
            public partial class Counter
            {
                public void Inc() { }

                public int Add(int[] x) => 0;

                public int Add(ArrayView<int> x) => 0;
            }
            """);
        Assert.Equal(2, run.Diagnostics.Length);
        Assert.All(run.Diagnostics, diagnostic =>
        {
            Assert.Equal("RAY0008", diagnostic.Id);
            Assert.Contains("would take the same parameters", diagnostic.GetMessage(), StringComparison.Ordinal);
            Assert.Contains("it takes 'int[]' for a parameter of type 'Ray.ArrayView<int>'", diagnostic.GetMessage(), StringComparison.Ordinal);
        });
        Assert.DoesNotContain("Add", Assert.Single(run.Sources).SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0008_FactoriesThatWouldCollideThroughAnArrayView()
    {
        var run = GeneratorRun.Of("""
            [Remote]
            public partial class Histogram
            {
                public Histogram(double[] edges) { }

                public Histogram(ArrayView<double> edges) { }

                public Histogram(ArrayView<double> edges, int bins) { }
            }
            """);
        Assert.Equal(2, run.Diagnostics.Length);
        Assert.All(run.Diagnostics, diagnostic =>
        {
            Assert.Equal("RAY0008", diagnostic.Id);
            Assert.Contains("a factory takes 'double[]' for a parameter of type 'Ray.ArrayView<double>'", diagnostic.GetMessage(), StringComparison.Ordinal);
        });
        Assert.Single(Assert.Single(run.Sources).SourceText.ToString().Split("RegisterConstructor(").Skip(1));
    }

    [Theory]
    [InlineData("internal")]
    [InlineData("private")]
    [InlineData("protected")]
    public void RAY0008_RemoteOnANonPublicActorMethod(string modifier)
    {
        var diagnostic = AssertMemberError($$"""
            [Remote]
            public partial class Counter
            {
                public void Inc() { }

                [Remote]
                {{modifier}} int [|Secret|]() => 1;
            }
            """, "RAY0008", out var source);
        Assert.Contains("only the public instance methods of an actor", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.DoesNotContain("Secret", source, StringComparison.Ordinal);
    }

    [Fact]
    public void RemoteOnAPublicActorMethodIsRedundantButFine()
    {
        var run = GeneratorRun.Of("""
            [Remote]
            public partial class Counter
            {
                [Remote]
                public void Inc() { }
            }
            """).AssertCleanBuild();
        Assert.Contains(" Inc(this", Assert.Single(run.Sources).SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ProblemsOfSeveralMembersAreAllReported()
    {
        var run = GeneratorRun.Of("""
            [Remote]
            public partial class Counter
            {
                public Counter(ref int x) { }

                public Counter() { }

                public int Equals(int x, int y) => x;

                public T Echo<T>(T value) => value;

                public void Inc() { }
            }
            """);
        Assert.Equal(new[] { "RAY0002", "RAY0005", "RAY0010" }, run.Diagnostics.Select(diagnostic => diagnostic.Id).Order(StringComparer.Ordinal));
        var source = Assert.Single(run.Sources).SourceText.ToString();
        Assert.Contains(" Inc(this", source, StringComparison.Ordinal);
        Assert.Contains("Remote()", source, StringComparison.Ordinal);
    }

    /// <summary>A problem with the actor class: one error at the marked span, and nothing generated.</summary>
    private static Diagnostic AssertClassError(string markup, string id)
        => DiagnosticTests.AssertSingleError(markup, id);

    /// <summary>A problem with one member: one error at the marked span, and the actor generated without the member.</summary>
    private static Diagnostic AssertMemberError(string markup, string id, out string source)
    {
        var diagnostic = DiagnosticTests.AssertSingleError(markup, id, out var run, expectSources: true);
        source = Assert.Single(run.Sources).SourceText.ToString();
        return diagnostic;
    }
}
