using Ray.Analyzers.Tests.Infrastructure;
using Ray.Generators.CodeFixes;
using Xunit;

namespace Ray.Analyzers.Tests;

/// <summary>Each code fix on before and after source, and the fixed source no longer has the diagnostic.</summary>
public sealed class CodeFixTests
{
    [Fact]
    public async Task RAY0003_AddsPartial()
    {
        var fixedSources = await FixAndRecheck(new AddPartialCodeFixProvider(), "RAY0003", """
            namespace MyApp;

            public static class Work
            {
                [Remote]
                public static int Add(int x, int y) => x + y;
            }
            """);

        Assert.Equal("""
            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static int Add(int x, int y) => x + y;
            }
            """, fixedSources[0]);
    }

    [Fact]
    public async Task RAY0003_AddsPartialToTheContainingTypesToo()
    {
        var fixedSources = await FixAndRecheck(new AddPartialCodeFixProvider(), "RAY0003", """
            namespace MyApp
            {
                /// <summary>Outer.</summary>
                class Outer
                {
                    internal sealed class Middle
                    {
                        public static class Work
                        {
                            [Remote]
                            public static int Add(int x, int y) => x + y;
                        }
                    }
                }
            }
            """, index: 2);

        Assert.Equal("""
            namespace MyApp
            {
                /// <summary>Outer.</summary>
                partial class Outer
                {
                    internal sealed partial class Middle
                    {
                        public static partial class Work
                        {
                            [Remote]
                            public static int Add(int x, int y) => x + y;
                        }
                    }
                }
            }
            """, fixedSources[0]);
    }

    [Fact]
    public async Task RAY0003_PutsPartialAfterRef()
    {
        var fixedSources = await FixAndRecheck(new AddPartialCodeFixProvider(), "RAY0003", """
            public readonly ref struct Holder
            {
                [Remote]
                public static int Run(int x) => x;
            }
            """);

        Assert.StartsWith("public readonly ref partial struct Holder", fixedSources[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task RAY0001_MarksTheTypeInItsOwnFileAndAddsTheUsing()
    {
        var fixedSources = await FixAndRecheck(
            new AddMemoryPackableCodeFixProvider(),
            "RAY0001",
            """
            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static int Run(List<Settings> settings) => settings.Count;
            }
            """,
            """
            using System.Text;

            namespace MyApp;

            /// <summary>Settings.</summary>
            public sealed class Settings
            {
                public int Threads { get; set; }
            }
            """);

        Assert.Equal("""
            using System.Text;
            using MemoryPack;

            namespace MyApp;

            /// <summary>Settings.</summary>
            [MemoryPackable]
            public sealed partial class Settings
            {
                public int Threads { get; set; }
            }
            """, fixedSources[1]);
    }

    [Fact]
    public async Task RAY0001_MarksANestedRecordAndMakesItsContainerPartial()
    {
        var fixedSources = await FixAndRecheck(
            new AddMemoryPackableCodeFixProvider(),
            "RAY0001",
            """
            using MemoryPack;

            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static Shapes.Point Origin() => new(0, 0);
            }

            public static class Shapes
            {
                public record Point(int X, int Y);
            }
            """);

        Assert.Equal("""
            using MemoryPack;

            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static Shapes.Point Origin() => new(0, 0);
            }

            public static partial class Shapes
            {
                [MemoryPackable]
                public partial record Point(int X, int Y);
            }
            """, fixedSources[0]);
    }

    [Fact]
    public async Task RAY0001_AddsTheUsingToAFileWithoutUsings()
    {
        var fixedSources = await FixAndRecheck(new AddMemoryPackableCodeFixProvider(), "RAY0001", """
            // A file header.
            public static partial class Work
            {
                [Remote]
                public static void Run(Job job) { }
            }

            public struct Job
            {
                public string Name;
            }
            """);

        Assert.Equal("""
            // A file header.
            using MemoryPack;

            public static partial class Work
            {
                [Remote]
                public static void Run(Job job) { }
            }

            [MemoryPackable]
            public partial struct Job
            {
                public string Name;
            }
            """, fixedSources[0]);
    }

    [Theory]
    [InlineData("System.IO.Stream")]
    [InlineData("IShape")]
    [InlineData("object")]
    public async Task RAY0001_NoFixForTypesOutsideSourceOrThatNeedMore(string type)
    {
        var actions = await CodeFixRunner.OfferedAsync(new AddMemoryPackableCodeFixProvider(), "RAY0001", [$$"""
            public interface IShape
            {
                double Area();
            }

            public static partial class Work
            {
                [Remote]
                public static void Run({{type}} value) { }
            }
            """]);

        Assert.Empty(actions);
    }

    [Fact]
    public async Task RAY0011_ReplacesGetWithAwait()
    {
        var result = await CodeFixRunner.FixAsync(new UseAwaitCodeFixProvider(), "RAY0011", ["""
            public static partial class Work
            {
                [Remote]
                public static int Leaf(int x) => x;

                [Remote]
                public static async Task<int> Sum(int depth)
                {
                    var left = Remote.Leaf(depth);
                    var right = Remote.Leaf(depth);
                    await Task.Yield();
                    return left.Get() + right.Get();
                }
            }
            """]);

        Assert.Equal("Use 'await left'", result.Title);
        Assert.Contains("return await left + right.Get();", result.Sources[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task RAY0011_ParenthesizesWhenTheValueIsUsedFurther()
    {
        var fixedSources = await FixAndRecheck(new UseAwaitCodeFixProvider(), "RAY0011", """
            public static partial class Work
            {
                [Remote]
                public static string Name(int x) => x.ToString();

                [Remote]
                public static async Task<int> Length(int x)
                {
                    await Task.Yield();
                    return Remote.Name(x).Get().Length;
                }
            }
            """);

        Assert.Contains("return (await Remote.Name(x)).Length;", fixedSources[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("return RayRuntime.Current.Get(futures).Sum();", "return (await RayRuntime.Current.GetAsync(futures)).Sum();", "Use 'await RayRuntime.Current.GetAsync(futures)'")]
    [InlineData("futures[0].Wait(); return 0;", "await futures[0]; return 0;", "Use 'await futures[0]'")]
    public async Task RAY0011_AwaitsTheRuntimesGetAndAWait(string body, string expected, string title)
    {
        var result = await CodeFixRunner.FixAsync(new UseAwaitCodeFixProvider(), "RAY0011", [$$"""
            public static partial class Work
            {
                [Remote]
                public static async Task<int> Sum(List<ObjectRef<int>> futures)
                {
                    await Task.Yield();
                    {{body}}
                }
            }
            """]);

        Assert.Equal(title, result.Title);
        Assert.Contains(expected, result.Sources[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("return value.Get(TimeSpan.FromSeconds(1));")]
    [InlineData("value.Wait(TimeSpan.FromSeconds(1)); return 0;")]
    [InlineData("lock (Gate) { return value.Get(); }")]
    public async Task RAY0011_NoFixWhereAwaitDoesNotFit(string body)
    {
        var actions = await CodeFixRunner.OfferedAsync(new UseAwaitCodeFixProvider(), "RAY0011", [$$"""
            public static partial class Work
            {
                private static readonly object Gate = new();

                [Remote]
                public static async Task<int> Run(ObjectRef<int> value)
                {
                    await Task.Yield();
                    {{body}}
                }
            }
            """]);

        Assert.Empty(actions);
    }

    /// <summary>Applies the fix, then checks that the fixed sources no longer have <paramref name="id"/>.</summary>
    private static async Task<IReadOnlyList<string>> FixAndRecheck(
        Microsoft.CodeAnalysis.CodeFixes.CodeFixProvider provider, string id, string source, string? secondSource = null, int index = 0)
    {
        string[] sources = secondSource is null ? [source] : [source, secondSource];
        var result = await CodeFixRunner.FixAsync(provider, id, sources, index);
        var after = AnalyzerRun.Of(result.Sources.ToArray());
        Assert.True(
            after.RayDiagnostics.All(diagnostic => diagnostic.Id != id),
            $"The fixed source still has {id}:\n" + AnalyzerRun.Format(after.RayDiagnostics) + "\n" + string.Join("\n----\n", result.Sources));
        return result.Sources;
    }
}
