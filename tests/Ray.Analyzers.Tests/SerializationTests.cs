using Microsoft.CodeAnalysis;
using Ray.Analyzers.Tests.Infrastructure;
using Xunit;

namespace Ray.Analyzers.Tests;

/// <summary>
/// RAY0001: a parameter or result of a remote method, an actor constructor or a public actor method that
/// MemoryPack cannot serialize is an error at the parameter or return type, naming the type that is why.
/// </summary>
public sealed class SerializationTests
{
    private const string Types = """
        namespace MyApp
        {
            public sealed class Settings
            {
                public int Threads { get; set; }
            }

            public struct Labelled
            {
                public string Label;
                public int Value;
            }

            public interface IShape
            {
                double Area();
            }

            [MemoryPack.MemoryPackable]
            public partial record Point(int X, int Y);

            [MemoryPack.MemoryPackable]
            public partial class Box<T>
            {
                public T? Value { get; set; }
            }

            public struct Pixel
            {
                public byte R, G, B;
            }

            public enum Color { Red, Green }
        }
        """;

    [Fact]
    public void RAY0001_NamesTheTypeInsideAGenericArgument()
    {
        var (source, span) = Markup.Parse("""
            using System.IO;

            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static int Count([|List<Stream> streams|]) => streams.Count;
            }
            """);

        var diagnostic = AnalyzerRun.Of(source).Single("RAY0001", span);

        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        var message = diagnostic.GetMessage();
        Assert.Contains("Parameter 'streams'", message, StringComparison.Ordinal);
        Assert.Contains("remote method 'MyApp.Work.Count(System.Collections.Generic.List<System.IO.Stream>)'", message, StringComparison.Ordinal);
        Assert.Contains("'System.IO.Stream' inside it", message, StringComparison.Ordinal);
        Assert.Equal(Ray.Generators.HelpLinks.For("RAY0001"), diagnostic.Descriptor.HelpLinkUri);
    }

    [Theory]
    [InlineData("object", "'object'")]
    [InlineData("System.IO.Stream", "'System.IO.Stream'")]
    [InlineData("Dictionary<string, object>", "the 'object' inside it")]
    [InlineData("(int Count, System.IO.Stream Data)", "the 'System.IO.Stream' inside it")]
    [InlineData("System.IO.Stream[]", "the 'System.IO.Stream' inside it")]
    [InlineData("List<List<System.IO.FileInfo>>", "the 'System.IO.FileInfo' inside it")]
    [InlineData("List<Action>", "the 'System.Action' inside it")]
    [InlineData("KeyValuePair<string, Exception>", "the 'System.Exception' inside it")]
    [InlineData("Settings", "mark 'MyApp.Settings' with [MemoryPackable] and declare it 'partial'")]
    [InlineData("Labelled", "mark 'MyApp.Labelled' with [MemoryPackable]")]
    [InlineData("IShape", "[MemoryPackUnion]")]
    [InlineData("Box<System.IO.Stream>", "the 'System.IO.Stream' inside it")]
    [InlineData("Point?[]", null)]
    [InlineData("IEnumerable<Settings>", "the 'MyApp.Settings' inside it")]
    [InlineData("dynamic", "can hold anything")]
    public void RAY0001_Parameter(string type, string? expectedMessagePart)
    {
        var (source, span) = Markup.Parse($$"""
            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static void Run([|{{type}} value|]) { }
            }
            """);

        var run = AnalyzerRun.Of(source, Types);
        if (expectedMessagePart is null)
        {
            Assert.DoesNotContain(run.RayDiagnostics, diagnostic => diagnostic.Id == "RAY0001");
            return;
        }

        var message = run.Single("RAY0001", span).GetMessage();
        Assert.Contains(expectedMessagePart, message, StringComparison.Ordinal);
        Assert.Contains("Parameter 'value'", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[|System.IO.Stream|] Run() => System.IO.Stream.Null;", "'System.IO.Stream'")]
    [InlineData("Task<[|Settings|]> Run() => Task.FromResult(new Settings());", "'MyApp.Settings'")]
    [InlineData("async ValueTask<[|List<object>|]> Run() { await Task.Yield(); return new(); }", "'object' inside it")]
    [InlineData("async IAsyncEnumerable<[|Settings|]> Run() { await Task.Yield(); yield return new(); }", "'MyApp.Settings'")]
    [InlineData("[|IEnumerable<Settings>|] Run() { yield return new(); }", "the 'MyApp.Settings' inside it")]
    public void RAY0001_Result(string declaration, string expectedMessagePart)
    {
        // The unwrapped result of Task<T> is what crosses, so the diagnostic points at T; a stream's items cross one by
        // one, so for IAsyncEnumerable<T> it is at T too.
        var (source, span) = Markup.Parse($$"""
            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static {{declaration}}
            }
            """);

        var message = AnalyzerRun.Of(source, Types).Single("RAY0001", span).GetMessage();
        Assert.Contains("The result of remote method 'MyApp.Work.Run()'", message, StringComparison.Ordinal);
        Assert.Contains(expectedMessagePart, message, StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0001_ActorConstructor()
    {
        var (source, span) = Markup.Parse("""
            namespace MyApp;

            [Remote]
            public partial class Logger
            {
                public Logger([|System.IO.TextWriter output|]) { }
            }
            """);

        var message = AnalyzerRun.Of(source).Single("RAY0001", span).GetMessage();
        Assert.Contains("actor constructor 'MyApp.Logger(System.IO.TextWriter)'", message, StringComparison.Ordinal);
        Assert.Contains("'System.IO.TextWriter'", message, StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0001_ActorMethodParameter()
    {
        var (source, span) = Markup.Parse("""
            namespace MyApp;

            [Remote]
            public partial class Counter
            {
                public void Subscribe([|HashSet<Settings> listeners|]) { }
            }
            """);

        var message = AnalyzerRun.Of(source, Types).Single("RAY0001", span).GetMessage();
        Assert.Contains("actor method 'MyApp.Counter.Subscribe(System.Collections.Generic.HashSet<MyApp.Settings>)'", message, StringComparison.Ordinal);
        Assert.Contains("the 'MyApp.Settings' inside it", message, StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0001_ActorMethodResult()
    {
        var (source, span) = Markup.Parse("""
            namespace MyApp;

            [Remote]
            public partial class Counter
            {
                public async Task<[|Settings|]> CurrentAsync() { await Task.Yield(); return new(); }
            }
            """);

        var message = AnalyzerRun.Of(source, Types).Single("RAY0001", span).GetMessage();
        Assert.Contains("The result of actor method 'MyApp.Counter.CurrentAsync()'", message, StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0001_EachBadParameterIsReportedOnce()
    {
        var run = AnalyzerRun.Of("""
            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static object Run(object first, int fine, System.IO.Stream second) => first;
            }
            """);

        var diagnostics = run.RayDiagnostics.Where(diagnostic => diagnostic.Id == "RAY0001").ToList();
        Assert.Equal(3, diagnostics.Count);
        Assert.Contains(diagnostics, diagnostic => diagnostic.GetMessage().StartsWith("Parameter 'first'", StringComparison.Ordinal));
        Assert.Contains(diagnostics, diagnostic => diagnostic.GetMessage().StartsWith("Parameter 'second'", StringComparison.Ordinal));
        Assert.Contains(diagnostics, diagnostic => diagnostic.GetMessage().StartsWith("The result", StringComparison.Ordinal));
    }

    [Fact]
    public void RAY0001_IsNotAddedToTheGeneratorsOwnParameterErrors()
    {
        // Delegates, pointers and ref structs at the top level are the generator's RAY0002; by-ref parameters too.
        var run = AnalyzerRun.Of("""
            public static unsafe partial class Work
            {
                [Remote]
                public static int Run(Func<int> code, int* pointer, Span<int> span, ref System.IO.Stream stream) => 0;
            }
            """);

        Assert.DoesNotContain(run.RayDiagnostics, diagnostic => diagnostic.Id == "RAY0001");
        Assert.Equal(4, run.RayDiagnostics.Count(diagnostic => diagnostic.Id == "RAY0002"));
    }

    [Fact]
    public void RAY0001_NonRemoteMembersAreNotChecked()
    {
        AnalyzerRun.Of("""
            public static partial class Work
            {
                public static object NotRemote(System.IO.Stream stream) => stream;

                [Remote]
                public static int Run(int x) => x;
            }

            [Remote]
            public partial class Counter
            {
                private readonly object _gate = new();

                public Counter() { }

                private Counter(System.IO.Stream internalOnly) { }

                internal object InternalHelper(object value) => value;

                private object PrivateHelper(object value) => value;

                public static object StaticHelper(object value) => value;

                public override bool Equals(object? obj) => ReferenceEquals(this, obj);

                public override int GetHashCode() => 0;

                public int Value() => 1;
            }
            """).RayDiagnostics
            .Where(diagnostic => diagnostic.Id == "RAY0001")
            .ToList()
            .ForEach(diagnostic => Assert.Fail("Unexpected: " + diagnostic));
    }

    [Theory]
    [InlineData("ray.Put([|new Settings()|]);", "The value of 'ray.Put' has type 'MyApp.Settings'")]
    [InlineData("RayRuntime.Current.Put([|new List<Settings>()|]);", "the 'MyApp.Settings' inside it")]
    [InlineData("ray.Put<IShape>([|null!|]);", "[MemoryPackUnion]")]
    [InlineData("var all = [|ray.Get(settings)|];", "The result of 'ray.Get' has type 'MyApp.Settings'")]
    [InlineData("var all = await [|ray.GetAsync(settings)|];", "The result of 'ray.GetAsync'")]
    [InlineData("var one = [|settings[0].Get()|];", "The result of 'settings[0].Get'")]
    [InlineData("var one = [|settings[0].Get(TimeSpan.FromSeconds(1))|];", "The result of 'settings[0].Get'")]
    [InlineData("var one = await [|settings[0].GetAsync()|];", "The result of 'settings[0].GetAsync'")]
    [InlineData("var one = [|await settings[0]|];", "The result of 'await settings[0]'")]
    [InlineData("var one = [|await Store(new Settings())|];", "The result of 'await Store(new Settings())'")]
    [InlineData("await foreach (var item in [|stream.ReadAllAsync()|]) { }", "The result of 'stream.ReadAllAsync' has type 'MyApp.Settings'")]
    public void RAY0001_ObjectStoreAccessOfAKnownType(string statement, string expectedMessagePart)
    {
        var (source, span) = Markup.Parse($$"""
            namespace MyApp;

            public static class Driver
            {
                public static async Task Run(RayRuntime ray, List<ObjectRef<Settings>> settings, ObjectRefStream<Settings> stream)
                {
                    {{statement}}
                }

                // A generic helper's Put is not checked (its T is anything); what comes out of it is.
                private static ObjectRef<T> Store<T>(T value) => RayRuntime.Current.Put(value);
            }
            """);

        var diagnostic = AnalyzerRun.Of(source, Types).Single("RAY0001", span);
        Assert.Contains(expectedMessagePart, diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0001_ObjectStoreAccessOfSerializableOrUnknownTypes()
    {
        var run = AnalyzerRun.Of("""
            namespace MyApp;

            public static class Driver
            {
                public static async Task Run(RayRuntime ray, List<ObjectRef<Point>> points, ObjectRef untyped, ObjectRefStream<Point> stream)
                {
                    await foreach (var streamed in stream.ReadAllAsync()) { }
                    await foreach (ObjectRef<Point> item in stream) { Point p = await item; }
                    var data = ray.Put(new double[1000]);
                    double[] copy = await data;
                    var point = ray.Put(new Point(1, 2)).Get();
                    var all = await ray.GetAsync(points);
                    var nested = ray.Put(new Dictionary<string, List<Point>>());
                    var colors = ray.Put(new[] { Color.Red });
                    var reference = ray.Put(data);
                    await untyped;
                    untyped.Wait();
                }

                private static async Task<T> RoundTrip<T>(T value) => await RayRuntime.Current.Put(value);
            }
            """, Types);

        Assert.True(run.RayDiagnostics.IsEmpty, "Unexpected:\n" + AnalyzerRun.Format(run.RayDiagnostics));
        Assert.True(run.CompilerErrors.IsEmpty, "The test source does not compile:\n" + AnalyzerRun.Format(run.CompilerErrors));
    }

    [Fact]
    public void RAY0001_StreamsAndStreamingShapesOfSerializableItems()
    {
        // A stream crosses as an id, like a future; an IAsyncEnumerable<T> result and its [EnumeratorCancellation] token are fine.
        var run = AnalyzerRun.Of("""
            using System.Runtime.CompilerServices;

            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static async IAsyncEnumerable<Point> Points(int n, [EnumeratorCancellation] CancellationToken ct)
                {
                    await Task.Yield();
                    yield return new Point(n, n);
                }

                [Remote]
                public static async Task<int> Count(ObjectRefStream<Point> points)
                {
                    var count = 0;
                    await foreach (var point in points.ReadAllAsync())
                    {
                        count++;
                    }

                    return count;
                }

                [Remote(Streaming = true)]
                public static IEnumerable<Point[]> Batches() { yield return new[] { new Point(1, 1) }; }
            }
            """, Types);

        Assert.True(run.RayDiagnostics.IsEmpty, "Unexpected:\n" + AnalyzerRun.Format(run.RayDiagnostics));
        Assert.True(run.CompilerErrors.IsEmpty, "The test source does not compile:\n" + AnalyzerRun.Format(run.CompilerErrors));
    }
}
