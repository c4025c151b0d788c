using Ray.Generators.Tests.Infrastructure;
using Ray.Infrastructure;
using Xunit;

namespace Ray.Generators.Tests;

/// <summary>
/// Runs the generated actor code: factories create actors in a fake runtime through the constructors the generated
/// module initializer registered, and the extension methods on the handle call the registered method invokers.
/// </summary>
[Collection(RayCoreCollection.Name)]
public sealed class ActorRunTests
{
    /// <summary>Actors and their driver, compiled into <see cref="RunTestAssembly"/> with the tasks of <see cref="RunTests"/>.</summary>
    internal const string UserCode = """
        using System.Linq;

        namespace RunTests
        {
            public readonly record struct Interval(long Start, long End);

            [Remote]
            public partial class Counter
            {
                private int _value;

                public Counter()
                {
                }

                public Counter(int start) => _value = start;

                public Counter(string label, int start = 3)
                {
                    Label = label;
                    _value = start;
                }

                public string Label { get; } = "none";

                public void Inc() => _value++;

                public int GetValue() => _value;

                public int Add(int x) => _value += x;

                public async Task<int> AddAsync(int x)
                {
                    await Task.Yield();
                    return _value += x;
                }

                public async Task ResetAsync()
                {
                    await Task.Yield();
                    _value = 0;
                }

                public async ValueTask<string> DescribeAsync(string prefix)
                {
                    await Task.Yield();
                    return prefix + _value;
                }

                public async Task<Interval> SpanAsync(long start, int length)
                {
                    await Task.Yield();
                    return new Interval(start, start + length);
                }

                public string GetLabel() => Label;

                public int Sum(params int[] values) => _value + values.Sum();

                public bool IsCancelled(CancellationToken ct) => ct.IsCancellationRequested;

                public int Fail(string message) => throw new InvalidOperationException(message);

                public override string ToString() => "Counter " + _value;
            }

            public partial class Outer
            {
                [Remote(MaxRestarts = 2, MaxConcurrency = 3)]
                internal partial class Nested
                {
                    public string TypeName() => GetType().FullName!;
                }
            }

            [Remote]
            public partial record Account(string Owner)
            {
                private decimal _balance;

                public decimal Deposit(decimal amount) => _balance += amount;
            }

            [Remote]
            public partial class Accumulator
            {
                private double _total;

                public Accumulator(ArrayView<double> initial)
                {
                    foreach (var x in initial)
                    {
                        _total += x;
                    }
                }

                public double Add(ArrayView<double> values, double scale)
                {
                    foreach (var x in values)
                    {
                        _total += scale * x;
                    }

                    return _total;
                }
            }

            public static partial class ActorWork
            {
                [Remote] public static int ReadCounter(ActorHandle<Counter> counter) => counter.GetValue().Get();

                [Remote] public static ActorHandle<Counter> MakeCounter(int start) => Counter.Remote(start);
            }

            public static class ActorDriver
            {
                public static int IncTwice()
                {
                    var counter = Counter.Remote();
                    counter.Inc();
                    counter.Inc();
                    return counter.GetValue().Get();
                }

                public static int StartAt() => Counter.Remote(10).GetValue().Get();

                public static string Labelled() => Counter.Remote("abc").GetLabel().Get();

                public static int LabelledWithStart() => Counter.Remote("abc", start: 8).GetValue().Get();

                public static int AddFuture()
                {
                    var counter = Counter.Remote(1);
                    ObjectRef<int> five = Work.Remote.Add(2, 3);
                    return counter.Add(five).Get();
                }

                public static int AsyncMethods()
                {
                    var counter = Counter.Remote(5);
                    counter.ResetAsync().Wait();
                    return counter.AddAsync(4).Get();
                }

                public static async Task<string> DescribeAwaited()
                {
                    var counter = Counter.Remote(7);
                    return await counter.DescribeAsync("value ");
                }

                public static Interval Span() => Counter.Remote().SpanAsync(5, 20).Get();

                public static int SumParams() => Counter.Remote(100).Sum(1, 2, 3).Get();

                public static bool Cancelled() => Counter.Remote().IsCancelled().Get();

                public static int Failing() => Counter.Remote().Fail("actor boom").Get();

                public static int WithOptions()
                    => Counter.WithOptions(new ActorOptions { Name = "c1", MaxRestarts = 1, DedicatedProcess = true, MaxConcurrency = 3 }).Remote(100).GetValue().Get();

                public static string Nested() => Outer.Nested.Remote().TypeName().Get();

                public static decimal Deposits()
                {
                    var account = Account.Remote("ada");
                    account.Deposit(1.5m);
                    return account.Deposit(2m).Get();
                }

                public static double Accumulate()
                {
                    var accumulator = Accumulator.Remote(new[] { 1.0, 2.0 });
                    accumulator.Add(new[] { 0.5 }, 4);
                    return accumulator.Add(Work.Remote.Range(3), 2).Get();
                }

                public static int HandleAsTaskArgument()
                {
                    var counter = Counter.Remote(41);
                    counter.Inc();
                    return ActorWork.Remote.ReadCounter(counter).Get();
                }

                public static int HandleAsTaskResult()
                {
                    var counter = ActorWork.Remote.MakeCounter(20).Get();
                    counter.Inc();
                    return counter.GetValue().Get();
                }
            }
        }
        """;

    private readonly RunTestAssembly _assembly;

    public ActorRunTests(RunTestAssembly assembly)
    {
        _assembly = assembly;
    }

    [Fact]
    public void ACounterCountsItsCalls()
    {
        using var core = new FakeRayCore();
        Assert.Equal(2, Call("IncTwice"));
        Assert.Single(core.ActorCreations);
        Assert.Equal(3, core.ActorCalls.Count);
        Assert.Single(core.Actors);
        Assert.All(core.ActorCalls, call => Assert.Equal(core.Actors.Keys.Single(), call.Actor));
    }

    [Fact]
    public void EachConstructorHasItsOwnFactory()
    {
        using var core = new FakeRayCore();
        Assert.Equal(10, Call("StartAt"));
        Assert.Equal("abc", Call("Labelled"));
        Assert.Equal(8, Call("LabelledWithStart"));
        Assert.Equal(2, Call("IncTwice"));
        Assert.Equal(
            new[] { "RunTests.Counter..ctor(int)", "RunTests.Counter..ctor(string, int)", "RunTests.Counter..ctor(string, int)", "RunTests.Counter..ctor()" },
            core.ActorCreations.Select(creation => creation.Constructor.Name));
        Assert.Equal(FunctionIdOf("RunTests.Counter..ctor(int)"), core.ActorCreations[0].Constructor.Id);
        Assert.All(core.ActorCreations, creation => Assert.Equal("RunTests.Counter", creation.ActorClass.Name));
    }

    [Fact]
    public void AFutureIsAnArgument()
    {
        using var core = new FakeRayCore();
        Assert.Equal(6, Call("AddFuture"));
        Assert.True(core.ActorCalls[^1].Arguments[0].IsReference);
    }

    [Fact]
    public void AsyncMethodsAreAwaitedInTheActor()
    {
        using var core = new FakeRayCore();
        Assert.Equal(4, Call("AsyncMethods"));
        Assert.Equal(new[] { "RunTests.Counter.ResetAsync()", "RunTests.Counter.AddAsync(int)" }, core.ActorCalls.Select(call => call.Method.Name));
    }

    [Fact]
    public async Task ValueTaskOfResultIsAwaitable()
    {
        using var core = new FakeRayCore();
        Assert.Equal("value 7", await (Task<string>)Call("DescribeAwaited")!);
    }

    [Fact]
    public void ATaskOfAUserTypeIsUnwrapped()
    {
        using var core = new FakeRayCore();
        var interval = Call("Span")!;
        Assert.Equal("RunTests.Interval", interval.GetType().FullName);
        Assert.Equal(5L, interval.GetType().GetProperty("Start")!.GetValue(interval));
        Assert.Equal(25L, interval.GetType().GetProperty("End")!.GetValue(interval));
        Assert.Equal("RunTests.Counter.SpanAsync(long, int)", core.ActorCalls[^1].Method.Name);
    }

    [Fact]
    public void ParamsArraysTravelAsOneArgument()
    {
        using var core = new FakeRayCore();
        Assert.Equal(106, Call("SumParams"));
        Assert.Single(core.ActorCalls[^1].Arguments);
    }

    [Fact]
    public void TheCallsCancellationTokenReachesTheMethod()
    {
        using var core = new FakeRayCore { TaskCancellationToken = new CancellationToken(canceled: true) };
        Assert.Equal(true, Call("Cancelled"));
        Assert.Empty(core.ActorCalls[^1].Arguments);
    }

    [Fact]
    public void ExceptionsPropagate()
    {
        using var core = new FakeRayCore();
        var error = Assert.Throws<RayTaskException>(() => Call("Failing"));
        Assert.Equal("System.InvalidOperationException", error.RemoteExceptionType);
        Assert.Equal("actor boom", error.RemoteMessage);
        Assert.Equal("RunTests.Counter.Fail(string)", error.FunctionName);
    }

    [Fact]
    public void WithOptionsPassesTheOptionsThrough()
    {
        using var core = new FakeRayCore();
        Assert.Equal(100, Call("WithOptions"));
        var options = core.ActorCreations[^1].Options;
        Assert.NotNull(options);
        Assert.Equal("c1", options.Name);
        Assert.Equal(1, options.MaxRestarts);
        Assert.True(options.DedicatedProcess);
        Assert.Equal(3, options.MaxConcurrency);

        Assert.Equal(10, Call("StartAt"));
        Assert.Null(core.ActorCreations[^1].Options);
    }

    [Fact]
    public void ANestedActorIsNamedLikeItsType()
    {
        using var core = new FakeRayCore();
        Assert.Equal("RunTests.Outer+Nested", Call("Nested"));
        var actorClass = core.ActorCreations[^1].ActorClass;
        Assert.Equal("RunTests.Outer.Nested", actorClass.Name);
        Assert.Equal("RunTests", actorClass.AssemblyName);
        Assert.Equal(2, actorClass.MaxRestarts);
        Assert.Equal(3, actorClass.MaxConcurrency);
        Assert.Equal(0, actorClass.NumCpus);
    }

    [Fact]
    public void ArrayViewParametersTakeArraysAndTheirFutures()
    {
        using var core = new FakeRayCore();
        Assert.Equal(17.0, Call("Accumulate"));
        Assert.False(core.ActorCreations[^1].Arguments[0].IsReference);
        Assert.False(core.ActorCalls[0].Arguments[0].IsReference);
        Assert.True(core.ActorCalls[^1].Arguments[0].IsReference);
        Assert.Equal("RunTests.Accumulator.Add(Ray.ArrayView<double>, double)", core.ActorCalls[^1].Method.Name);
    }

    [Fact]
    public void ARecordIsAnActor()
    {
        using var core = new FakeRayCore();
        Assert.Equal(3.5m, Call("Deposits"));
    }

    [Fact]
    public void AHandleIsATaskArgument()
    {
        using var core = new FakeRayCore();
        Assert.Equal(42, Call("HandleAsTaskArgument"));
    }

    [Fact]
    public void AHandleIsATaskResult()
    {
        using var core = new FakeRayCore();
        Assert.Equal(21, Call("HandleAsTaskResult"));
        Assert.Single(core.Actors);
    }

    [Fact]
    public void EveryMethodIsRegisteredWithItsClass()
    {
        var methods = ActorRegistry.AllMethods.Where(method => method.ActorClass.Name == "RunTests.Counter").Select(method => method.Descriptor.Name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(
            new[]
            {
                "RunTests.Counter.Add(int)",
                "RunTests.Counter.AddAsync(int)",
                "RunTests.Counter.DescribeAsync(string)",
                "RunTests.Counter.Fail(string)",
                "RunTests.Counter.GetLabel()",
                "RunTests.Counter.GetValue()",
                "RunTests.Counter.Inc()",
                "RunTests.Counter.IsCancelled(System.Threading.CancellationToken)",
                "RunTests.Counter.ResetAsync()",
                "RunTests.Counter.SpanAsync(long, int)",
                "RunTests.Counter.Sum(int[])",
            },
            methods);
        Assert.All(
            ActorRegistry.AllMethods.Where(method => method.ActorClass.Name == "RunTests.Counter"),
            method => Assert.Equal(FunctionIdOf(method.Descriptor.Name), method.Descriptor.Id));
    }

    private object? Call(string method) => _assembly.CallOn("RunTests.ActorDriver", method);

    private static ulong FunctionIdOf(string readableName) => Helpers.FunctionId.Compute(readableName);
}
