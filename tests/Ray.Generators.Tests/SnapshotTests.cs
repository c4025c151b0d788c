using Ray.Generators.Tests.Infrastructure;
using Xunit;

namespace Ray.Generators.Tests;

/// <summary>
/// The generated source of each supported shape, compared with committed baselines under Snapshots/. Every
/// case must also compile with no error and no warning.
/// </summary>
public sealed class SnapshotTests
{
    [Fact]
    public void SimpleAdd() => Verify("""
        namespace MyApp
        {
            public static partial class Work
            {
                [Remote]
                public static int Add(int x, int y) => x + y;
            }
        }
        """);

    [Fact]
    public void VoidMethod() => Verify("""
        namespace MyApp
        {
            public static partial class Work
            {
                [Remote]
                public static void Log(string message) => Console.WriteLine(message);
            }
        }
        """);

    [Fact]
    public void TaskMethod() => Verify("""
        namespace MyApp
        {
            public static partial class Work
            {
                [Remote]
                public static Task FlushAsync(int count) => Task.Delay(count);
            }
        }
        """);

    [Fact]
    public void TaskOfResult() => Verify("""
        namespace MyApp
        {
            public static partial class Work
            {
                [Remote]
                public static async Task<double[]> SimulateAsync(int steps)
                {
                    await Task.Yield();
                    return new double[steps];
                }
            }
        }
        """);

    [Fact]
    public void ValueTaskOfResult() => Verify("""
        namespace MyApp
        {
            public static partial class Work
            {
                [Remote]
                public static ValueTask<string> EchoAsync(string text) => new(text);

                [Remote]
                public static ValueTask PingAsync() => default;
            }
        }
        """);

    [Fact]
    public void CancellationTokenParameter() => Verify("""
        namespace MyApp
        {
            public static partial class Work
            {
                [Remote(NumCpus = 2, MaxRetries = 5)]
                public static async Task<double[]> Simulate(int steps, CancellationToken ct, double scale)
                {
                    await Task.Delay(1, ct);
                    return new double[steps];
                }
            }
        }
        """);

    [Fact]
    public void ArrayViewParameter() => Verify("""
        namespace MyApp
        {
            public struct Pixel
            {
                public byte R, G, B;
            }

            public static partial class Work
            {
                [Remote]
                public static async Task<double> ScaleSum(string label, ArrayView<double> data, CancellationToken ct, double factor, ArrayView<Pixel> pixels)
                {
                    await Task.Delay(1, ct);
                    double sum = 0;
                    foreach (var x in data)
                    {
                        sum += x;
                    }

                    return factor * sum + pixels.Length;
                }
            }
        }
        """);

    [Fact]
    public void NestedTypesInBlockNamespace() => Verify("""
        namespace MyApp.Physics
        {
            public partial class Outer
            {
                internal partial struct Middle
                {
                    public static partial class Work
                    {
                        [Remote]
                        public static int Step(int x) => x + 1;
                    }
                }
            }
        }
        """);

    [Fact]
    public void FileScopedNamespace() => Verify("""
        namespace MyApp.Scoped;

        public partial record Work
        {
            [Remote]
            internal static int Twice(int x) => 2 * x;
        }
        """);

    [Fact]
    public void GlobalNamespace() => Verify("""
        public static partial class Work
        {
            [Remote]
            public static int Add(int x, int y) => x + y;
        }
        """);

    [Fact]
    public void Overloads() => Verify("""
        namespace MyApp
        {
            public static partial class Work
            {
                [Remote]
                public static int Add(int x, int y) => x + y;

                [Remote]
                public static string Add(string x, string y) => x + y;

                [Remote]
                public static int Add(int x, int y, int z) => x + y + z;
            }
        }
        """);

    [Fact]
    public void ParamsArray() => Verify("""
        namespace MyApp
        {
            public static partial class Work
            {
                [Remote]
                public static int Sum(string label, params int[] values) => values.Length;
            }
        }
        """);

    [Fact]
    public void DefaultValues() => Verify("""
        namespace MyApp
        {
            public enum Color { Red, Green = 5, Blue }

            public static partial class Work
            {
                [Remote]
                public static string Describe(
                    int count = 3,
                    string name = "a \"quoted\"\n name",
                    string? missing = null,
                    Color color = Color.Green,
                    Color unnamed = (Color)42,
                    bool flag = true,
                    double scale = 0.1,
                    float ratio = 1.5f,
                    long big = long.MaxValue,
                    decimal money = 1.25m,
                    char separator = '\t',
                    short small = -2,
                    int? maybe = null,
                    DateTime when = default) => name;
            }
        }
        """);

    [Fact]
    public void NullableAnnotations() => Verify("""
        namespace MyApp
        {
            public static partial class Work
            {
                [Remote]
                public static string? Find(string? key, List<string?> keys, int? limit) => key;

                [Remote]
                public static Task<string?> FindAsync(string key) => Task.FromResult<string?>(key);
            }
        }
        """);

    [Fact]
    public void NestedGenericCollections() => Verify("""
        namespace MyApp
        {
            public static partial class Work
            {
                [Remote]
                public static List<Dictionary<string, int[]>> Merge(List<Dictionary<string, int[]>> parts, Dictionary<string, List<int?>?> extra) => parts;
            }
        }
        """);

    [Fact]
    public void AttributeOptions() => Verify("""
        namespace MyApp
        {
            public static partial class Work
            {
                [Remote(NumCpus = 0.5, NumGpus = 1, MaxRetries = 0, RetryExceptions = true)]
                public static int Train(int epochs) => epochs;

                [Remote(MaxRetries = 7)]
                public static int Retry(int x) => x;
            }
        }
        """);

    [Fact]
    public void XmlDocs() => Verify("""
        namespace MyApp
        {
            /// <summary>Work to spread over the cluster.</summary>
            public static partial class Work
            {
                /// <summary>Adds two numbers.</summary>
                /// <param name="x">The first number.</param>
                /// <param name="y">The second number.</param>
                /// <returns>The sum.</returns>
                [Remote]
                public static int Add(int x, int y) => x + y;

                /// <summary>Scales a list.</summary>
                /// <param name="values">The values.</param>
                /// <param name="factor">The factor.</param>
                [Remote]
                public static List<double> Scale(List<double> values, double factor = 2) => values;
            }
        }
        """);

    [Fact]
    public void ObsoleteMethod() => Verify("""
        namespace MyApp
        {
            public static partial class Work
            {
                [Obsolete("Use Add instead.")]
                [Remote]
                public static int Plus(int x, int y) => x + y;
            }
        }
        """);

    [Fact]
    public void TwoTypesGetTwoFiles() => VerifyAll(
        """
        namespace MyApp
        {
            public static partial class Work
            {
                [Remote]
                public static int Add(int x, int y) => x + y;
            }
        }
        """,
        """
        namespace MyApp
        {
            public static partial class Work
            {
                [Remote]
                public static int Negate(int x) => -x;
            }

            public static partial class Other
            {
                [Remote]
                public static int Identity(int x) => x;
            }
        }
        """);

    [Fact]
    public void StreamingAsyncEnumerable() => Verify("""
        using System.Runtime.CompilerServices;

        namespace MyApp
        {
            public static partial class Loader
            {
                /// <summary>Reads the batches of a file.</summary>
                [Remote(MaxRetries = 1, GeneratorBackpressureNumObjects = 4)]
                public static async IAsyncEnumerable<byte[]> Read(string path, int batchSize, [EnumeratorCancellation] CancellationToken ct = default)
                {
                    for (var i = 0; i < 3; i++)
                    {
                        await Task.Delay(1, ct);
                        yield return new byte[batchSize];
                    }
                }

                [Remote]
                public static async IAsyncEnumerable<int> Count(int n)
                {
                    for (var i = 0; i < n; i++)
                    {
                        await Task.Yield();
                        yield return i;
                    }
                }
            }
        }
        """);

    [Fact]
    public void StreamingEnumerableMarkedStreaming() => Verify("""
        namespace MyApp
        {
            public static partial class Work
            {
                [Remote(Streaming = true)]
                public static IEnumerable<string> Lines(int count)
                {
                    for (var i = 0; i < count; i++)
                    {
                        yield return i.ToString();
                    }
                }

                // Without Streaming an IEnumerable<T> result is one value, a list.
                [Remote]
                public static IEnumerable<int> Squares(int count)
                {
                    for (var i = 0; i < count; i++)
                    {
                        yield return i * i;
                    }
                }
            }
        }
        """);

    private static void Verify(string source, [System.Runtime.CompilerServices.CallerMemberName] string testName = "")
        => Snapshot.Verify(GeneratorRun.Of(source).AssertCleanBuild(), testName);

    private static void VerifyAll(string first, string second, [System.Runtime.CompilerServices.CallerMemberName] string testName = "")
        => Snapshot.Verify(GeneratorRun.Of(first, second).AssertCleanBuild(), testName);
}
