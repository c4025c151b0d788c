using Microsoft.CodeAnalysis;
using Ray.Analyzers.Tests.Infrastructure;
using Xunit;

namespace Ray.Analyzers.Tests;

/// <summary>
/// RAY0011–RAY0013: Ray's documented anti-patterns are warnings at the offending call or argument, and code
/// that follows the advice gets none.
/// </summary>
public sealed class AntiPatternTests
{
    [Fact]
    public void RAY0011_BlockingGetInAsyncRemoteMethod()
    {
        var (source, span) = Markup.Parse("""
            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static int Leaf(int x) => x;

                [Remote]
                public static async Task<int> Sum(int depth)
                {
                    await Task.Yield();
                    var left = Remote.Leaf(depth);
                    return [|left.Get()|] + 1;
                }
            }
            """);

        var diagnostic = AnalyzerRun.Of(source).Single("RAY0011", span);
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        Assert.Contains("'left.Get()'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("remote method 'MyApp.Work.Sum(int)'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("'await left'", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0011_BlockingGetInAsyncActorMethod()
    {
        var (source, span) = Markup.Parse("""
            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static int Leaf(int x) => x;
            }

            [Remote]
            public partial class Counter
            {
                private int _total;

                public async Task AddAsync(ObjectRef<int> value)
                {
                    await Task.Yield();
                    _total += [|value.Get()|];
                }
            }
            """);

        var diagnostic = AnalyzerRun.Of(source).Single("RAY0011", span);
        Assert.Contains("actor method 'MyApp.Counter.AddAsync(Ray.ObjectRef<int>)'", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0011_BlockingGetInAsyncLambdaOfARemoteMethod()
    {
        var (source, span) = Markup.Parse("""
            public static partial class Work
            {
                [Remote]
                public static int Run(ObjectRef<int> value)
                {
                    Func<Task<int>> later = async () => { await Task.Yield(); return [|value.Get()|]; };
                    return later().Result;
                }
            }
            """);

        AnalyzerRun.Of(source).Single("RAY0011", span);
    }

    [Theory]
    [InlineData("return [|RayRuntime.Current.Get(futures)|].Sum();", "'RayRuntime.Current.Get(futures)'", "'await RayRuntime.Current.GetAsync(futures)'")]
    [InlineData("var ray = RayRuntime.Current; return [|ray.Get(futures)|].Length;", "'ray.Get(futures)'", "'await ray.GetAsync(futures)'")]
    [InlineData("[|futures[0].Wait()|]; return 0;", "'futures[0].Wait()'", "'await futures[0]'")]
    [InlineData("[|futures[0].Wait(TimeSpan.FromSeconds(1))|]; return 0;", "'futures[0].Wait(TimeSpan.FromSeconds(1))'", "'await futures[0]'")]
    public void RAY0011_OtherBlockingWaits(string body, string blocking, string instead)
    {
        var (source, span) = Markup.Parse($$"""
            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static async Task<int> Sum(List<ObjectRef<int>> futures)
                {
                    await Task.Yield();
                    {{body}}
                }
            }
            """);

        var message = AnalyzerRun.Of(source).Single("RAY0011", span).GetMessage();
        Assert.Contains(blocking, message, StringComparison.Ordinal);
        Assert.Contains(instead, message, StringComparison.Ordinal);
        Assert.Contains("remote method 'MyApp.Work.Sum(System.Collections.Generic.List<Ray.ObjectRef<int>>)'", message, StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0011_NotInSynchronousOrNonRemoteCode()
    {
        AssertNone("RAY0011", """
            public static partial class Work
            {
                [Remote]
                public static int Leaf(int x) => x;

                // Blocking is what a synchronous task does; Ray releases its CPU while it waits.
                [Remote]
                public static int Sync(int depth) => Remote.Leaf(depth).Get();

                // A synchronous lambda inside an async task cannot await.
                [Remote]
                public static async Task<int> SumAll(List<ObjectRef<int>> references)
                {
                    await Task.Yield();
                    return references.Sum(reference => reference.Get());
                }

                // The driver is not a worker.
                public static async Task<int> DriverAsync()
                {
                    await Task.Yield();
                    return Remote.Leaf(1).Get();
                }

                [Remote]
                public static async Task<int> Awaits(int depth) => await Remote.Leaf(depth);
            }
            """);
    }

    [Fact]
    public void RAY0012_GetOfALocalInTheSubmittingLoop()
    {
        var (source, span) = Markup.Parse("""
            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static int Square(int x) => x * x;

                public static int Driver()
                {
                    var total = 0;
                    for (var i = 0; i < 10; i++)
                    {
                        var future = Work.Remote.Square(i);
                        total += [|future.Get()|];
                    }

                    return total;
                }
            }
            """);

        var diagnostic = AnalyzerRun.Of(source).Single("RAY0012", span);
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        Assert.Contains("'Work.Remote.Square'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("GetAsync", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("foreach (var item in items) { results.Add([|Remote.Square(item).Get()|]); }")]
    [InlineData("var i = 0; while (i < items.Length) { results.Add([|Remote.Square(items[i++]).Get()|]); }")]
    [InlineData("var i = 0; do { results.Add([|Remote.WithOptions(new() { NumCpus = 2 }).Square(i).Get()|]); } while (++i < 3);")]
    [InlineData("for (var i = 0; i < 3; i++) { ObjectRef<int> r = Remote.Square(i); if (i > 1) { results.Add([|r.Get()|]); } }")]
    public void RAY0012_Shapes(string loop)
    {
        var (source, span) = Markup.Parse($$"""
            public static partial class Work
            {
                [Remote]
                public static int Square(int x) => x * x;

                public static List<int> Driver(int[] items)
                {
                    var results = new List<int>();
                    {{loop}}
                    return results;
                }
            }
            """);

        AnalyzerRun.Of(source).Single("RAY0012", span);
    }

    [Theory]
    [InlineData("for (var i = 0; i < items.Length; i++) { results.Add([|await Remote.Square(items[i])|]); }")]
    [InlineData("foreach (var item in items) { var future = Remote.Square(item); results.Add([|await future|]); }")]
    [InlineData("foreach (var item in items) { results.Add([|await Remote.Square(item).GetAsync()|]); }")]
    [InlineData("foreach (var item in items) { [|await Remote.Log(item)|]; }")]
    [InlineData("foreach (var item in items) { var done = Remote.Log(item); [|done.Wait()|]; }")]
    public void RAY0012_AwaitAndWaitShapes(string loop)
    {
        var (source, span) = Markup.Parse($$"""
            public static partial class Work
            {
                [Remote]
                public static int Square(int x) => x * x;

                [Remote]
                public static void Log(int x) { }

                public static async Task<List<int>> Driver(int[] items)
                {
                    var results = new List<int>();
                    {{loop}}
                    return results;
                }
            }
            """);

        var diagnostic = AnalyzerRun.Of(source).Single("RAY0012", span);
        Assert.Matches("^'(await|Wait\\(\\))' waits for the result of 'Remote\\.(Square|Log)'", diagnostic.GetMessage());
    }

    [Fact]
    public void RAY0012_NotForActorCalls()
    {
        // Calls from one caller to an actor run one after another anyway; waiting for each loses no parallelism.
        AssertNone("RAY0012", """
            [Remote]
            public partial class Server
            {
                private int _version;

                public int Push(int gradient) => _version += gradient;
            }

            public static class Driver
            {
                public static async Task<int> Train(ActorHandle<Server> server)
                {
                    var version = 0;
                    for (var step = 0; step < 10; step++)
                    {
                        version = await server.Push(step);
                        version += server.Push(step).Get();
                    }

                    return version;
                }
            }
            """);
    }

    [Fact]
    public void RAY0012_AwaitNotWhenTheFuturesAreCollectedFirst()
    {
        AssertNone("RAY0012", """
            public static partial class Work
            {
                [Remote]
                public static int Square(int x) => x * x;

                public static async Task<int> Driver(int[] items)
                {
                    var futures = new List<ObjectRef<int>>();
                    foreach (var item in items)
                    {
                        futures.Add(Remote.Square(item));
                    }

                    var sum = 0;
                    foreach (var future in futures)
                    {
                        sum += await future;
                    }

                    var once = Remote.Square(2);
                    for (var i = 0; i < 3; i++)
                    {
                        sum += await once;
                    }

                    // The loop runs inside each task, not around the submissions.
                    var tasks = items.Select(async item => await Remote.Square(item)).ToList();
                    return sum + (await Task.WhenAll(tasks)).Sum();
                }
            }
            """);
    }

    [Fact]
    public void RAY0012_NotWhenTheFuturesAreCollectedFirst()
    {
        AssertNone("RAY0012", """
            public static partial class Work
            {
                [Remote]
                public static int Square(int x) => x * x;

                public static async Task<int[]> Driver(int[] items)
                {
                    var futures = new List<ObjectRef<int>>();
                    foreach (var item in items)
                    {
                        futures.Add(Remote.Square(item));
                    }

                    var first = futures[0].Get();
                    var sum = 0;
                    foreach (var future in futures)
                    {
                        sum += future.Get();
                    }

                    var once = Remote.Square(2);
                    for (var i = 0; i < 3; i++)
                    {
                        sum += once.Get();
                    }

                    return await RayRuntime.Current.GetAsync(futures);
                }
            }
            """);
    }

    [Fact]
    public void RAY0013_LargeLocalPassedInALoop()
    {
        var (source, span) = Markup.Parse("""
            namespace MyApp;

            public static partial class Work
            {
                [Remote]
                public static double Score(double[] data, int seed) => data[0] + seed;

                public static List<ObjectRef<double>> Driver()
                {
                    var data = new double[1_000_000];
                    var futures = new List<ObjectRef<double>>();
                    for (var seed = 0; seed < 100; seed++)
                    {
                        futures.Add(Remote.Score([|data|], seed));
                    }

                    return futures;
                }
            }
            """);

        var diagnostic = AnalyzerRun.Of(source).Single("RAY0013", span);
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        Assert.Contains("'data' (double[])", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("'Remote.Score'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("ray.Put(data)", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Dictionary<string, int>", "Lookup", "new Dictionary<string, int>()")]
    [InlineData("List<string>", "Words", "new List<string>()")]
    public void RAY0013_CollectionsFieldsAndParameters(string type, string name, string initializer)
    {
        var (source, span) = Markup.Parse($$"""
            public static partial class Work
            {
                private static readonly {{type}} Field = {{initializer}};

                [Remote]
                public static int {{name}}({{type}} values, int i) => i;

                public static void Driver({{type}} parameter)
                {
                    foreach (var i in Enumerable.Range(0, 10))
                    {
                        Remote.{{name}}([|Field|], i);
                    }
                }
            }
            """);

        var diagnostic = AnalyzerRun.Of(source).Single("RAY0013", span);
        var message = diagnostic.GetMessage().Replace("System.Collections.Generic.", string.Empty, StringComparison.Ordinal);
        Assert.Contains($"'Field' ({type})", message, StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0013_NotForReferencesPerIterationValuesOrSmallValues()
    {
        AssertNone("RAY0013", """
            public static partial class Work
            {
                [Remote]
                public static double Score(double[] data, int seed) => data[0] + seed;

                [Remote]
                public static int Length(string text) => text.Length;

                [Remote]
                public static double Sum(List<double> values) => values.Sum();

                public static void Driver(RayRuntime ray, double[][] batches)
                {
                    var data = new double[1_000_000];
                    var shared = ray.Put(data);
                    var text = "not a collection";
                    for (var seed = 0; seed < 100; seed++)
                    {
                        Remote.Score(shared, seed);
                        Remote.Score(new double[10], seed);
                        Remote.Length(text);
                        var fresh = new double[seed];
                        Remote.Score(fresh, seed);
                    }

                    foreach (var batch in batches)
                    {
                        Remote.Score(batch, 0);
                    }

                    var changing = new double[1];
                    for (var i = 0; i < 3; i++)
                    {
                        changing = new double[i + 1];
                        Remote.Score(changing, i);
                    }

                    // Changed on every pass: a different value each time, which one Put cannot replace.
                    var growing = new List<double>();
                    var filled = new double[3];
                    for (var i = 0; i < 3; i++)
                    {
                        growing.Add(i);
                        filled[i] = i;
                        Remote.Sum(growing);
                        Remote.Score(filled, i);
                    }

                    // Once, outside any loop.
                    Remote.Score(data, 0);
                }
            }
            """);
    }

    private static void AssertNone(string id, string source)
    {
        var run = AnalyzerRun.Of(source);
        var found = run.RayDiagnostics.Where(diagnostic => diagnostic.Id == id).ToList();
        Assert.True(found.Count == 0, $"Unexpected {id}:\n" + AnalyzerRun.Format(found));
        Assert.True(run.CompilerErrors.IsEmpty, "The test source does not compile:\n" + AnalyzerRun.Format(run.CompilerErrors));
    }
}
