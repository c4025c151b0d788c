using Ray.Generators.Tests.Infrastructure;
using Xunit;

namespace Ray.Generators.Tests;

/// <summary>
/// A broad set of valid declarations: the generator reports nothing, and user code plus generated code
/// compiles with no error and no warning, documentation comments checked.
/// </summary>
public sealed class ValidShapesTests
{
    private const string Containers = """
        namespace Shapes.Containers
        {
            public partial struct Point
            {
                [Remote] public static Point Origin() => default;
            }

            public readonly partial struct ReadOnlyPoint
            {
                [Remote] public static int X(int x) => x;
            }

            public ref partial struct RefHolder
            {
                [Remote] public static int Y(int y) => y;
            }

            public partial record Person(string Name)
            {
                [Remote] public static Person Create(string name) => new(name);
            }

            public partial record struct Pair(int A, int B)
            {
                [Remote] public static Pair Swap(Pair pair) => new(pair.B, pair.A);
            }

            public partial interface IMath
            {
                [Remote] static int Square(int x) => x * x;
            }

            public partial interface IMoreMath : IMath
            {
                [Remote] static int Cube(int x) => x * x * x;
            }

            public abstract partial class Base
            {
                [Remote] public static int Count() => 0;
            }

            public sealed partial class Leaf : Base
            {
                [Remote] public static new int Count() => 1;
            }

            internal static partial class Internal
            {
                [Remote] public static int Visible(int x) => x;

                [Remote] internal static int AlsoVisible(int x) => x;
            }

            public partial class Outer
            {
                protected internal partial class ProtectedInternal
                {
                    [Remote] protected internal static int Run(int x) => x;
                }

                internal partial class Level1
                {
                    public partial class Level2
                    {
                        public static partial class Level3
                        {
                            [Remote] public static int Deep(int x) => x;
                        }
                    }
                }
            }

            public static partial class Extensions
            {
                [Remote] public static int Doubled(this int x) => 2 * x;
            }

            public static partial class Partial
            {
                [Remote] public static partial int Declared(int x);

                public static partial int Declared(int x) => x;
            }
        }
        """;

    private const string Types = """
        namespace Shapes.Types
        {
            [Flags]
            public enum Access { None = 0, Read = 1, Write = 2, Negative = -1 }

            public static partial class Work
            {
                [Remote] public static (int Sum, string Text) Tuple((int A, int B) pair, string text) => (pair.A + pair.B, text);
                [Remote] public static int[,] Matrix(int[,] values, int[][] jagged) => values;
                [Remote] public static int? Maybe(int? value, Guid id, DateTimeOffset at, TimeSpan span) => value;
                [Remote] public static nint Native(nint a, nuint b) => a;
                [Remote] public static object Boxed(object value) => value;
                [Remote] public static ObjectRef<int> Future(ObjectRef<int> inner) => inner;
                [Remote] public static ObjectRef Untyped(int x) => null!;
                [Remote] public static byte[] Bytes(byte[] data, ReadOnlyMemory<byte> memory) => data;
                [Remote] public static Dictionary<string, List<(int, string?)>> Map(HashSet<string> keys) => new();
                [Remote] public static IReadOnlyList<string> Names(IEnumerable<string> names) => new List<string>(names);
                [Remote] public static void Nothing() { }
                [Remote] public static Task Later(CancellationToken ct = default) => Task.CompletedTask;
                [Remote] public static ValueTask<int[]> LaterValue(CancellationToken ct, int count) => new(new int[count]);
                [Remote] public static int Sum(params List<int> values) => values.Count;
                [Remote] public static int Params(int first, params string[] rest) => rest.Length;

                [Remote]
                public static string Defaults(
                    [System.Runtime.InteropServices.Optional] int optional,
                    Access access = Access.Read | Access.Write,
                    Access negative = Access.Negative,
                    Access? maybe = Access.Read,
                    Access? none = null,
                    double nan = double.NaN,
                    double infinity = double.PositiveInfinity,
                    float negativeInfinity = float.NegativeInfinity,
                    double tiny = 1e-300,
                    ulong huge = ulong.MaxValue,
                    uint unsigned = 7u,
                    byte small = 255,
                    sbyte signed = -128,
                    ushort word = 65535,
                    int min = int.MinValue,
                    long longMin = long.MinValue,
                    decimal money = -79228162514264337593543950335m,
                    char quote = '\'',
                    char unicode = '\u2603',
                    string escaped = "tab\t \"quote\" back\\slash \u2603",
                    string empty = "",
                    object? nothing = null,
                    Guid guid = default) => "";
            }
        }
        """;

    private const string ArrayViews = """
        namespace Shapes.Views
        {
            public struct Pixel
            {
                public byte R, G, B;
            }

            public static partial class Work
            {
                [Remote] public static double Sum(ArrayView<double> data) => data.Length;
                [Remote] public static double Sum(ArrayView<float> data) => data.Length;
                [Remote] public static double Sum(double[] data, int times) => data.Length * times;
                [Remote] public static long Mixed(int offset, ArrayView<long> values, CancellationToken ct, string label = "x", params int[] rest) => values[offset];
                [Remote] public static int Two(ArrayView<byte> first, ArrayView<Pixel> second) => first.Length + second.Length;
                [Remote] public static Task<int> LengthAsync(ArrayView<float> data) => Task.FromResult(data.Length);
                [Remote] public static double[] Copy(ArrayView<double> data) => data.ToArray();
            }

            public static class Callers
            {
                public static async Task<double> Call(ObjectRef<double[]> stored, double[] local)
                {
                    double total = await Work.Remote.Sum(local) + await Work.Remote.Sum(stored) + await Work.Remote.Sum(local, 2);
                    total += await Work.Remote.Sum(Work.Remote.Copy(local));
                    total += await Work.Remote.Sum(new float[] { 1f });
                    total += await Work.Remote.WithOptions(new TaskOptions { NumCpus = 2 }).Mixed(0, new long[] { 1 }, "y", 1, 2);
                    total += await Work.Remote.Mixed(offset: 0, values: new long[] { 1 });
                    total += await Work.Remote.Two(new byte[1], new Pixel[2]);
                    return total + await Work.Remote.LengthAsync(new float[3]);
                }
            }
        }
        """;

    private const string Names = """
        namespace Shapes.@event
        {
            public static partial class @class
            {
                [Remote] public static int @checked(int @int, string @string, CancellationToken @default) => @int;

                [Remote] public static int Arguments(int _options, int invocation, int x) => _options + invocation + x;
            }

            // User types named like framework and Ray types must not capture the generated code's names.
            public class Task { }
            public class ObjectRef { }
            public class Arg<T> { }
            public class System { }
            public class Infrastructure { }

            public static partial class Ümlaut_日本
            {
                [Remote] public static int Größe(int x) => x;
            }

            public static partial class Shadowed
            {
                [Remote] public static int Add(int x) => x;

                [Remote] public static global::System.Threading.Tasks.Task<int> AddAsync(int x) => global::System.Threading.Tasks.Task.FromResult(x);
            }
        }
        """;

    private const string SplitAcrossFiles = """
        namespace Shapes.Split
        {
            public static partial class Work
            {
                [Remote] public static int FromSecondFile(int x) => x;

                [Obsolete]
                [Remote] public static int Old(int x) => x;
            }
        }
        """;

    private const string SplitFirstFile = """
        #nullable disable
        namespace Shapes.Split
        {
            public static partial class Work
            {
                [Remote] public static string Oblivious(string text, List<string> texts) => text;
            }
        }
        """;

    [Fact]
    public void ContainersOfEveryKind()
    {
        var run = AssertValid(Containers, expectedFiles: 14);

        // A derived type's generated classes hide its base type's, which the compiler wants said with 'new'.
        Assert.Contains("public new static class Remote", run.Source("Shapes.Containers.Leaf.Remote.g.cs"), StringComparison.Ordinal);
        Assert.Contains("internal new static class __RayFunctions", run.Source("Shapes.Containers.Leaf.Remote.g.cs"), StringComparison.Ordinal);
        Assert.Contains("public static class Remote", run.Source("Shapes.Containers.Base.Remote.g.cs"), StringComparison.Ordinal);
        Assert.Contains("ref partial struct RefHolder", run.Source("Shapes.Containers.RefHolder.Remote.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void DerivedTypeInAnotherAssemblyHidesOnlyThePublicRemoteClass()
    {
        var library = TestCompilation.CreateNamed("Library", """
            namespace Lib
            {
                public partial class Base
                {
                    [Remote] public static int Count() => 0;
                }
            }
            """);
        var libraryRun = GeneratorRun.Of(library).AssertCleanBuild();
        var libraryImage = new MemoryStream();
        Assert.True(libraryRun.Output.Emit(libraryImage).Success);

        var app = TestCompilation.CreateNamed("App", """
            namespace App
            {
                public partial class Derived : Lib.Base
                {
                    [Remote] public static int Other() => 1;
                }
            }
            """).AddReferences(Microsoft.CodeAnalysis.MetadataReference.CreateFromImage(libraryImage.ToArray()));
        var source = GeneratorRun.Of(app).AssertCleanBuild().Source("App.Derived.Remote.g.cs");
        Assert.Contains("public new static class Remote", source, StringComparison.Ordinal);
        Assert.Contains("internal static class __RayFunctions", source, StringComparison.Ordinal);
    }

    [Fact]
    public void ParameterAndReturnTypes() => AssertValid(Types, expectedFiles: 1);

    [Fact]
    public void ArrayViewParametersTakeArraysAndTheirFutures()
    {
        var source = AssertValid(ArrayViews, expectedFiles: 1).Source("Shapes.Views.Work.Remote.g.cs");
        Assert.Contains("Sum(global::Ray.Arg<double[]> data)", source, StringComparison.Ordinal);
        Assert.Contains("Sum(global::Ray.Arg<float[]> data)", source, StringComparison.Ordinal);
        Assert.Contains("invocation.View<global::Shapes.Views.Pixel>(1, \"second\")", source, StringComparison.Ordinal);
        Assert.DoesNotContain("Arg<global::Ray.ArrayView", source, StringComparison.Ordinal);
    }

    [Fact]
    public void KeywordNamesAndShadowingUserTypes() => AssertValid(Names, expectedFiles: 3);

    [Fact]
    public void PartialTypeSplitAcrossFiles() => AssertValid(new[] { SplitFirstFile, SplitAcrossFiles }, expectedFiles: 1);

    [Fact]
    public void AllTogether() => AssertValid(new[] { Containers, Types, ArrayViews, Names, SplitFirstFile, SplitAcrossFiles }, expectedFiles: 20);

    [Fact]
    public void OutputIsDeterministic()
    {
        var sources = new[] { Containers, Types, ArrayViews, Names, SplitFirstFile, SplitAcrossFiles };
        var first = GeneratorRun.Of(sources);
        var second = GeneratorRun.Of(sources.Reverse().ToArray());
        Assert.Equal(
            first.Sources.Select(source => (source.HintName, source.SourceText.ToString())).OrderBy(pair => pair.HintName, StringComparer.Ordinal),
            second.Sources.Select(source => (source.HintName, source.SourceText.ToString())).OrderBy(pair => pair.HintName, StringComparer.Ordinal));
    }

    [Fact]
    public void SourcesWithoutRemoteGenerateNothing()
    {
        var run = GeneratorRun.Of("""
            public static class Work
            {
                public static int Add(int x, int y) => x + y;
            }
            """).AssertCleanBuild();
        Assert.Empty(run.Sources);
    }

    private static GeneratorRun AssertValid(string source, int expectedFiles) => AssertValid(new[] { source }, expectedFiles);

    private static GeneratorRun AssertValid(string[] sources, int expectedFiles)
    {
        var run = GeneratorRun.Of(sources).AssertCleanBuild();
        Assert.True(
            expectedFiles == run.Sources.Length,
            $"Expected {expectedFiles} files, got: {string.Join(", ", run.Sources.Select(source => source.HintName))}");
        return run;
    }
}
