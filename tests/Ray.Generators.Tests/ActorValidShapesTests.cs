using System.Text.RegularExpressions;
using Ray.Generators.Tests.Infrastructure;
using Xunit;

namespace Ray.Generators.Tests;

/// <summary>
/// A broad set of valid actor declarations: the generator reports nothing, and user code plus generated code
/// compiles with no error and no warning, documentation comments checked, including code that uses the actors.
/// </summary>
public sealed class ActorValidShapesTests
{
    private const string Containers = """
        namespace Actors.Containers
        {
            public partial struct Holder
            {
                [Remote] public partial class InStruct { public int Get() => 1; }
            }

            public partial record Person(string Name)
            {
                [Remote] public partial class InRecord { public int Get() => 2; }
            }

            public partial interface IHost
            {
                [Remote] public partial class InInterface { public int Get() => 3; }
            }

            public static partial class Statics
            {
                [Remote] public partial class InStaticClass { public int Get() => 4; }
            }

            // A type with tasks can hold an actor, and an actor can hold a type with tasks: their 'Remote's do not meet.
            public static partial class Tasks
            {
                [Remote] public static int Task1(int x) => x;

                [Remote] public partial class ActorInTasks { public int Get() => 5; }
            }

            [Remote]
            public partial class ActorWithTasks
            {
                public int Get() => 6;

                public static partial class Helpers
                {
                    [Remote] public static int Task2(int x) => x;
                }
            }

            internal partial class Internal
            {
                [Remote] public partial class InInternal { public int Get() => 7; }
            }

            public partial class Outer
            {
                [Remote] protected internal partial class ProtectedInternal { public int Get() => 8; }

                [Remote] internal partial class Level1
                {
                    [Remote] public partial class Level2 { public int Get() => 9; }

                    public int Get() => 10;
                }
            }

            [Remote]
            internal partial class OnlyInternalConstructors
            {
                internal OnlyInternalConstructors(int x) { }

                protected internal OnlyInternalConstructors(string s) { }

                private OnlyInternalConstructors() { }

                public int Get() => 11;
            }

            [Remote]
            public partial class NoMethods
            {
                public NoMethods(int x) { }
            }
        }
        """;

    private const string Inheritance = """
        namespace Actors.Inheritance
        {
            public abstract class Shape
            {
                public abstract double Area();

                public virtual string Describe() => "shape";

                public override string ToString() => Describe();
            }

            [Remote]
            public partial class Circle : Shape, IDisposable, IAsyncDisposable, IComparable<Circle>
            {
                private readonly double _radius;

                public Circle(double radius) => _radius = radius;

                public override double Area() => Math.PI * _radius * _radius;

                public override string Describe() => "circle";

                public override bool Equals(object? obj) => obj is Circle other && other._radius == _radius;

                public override int GetHashCode() => _radius.GetHashCode();

                public void Dispose() { }

                public ValueTask DisposeAsync() => default;

                int IComparable<Circle>.CompareTo(Circle? other) => 0;
            }

            [Remote]
            public partial class BaseActor
            {
                public BaseActor(int x) { }

                public BaseActor(string s) { }

                public int A() => 1;
            }

            // Same factory signature as the base's Remote(int), so that one is hidden with 'new'; Remote() is not.
            [Remote]
            public partial class DerivedActor : BaseActor
            {
                public DerivedActor(int x) : base(x) { }

                public DerivedActor() : base(0) { }

                public int B() => 2;
            }

            public partial class TaskBase
            {
                [Remote] public static int Work(int x) => x;
            }

            // The factories hide the base's generated 'Remote' class.
            [Remote]
            public partial class ActorOverTasks : TaskBase
            {
                public int C() => 3;
            }

            // The generated 'Remote' class hides the base actor's factories.
            public partial class TasksOverActor : BaseActor
            {
                public TasksOverActor() : base(1) { }

                [Remote] public static int Other(int x) => x;
            }
        }
        """;

    private const string Members = """
        namespace Actors.Members
        {
            [Remote]
            public partial class Everything
            {
                private int _x = 1;

                public Everything() { }

                static Everything() { }

                public int Property { get; set; }

                public int this[int i] => i;

                public event EventHandler? Changed;

                public static Everything operator +(Everything a, Everything b) => a;

                public static implicit operator int(Everything e) => e._x;

                public static int StaticHelper() => 0;

                internal int InternalHelper() => 0;

                private int PrivateHelper() => 0;

                protected int ProtectedHelper() => 0;

                public void Raise() => Changed?.Invoke(this, EventArgs.Empty);

                public ObjectRef<int> Future(ObjectRef<int> inner) => inner;

                public ActorHandle<Everything> Self(ActorHandle<Everything> self) => self;

                public (int A, string B) Tuple((int, string) pair) => pair;

                public int? Maybe(int? x, Guid id, DateTimeOffset at) => x;

                public Dictionary<string, List<int?>> Map(HashSet<string>? keys) => new();

                public async void FireAndForget(int x) => await Task.Yield();

                public Task LaterAsync(CancellationToken ct = default) => Task.CompletedTask;

                public int Defaults(int a = 1, string? s = null, double d = double.NaN, DayOfWeek day = DayOfWeek.Friday) => a;

                public int Sum(params List<int> values) => values.Count;

                public int Names(int instance, int invocation, int handle, int _options) => instance + invocation + handle + _options;

                public partial int Declared(int x);

                public partial int Declared(int x) => x;
            }

            [Remote]
            public sealed partial record Account(string Owner, decimal Balance)
            {
                public bool Equals(Account? other) => other is not null && other.Owner == Owner;

                public override int GetHashCode() => Owner.GetHashCode();

                public void Deconstruct(out string owner) => owner = Owner;

                public decimal Deposit(decimal amount) => Balance + amount;
            }

            [Remote]
            public partial class Primary(int start)
            {
                public int Get() => start;
            }

            [Obsolete("Use Primary.")]
            [Remote]
            public partial class Old
            {
                [Obsolete("Gone soon.")]
                public Old() { }

                [Obsolete]
                public int Get() => 1;
            }
        }
        """;

    private const string ArrayViews = """
        namespace Actors.Views
        {
            public struct Pixel
            {
                public byte R, G, B;
            }

            [Remote]
            public partial class Image
            {
                public Image(ArrayView<Pixel> pixels, int width) { }

                public Image(int width) { }

                public int Brightness(ArrayView<byte> mask, CancellationToken ct, int threshold = 3) => mask.Length + threshold;

                public Task<double> MeanAsync(ArrayView<double> values) => Task.FromResult(values.Length == 0 ? 0 : values[0]);

                public void Blend(ArrayView<float> first, ArrayView<float> second) { }

                public double Sum(ArrayView<double> values) => values.Length;

                public double Sum(ArrayView<float> values) => values.Length;
            }

            [Remote]
            public partial class Sampler
            {
                public Sampler(double[] weights) { }

                public int Get() => 1;
            }

            // Its factory takes what the base's takes, Arg<double[]>, so it hides that one with 'new'.
            [Remote]
            public partial class WeightedSampler : Sampler
            {
                public WeightedSampler(ArrayView<double> weights) : base(weights.ToArray()) { }
            }

            public static class Driver
            {
                public static async Task<double> Run(ObjectRef<Pixel[]> stored, double[] local)
                {
                    ActorHandle<Image> image = Image.Remote(stored, 2);
                    ActorHandle<Image> other = Image.WithOptions(new ActorOptions { Name = "i" }).Remote(new Pixel[4], width: 2);
                    int brightness = await image.Brightness(new byte[] { 1 });
                    double mean = await other.MeanAsync(local);
                    _ = image.Blend(new float[1], new float[1]);
                    double sum = await image.Sum(local) + await image.Sum(new float[] { 1f });
                    ActorHandle<WeightedSampler> sampler = WeightedSampler.Remote(local);
                    return brightness + mean + sum + sampler.Id.GetHashCode();
                }
            }
        }
        """;

    private const string Names = """
        namespace Actors.@event
        {
            [Remote]
            public partial class @class
            {
                public @class(int @int) { }

                public int @checked(int @string, CancellationToken @default) => @string;
            }

            [Remote]
            public partial class Ümlaut_日本
            {
                public int Größe(int x) => x;
            }

            // User types named like framework and Ray types must not capture the generated code's names.
            public class Task { }
            public class ObjectRef { }
            public class Arg<T> { }
            public class ActorHandle<T> { }
            public class ActorOptions { }
            public class System { }
            public class Infrastructure { }
            public class Class { }

            [Remote]
            public partial class Shadowed
            {
                public global::System.Threading.Tasks.Task<int> GetAsync(int x) => global::System.Threading.Tasks.Task.FromResult(x);
            }
        }
        """;

    private const string SplitFirstFile = """
        #nullable disable
        namespace Actors.Split
        {
            [Remote]
            public partial class Split
            {
                public string Oblivious(string text, List<string> texts) => text;
            }
        }
        """;

    private const string SplitSecondFile = """
        namespace Actors.Split
        {
            public partial class Split
            {
                public Split(string name) { }

                public string? Annotated(string? text) => text;
            }
        }
        """;

    private const string Usage = """
        namespace Actors.Usage
        {
            using Actors.Inheritance;

            public static class Driver
            {
                public static async global::System.Threading.Tasks.Task<double> Run()
                {
                    ActorHandle<Circle> circle = Circle.Remote(2);
                    ActorHandle<Circle> named = Circle.WithOptions(new ActorOptions { Name = "c", MaxRestarts = 1 }).Remote(radius: 3);
                    // These tests run the generator only, not the suppressor that silences CS4014 for an
                    // unawaited ObjectRef, so the fire-and-forget call discards its reference explicitly.
                    _ = circle.Dispose();
                    await circle.DisposeAsync();
                    string description = await circle.Describe();
                    ActorHandle<DerivedActor> derived = DerivedActor.Remote(1);
                    ActorHandle<BaseActor> baseActor = BaseActor.Remote("s");
                    int b = derived.B().Get();
                    int a = baseActor.A().Get();
                    ObjectRef<double> area = named.Area();
                    return await area + a + b + description.Length;
                }
            }
        }
        """;

    [Fact]
    public void ContainersOfEveryKind()
    {
        var run = AssertValid(new[] { Containers }, expectedFiles: 14);
        Assert.Contains("public static class IHost_InInterfaceActorExtensions", run.Source("Actors.Containers.IHost.InInterface.Actor.g.cs"), StringComparison.Ordinal);
        Assert.Contains("internal static class Outer_Level1_Level2ActorExtensions", run.Source("Actors.Containers.Outer.Level1.Level2.Actor.g.cs"), StringComparison.Ordinal);
        Assert.Contains("internal static class Outer_ProtectedInternalActorExtensions", run.Source("Actors.Containers.Outer.ProtectedInternal.Actor.g.cs"), StringComparison.Ordinal);
        Assert.Contains("public static class Tasks_ActorInTasksActorExtensions", run.Source("Actors.Containers.Tasks.ActorInTasks.Actor.g.cs"), StringComparison.Ordinal);

        var internalOnly = run.Source("Actors.Containers.OnlyInternalConstructors.Actor.g.cs");
        Assert.Contains("internal static global::Ray.ActorHandle<global::Actors.Containers.OnlyInternalConstructors> Remote(global::Ray.Arg<int> x)", internalOnly, StringComparison.Ordinal);
        Assert.Contains("internal static global::Ray.ActorHandle<global::Actors.Containers.OnlyInternalConstructors> Remote(global::Ray.Arg<string> s)", internalOnly, StringComparison.Ordinal);
        Assert.DoesNotContain("Remote()", internalOnly, StringComparison.Ordinal);

        // An actor without public methods gets its factories and no extension class.
        Assert.DoesNotContain("ActorExtensions", run.Source("Actors.Containers.NoMethods.Actor.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void InheritanceHidesWhatItMust()
    {
        var run = AssertValid(new[] { Inheritance }, expectedFiles: 6);

        var circle = run.Source("Actors.Inheritance.Circle.Actor.g.cs");
        Assert.Contains(" Area(this", circle, StringComparison.Ordinal);
        Assert.Contains(" Describe(this", circle, StringComparison.Ordinal);
        Assert.Contains(" Dispose(this", circle, StringComparison.Ordinal);
        Assert.Contains(" DisposeAsync(this", circle, StringComparison.Ordinal);
        Assert.DoesNotContain("CompareTo", circle, StringComparison.Ordinal);
        Assert.DoesNotContain("ToString", circle, StringComparison.Ordinal);
        Assert.DoesNotContain("GetHashCode", circle, StringComparison.Ordinal);
        Assert.DoesNotContain("Equals", circle, StringComparison.Ordinal);

        var derived = run.Source("Actors.Inheritance.DerivedActor.Actor.g.cs");
        Assert.Contains("public new static global::Ray.ActorHandle<global::Actors.Inheritance.DerivedActor> Remote(global::Ray.Arg<int> x)", derived, StringComparison.Ordinal);
        Assert.Contains("public static global::Ray.ActorHandle<global::Actors.Inheritance.DerivedActor> Remote()", derived, StringComparison.Ordinal);
        Assert.Contains("public new static ActorConfigured WithOptions(", derived, StringComparison.Ordinal);
        Assert.Contains("public new readonly struct ActorConfigured", derived, StringComparison.Ordinal);
        Assert.Contains("internal new static class __RayActor", derived, StringComparison.Ordinal);

        var overTasks = run.Source("Actors.Inheritance.ActorOverTasks.Actor.g.cs");
        Assert.Contains("public new static global::Ray.ActorHandle<global::Actors.Inheritance.ActorOverTasks> Remote()", overTasks, StringComparison.Ordinal);
        Assert.Contains("internal static class __RayActor", overTasks, StringComparison.Ordinal);

        Assert.Contains("public new static class Remote", run.Source("Actors.Inheritance.TasksOverActor.Remote.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void DerivedActorInAnotherAssemblyHidesOnlyThePublicMembers()
    {
        var library = TestCompilation.CreateNamed("Library", """
            namespace Lib
            {
                [Remote]
                public partial class Base
                {
                    public int A() => 1;
                }
            }
            """);
        var libraryRun = GeneratorRun.Of(library).AssertCleanBuild();
        var libraryImage = new MemoryStream();
        Assert.True(libraryRun.Output.Emit(libraryImage).Success);

        var app = TestCompilation.CreateNamed("App", """
            namespace App
            {
                using Lib;

                [Remote]
                public partial class Derived : Lib.Base
                {
                    public int B() => 2;
                }

                public static class Use
                {
                    public static int Run() => Derived.Remote().B().Get() + Lib.Base.Remote().A().Get();
                }
            }
            """).AddReferences(Microsoft.CodeAnalysis.MetadataReference.CreateFromImage(libraryImage.ToArray()));
        var source = GeneratorRun.Of(app).AssertCleanBuild().Source("App.Derived.Actor.g.cs");
        Assert.Contains("public new static global::Ray.ActorHandle<global::App.Derived> Remote()", source, StringComparison.Ordinal);
        Assert.Contains("public new static ActorConfigured WithOptions(", source, StringComparison.Ordinal);
        Assert.Contains("public new readonly struct ActorConfigured", source, StringComparison.Ordinal);
        Assert.Contains("internal static class __RayActor", source, StringComparison.Ordinal);
    }

    [Fact]
    public void MembersThatAreAndAreNotCalledThroughTheHandle()
    {
        var run = AssertValid(new[] { Members }, expectedFiles: 4);

        var everything = run.Source("Actors.Members.Everything.Actor.g.cs");
        var stubs = Regex.Matches(everything, @"(@?\w+)\(\s*this\s").Select(match => match.Groups[1].Value).ToList();
        Assert.Equal(
            new[] { "Declared", "Defaults", "FireAndForget", "Future", "LaterAsync", "Map", "Maybe", "Names", "Raise", "Self", "Sum", "Tuple" },
            stubs.Order(StringComparer.Ordinal));

        var account = run.Source("Actors.Members.Account.Actor.g.cs");
        Assert.Contains(" Deposit(this", account, StringComparison.Ordinal);
        Assert.DoesNotContain("Deconstruct", account, StringComparison.Ordinal);
        Assert.DoesNotContain("Equals", account, StringComparison.Ordinal);
        Assert.Contains("Remote(global::Ray.Arg<string> Owner, global::Ray.Arg<decimal> Balance)", account, StringComparison.Ordinal);

        Assert.Contains("Remote(global::Ray.Arg<int> start)", run.Source("Actors.Members.Primary.Actor.g.cs"), StringComparison.Ordinal);

        var old = run.Source("Actors.Members.Old.Actor.g.cs");
        Assert.Contains("[global::System.Obsolete(\"Use Primary.\")]\n    [global::System.CodeDom.Compiler.GeneratedCode", old, StringComparison.Ordinal);
        Assert.Contains("[global::System.Obsolete(\"Gone soon.\")]", old, StringComparison.Ordinal);
    }

    [Fact]
    public void ArrayViewParametersTakeArraysAndTheirFutures()
    {
        var run = AssertValid(new[] { ArrayViews }, expectedFiles: 3);
        var image = run.Source("Actors.Views.Image.Actor.g.cs");
        Assert.Contains("Remote(global::Ray.Arg<global::Actors.Views.Pixel[]> pixels, global::Ray.Arg<int> width)", image, StringComparison.Ordinal);
        Assert.Contains("invocation.View<global::Actors.Views.Pixel>(0, \"pixels\")", image, StringComparison.Ordinal);
        Assert.Matches(@"Blend\(\s*this global::Ray.ActorHandle<global::Actors.Views.Image> handle,\s*global::Ray.Arg<float\[\]> first,\s*global::Ray.Arg<float\[\]> second\)", image);
        Assert.Contains(
            "public new static global::Ray.ActorHandle<global::Actors.Views.WeightedSampler> Remote(global::Ray.Arg<double[]> weights)",
            run.Source("Actors.Views.WeightedSampler.Actor.g.cs"),
            StringComparison.Ordinal);
    }

    [Fact]
    public void KeywordNamesAndShadowingUserTypes()
    {
        var run = AssertValid(new[] { Names }, expectedFiles: 3);
        var keywords = run.Source("Actors.event.class.Actor.g.cs");
        Assert.Contains("new(\"Actors.event.class\", \"TestAssembly\")", keywords, StringComparison.Ordinal);
        Assert.Contains("public static class classActorExtensions", keywords, StringComparison.Ordinal);
        Assert.Contains(" @checked(this", keywords, StringComparison.Ordinal);
    }

    [Fact]
    public void PartialActorSplitAcrossFiles()
    {
        var run = AssertValid(new[] { SplitFirstFile, SplitSecondFile }, expectedFiles: 1);
        var source = run.Source("Actors.Split.Split.Actor.g.cs");
        Assert.Contains(" Oblivious(", source, StringComparison.Ordinal);
        Assert.Contains(" Annotated(", source, StringComparison.Ordinal);
        Assert.Contains("Remote(global::Ray.Arg<string> name)", source, StringComparison.Ordinal);
    }

    [Fact]
    public void CodeThatUsesActorsCompiles() => AssertValid(new[] { Inheritance, Usage }, expectedFiles: 6);

    [Fact]
    public void AllTogetherWithTasks()
    {
        var sources = new[] { Containers, Inheritance, Members, ArrayViews, Names, SplitFirstFile, SplitSecondFile, Usage };
        AssertValid(sources, expectedFiles: 31);
    }

    [Fact]
    public void OutputIsDeterministic()
    {
        var sources = new[] { Containers, Inheritance, Members, ArrayViews, Names, SplitFirstFile, SplitSecondFile };
        var first = GeneratorRun.Of(sources);
        var second = GeneratorRun.Of(sources.Reverse().ToArray());
        Assert.Equal(
            first.Sources.Select(source => (source.HintName, source.SourceText.ToString())).OrderBy(pair => pair.HintName, StringComparer.Ordinal),
            second.Sources.Select(source => (source.HintName, source.SourceText.ToString())).OrderBy(pair => pair.HintName, StringComparer.Ordinal));
    }

    private static GeneratorRun AssertValid(string[] sources, int expectedFiles)
    {
        var run = GeneratorRun.Of(sources).AssertCleanBuild();
        Assert.True(
            expectedFiles == run.Sources.Length,
            $"Expected {expectedFiles} files, got: {string.Join(", ", run.Sources.Select(source => source.HintName))}");
        return run;
    }
}
