using Microsoft.CodeAnalysis;
using Ray.Analyzers.Tests.Infrastructure;
using Xunit;

namespace Ray.Analyzers.Tests;

/// <summary>
/// Correct code gets no RAY diagnostic: every sample in the repository, the runtime tests' remote functions,
/// and a broad set of valid shapes.
/// </summary>
public sealed class ValidCodeTests
{
    private const string SerializableTypes = """
        using System.Collections.Concurrent;
        using System.Collections.Immutable;
        using System.Collections.ObjectModel;
        using System.Numerics;
        using MemoryPack;

        namespace Valid
        {
            public enum Mode { Fast, Careful }

            public struct Pixel
            {
                public byte R, G, B;
            }

            public readonly record struct Sample(double Value, long Ticks);

            [MemoryPackable]
            public partial record Point(int X, int Y);

            [MemoryPackable]
            public partial class Box<T>
            {
                public T? Value { get; set; }
            }

            [MemoryPackable]
            [MemoryPackUnion(0, typeof(Circle))]
            public partial interface IShape
            {
            }

            [MemoryPackable]
            public partial class Circle : IShape
            {
                public double Radius { get; set; }
            }

            public static partial class Tasks
            {
                [Remote] public static void Nothing() { }
                [Remote] public static Task NothingAsync() => Task.CompletedTask;
                [Remote] public static ValueTask NothingValueTask() => default;
                [Remote] public static int Primitives(bool a, byte b, sbyte c, short d, ushort e, int f, uint g, long h, ulong i, float j, double k, char l, nint m, nuint n) => f;
                [Remote] public static string Text(string text, string? maybe) => text;
                [Remote] public static decimal Framework(decimal a, DateTime b, DateTimeOffset c, TimeSpan d, Guid e, DateOnly f, TimeOnly g, Half h, Int128 i, UInt128 j) => a;
                [Remote] public static BigInteger More(BigInteger a, Complex b, Vector3 c, Matrix4x4 d, Uri e, Version f, System.Text.StringBuilder g, Type h, System.Collections.BitArray i, System.Globalization.CultureInfo j, TimeZoneInfo k) => a;
                [Remote] public static Mode Enums(Mode mode, Mode? maybe, DayOfWeek day) => mode;
                [Remote] public static Pixel Structs(Pixel pixel, Sample sample, Sample? maybe, KeyValuePair<int, double> pair) => pixel;
                [Remote] public static double[] Arrays(double[] a, int[,] b, byte[,,,] c, string[][] d, Point[] e, Mode[] f) => a;
                [Remote] public static List<int> Collections(List<int> a, Dictionary<string, List<Point>> b, HashSet<Guid> c, Queue<string> d, Stack<long> e, SortedSet<int> f, LinkedList<Point> g, SortedDictionary<string, int> h, SortedList<int, int> i, PriorityQueue<string, int> j) => a;
                [Remote] public static IReadOnlyList<int> Interfaces(IEnumerable<int> a, IList<string> b, ICollection<Point> c, IReadOnlyCollection<int> d, IReadOnlyDictionary<string, int> e, IDictionary<int, string> f, ISet<int> g, IReadOnlySet<int> h) => [];
                [Remote] public static ImmutableArray<int> Immutable(ImmutableArray<int> a, ImmutableList<string> b, ImmutableDictionary<string, Point> c, IImmutableList<int> d) => a;
                [Remote] public static ConcurrentDictionary<int, string> Concurrent(ConcurrentBag<int> a, ConcurrentQueue<int> b, ConcurrentDictionary<int, string> c) => c;
                [Remote] public static ReadOnlyCollection<int> ObjectModel(Collection<int> a, ReadOnlyCollection<int> b, ObservableCollection<Point> c, ReadOnlyDictionary<int, int> d) => b;
                [Remote] public static (int Count, string Name) Tuples((int, string) a, (Point, List<(int, double)>) b, Tuple<int, string> c, ValueTuple<int> d) => a;
                [Remote] public static ReadOnlyMemory<byte> Memory(Memory<byte> a, ReadOnlyMemory<char> b, ArraySegment<byte> c, Lazy<int> d) => a;
                [Remote] public static Box<List<Point>> Packable(Point point, Box<int> box, Box<Box<string>> nested, IShape shape, Circle circle) => new();
                [Remote] public static ObjectRef<int> References(ObjectRef<int> a, ObjectRef<System.IO.Stream> b, ObjectRef c, List<ObjectRef<Point>> d) => a;
                [Remote] public static async Task<List<Point>> Async(int count, CancellationToken cancellationToken) { await Task.Delay(1, cancellationToken); return []; }
                [Remote] public static async ValueTask<Point[]> AsyncValue(ObjectRef<Point> point) => [await point];
                [Remote] public static int Defaults(int x = 1, string name = "a", Mode mode = Mode.Careful, params int[] rest) => x;
                [Remote] public static double Views(ArrayView<double> a, ArrayView<Pixel> b, ObjectRef<double[]> c, CancellationToken cancellationToken, ArrayView<byte> d) => a.Length;
            }
        }
        """;

    private const string CallPatterns = """
        namespace Valid
        {
            public static partial class Calls
            {
                [Remote] public static int Square(int x) => x * x;
                [Remote] public static double Score(double[] data, int seed) => data.Length + seed;

                [Remote]
                public static async Task<int> Tree(int depth)
                {
                    if (depth == 0) return 1;
                    var left = Remote.Tree(depth - 1);
                    var right = Remote.Tree(depth - 1);
                    return await left + await right;
                }

                [Remote]
                public static int SyncTree(int depth) => depth == 0 ? 1 : Remote.SyncTree(depth - 1).Get() + Remote.SyncTree(depth - 1).Get();

                public static async Task<int[]> Driver(RayRuntime ray, double[] data)
                {
                    var shared = ray.Put(data);
                    var futures = new List<ObjectRef<int>>();
                    var scores = new List<ObjectRef<double>>();
                    for (var i = 0; i < 100; i++)
                    {
                        futures.Add(Remote.Square(i));
                        scores.Add(Remote.Score(shared, i));
                    }

                    foreach (var future in futures)
                    {
                        _ = future.Get();
                    }

                    var (ready, pending) = await ray.WaitAsync(futures, numReturns: 1);
                    return await ray.GetAsync(futures);
                }
            }
        }
        """;

    private const string Actors = """
        namespace Valid
        {
            [MemoryPack.MemoryPackable]
            public partial record Entry(string Key, int Value);

            [Remote]
            public partial class Counter
            {
                private readonly object _gate = new();
                private int _value;

                public Counter() { }

                public Counter(int start, List<Entry> entries) => _value = start;

                public Counter(ArrayView<int> seed) => _value = seed.Length;

                private Counter(System.IO.Stream notAFactory) { }

                public void Inc() => _value++;

                public int GetValue() => _value;

                public async Task<Entry> LookupAsync(string key, CancellationToken cancellationToken)
                {
                    await Task.Delay(1, cancellationToken);
                    return new Entry(key, _value);
                }

                public async Task AddAsync(ObjectRef<int> amount) => _value += await amount;

                public ActorHandle<Counter> Self(ActorHandle<Counter> handle) => handle;

                public int Total(ArrayView<int> values, CancellationToken cancellationToken) => values.Length;

                public override string ToString() => _value.ToString();

                public override bool Equals(object? obj) => ReferenceEquals(this, obj);

                public override int GetHashCode() => _value;

                internal object Internal(object value) => value;

                private object Private(System.IO.Stream stream) => stream;
            }
        }
        """;

    [Fact]
    public void BroadSetOfSerializableTypes()
        => AssertCleanRun(AnalyzerRun.Of(SerializableTypes));

    [Fact]
    public void CallPatternsThatFollowRaysAdvice()
        => AssertCleanRun(AnalyzerRun.Of(CallPatterns));

    [Fact]
    public void ActorShapesGetNoAnalyzerDiagnostic()
    {
        // Whether the generator accepts the actor is its own tests' business; the analyzers must accept it.
        var run = AnalyzerRun.Of(Actors);
        Assert.True(run.AnalyzerDiagnostics.IsEmpty, AnalyzerRun.Format(run.AnalyzerDiagnostics));
    }

    [Fact]
    public void TheSamples()
    {
        var directory = RepositoryPaths.Combine("samples/RayGen.Samples");
        var files = Directory.EnumerateFiles(directory, "*.cs", SearchOption.AllDirectories)
            .Where(path => !IsBuildOutput(directory, path))
            .Order(StringComparer.Ordinal)
            .Select(path => (Path.GetRelativePath(RepositoryPaths.Root, path), File.ReadAllText(path)))
            .ToList();
        Assert.True(files.Count >= 5, $"Expected the samples' sources under {directory}.");

        AssertCleanRun(AnalyzerRun.Of(TestCompilation.CreateFromFiles(files)));
    }

    [Fact]
    public void TheRuntimeTestsTasksAndActors()
    {
        string[] paths = ["tests/Ray.Runtime.Tests/TestTasks.cs", "tests/Ray.Runtime.Tests/TestActors.cs", "tests/Ray.Runtime.Tests/Gate.cs", "tests/Ray.Runtime.Tests/StreamTasks.cs"];
        AssertCleanRun(AnalyzerRun.Of(TestCompilation.CreateFromFiles(paths.Select(path => (path, File.ReadAllText(RepositoryPaths.Combine(path)))))));
    }

    /// <summary>The README's quick tour is a whole Program.cs: pasted into a console app, it compiles with no RAY diagnostic.</summary>
    [Fact]
    public void TheReadmesQuickTour()
    {
        var readme = File.ReadAllText(RepositoryPaths.Combine("README.md"));
        var tour = readme.IndexOf("## A quick tour", StringComparison.Ordinal);
        Assert.True(tour >= 0, "README.md has no quick tour.");
        const string Fence = "```csharp\n";
        var start = readme.IndexOf(Fence, tour, StringComparison.Ordinal) + Fence.Length;
        var code = readme[start..readme.IndexOf("\n```", start, StringComparison.Ordinal)];

        var program = TestCompilation.CreateFromFiles([("Program.cs", code)]);
        AssertCleanRun(AnalyzerRun.Of(program.WithOptions(program.Options.WithOutputKind(OutputKind.ConsoleApplication))));
    }

    private static bool IsBuildOutput(string root, string path)
    {
        var relative = Path.GetRelativePath(root, path).Replace('\\', '/');
        return relative.StartsWith("bin/", StringComparison.Ordinal) || relative.StartsWith("obj/", StringComparison.Ordinal);
    }

    private static void AssertCleanRun(AnalyzerRun run)
    {
        run.AssertNoRayDiagnostics();
        Assert.True(run.CompilerErrors.IsEmpty, "The sources do not compile, so the check means little:\n" + AnalyzerRun.Format(run.CompilerErrors));
    }
}
