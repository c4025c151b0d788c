using System.Reflection;
using System.Runtime.CompilerServices;
using Ray.Generators.Tests.Infrastructure;
using Ray.Infrastructure;
using Xunit;

namespace Ray.Generators.Tests;

/// <summary>Tests that install <see cref="RayCore"/>, which allows one runtime per process, so they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RayCoreCollection : ICollectionFixture<RunTestAssembly>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "RayCore";
}

/// <summary>
/// User code and a driver compiled with the generator's output into one assembly, loaded once per test run:
/// the registry is process-wide, so every test shares one copy of each function.
/// </summary>
public sealed class RunTestAssembly
{
    private const string UserCode = """
        using System.Globalization;
        using System.Linq;

        namespace RunTests
        {
            public enum Mode { Fast, Slow = 5 }

            public static partial class Work
            {
                public static int Counter;

                [Remote] public static int Add(int x, int y) => x + y;
                [Remote] public static string Add(string x, string y) => x + "+" + y;
                [Remote] public static int Add(int x, int y, int z) => 100 + x + y + z;

                [Remote]
                public static string Describe(int a = 7, string s = "hi", string? n = null, Mode mode = Mode.Slow, bool flag = true, double d = 2.5)
                    => string.Join("|", a, s, n ?? "null", mode, flag, d.ToString(CultureInfo.InvariantCulture));

                [Remote] public static int Sum(params int[] values) => values.Sum();
                [Remote] public static string Join(string separator, params string[] parts) => string.Join(separator, parts);

                [Remote]
                public static async Task<int> MultiplyAsync(int x, int y)
                {
                    await Task.Yield();
                    return x * y;
                }

                [Remote]
                public static async ValueTask<string> EchoAsync(string text)
                {
                    await Task.Yield();
                    return text;
                }

                [Remote] public static void Increment(int by) => Interlocked.Add(ref Counter, by);

                [Remote]
                public static async Task IncrementAsync(int by)
                {
                    await Task.Yield();
                    Interlocked.Add(ref Counter, by);
                }

                [Remote] public static bool IsCancelled(int x, CancellationToken ct) => ct.IsCancellationRequested;

                [Remote] public static int Fail(string message) => throw new InvalidOperationException(message);

                [Remote]
                public static async Task<int> FailAsync(string message)
                {
                    await Task.Yield();
                    throw new ArgumentException(message);
                }

                [Remote(NumCpus = 2, NumGpus = 0.5, MaxRetries = 5, RetryExceptions = true)]
                public static int Heavy(int x) => x;

                [Remote]
                public static List<Dictionary<string, int[]>> Reverse(List<Dictionary<string, int[]>> parts)
                {
                    parts.Reverse();
                    return parts;
                }

                [Remote] public static string? Maybe(string? text) => text;

                public static ArrayView<double>? LastView;

                [Remote] public static double[] Range(int count) => Enumerable.Range(1, count).Select(i => (double)i).ToArray();

                [Remote]
                public static double Total(string label, ArrayView<double> data, CancellationToken ct, double scale)
                {
                    LastView = data;
                    double sum = 0;
                    foreach (var x in data)
                    {
                        sum += x;
                    }

                    return scale * sum + data.Length;
                }
            }

            public static class Driver
            {
                public static int AddValues() => Work.Remote.Add(1, 2).Get();

                public static int AddFutures()
                {
                    ObjectRef<int> a = Work.Remote.Add(1, 2);
                    return Work.Remote.Add(a, Work.Remote.Add(a, 10)).Get();
                }

                public static string AddStrings() => Work.Remote.Add("a", "b").Get();

                public static int AddThree() => Work.Remote.Add(1, 2, 3).Get();

                public static string DescribeDefaults() => Work.Remote.Describe().Get();

                public static string DescribeSome() => Work.Remote.Describe(a: 1, n: "x", mode: Mode.Fast, d: Work.Remote.MultiplyAsync(3, 1).Get()).Get();

                public static string DescribeWithFuture() => Work.Remote.Describe(s: Work.Remote.EchoAsync("future")).Get();

                public static int SumParams() => Work.Remote.Sum(1, 2, 3, 4).Get();

                public static int SumEmpty() => Work.Remote.Sum().Get();

                public static int SumArray() => Work.Remote.Sum(new[] { 5, 6 }).Get();

                public static string JoinParams() => Work.Remote.Join("-", "a", "b", "c").Get();

                public static int Multiply() => Work.Remote.MultiplyAsync(6, 7).Get();

                public static async Task<string> EchoAwaited() => await Work.Remote.EchoAsync("hey");

                public static int Increments()
                {
                    Work.Counter = 0;
                    Work.Remote.Increment(5).Wait();
                    Work.Remote.IncrementAsync(2).Wait();
                    return Work.Counter;
                }

                public static bool Cancelled() => Work.Remote.IsCancelled(1).Get();

                public static int Failing() => Work.Remote.Fail("boom").Get();

                public static int FailingAsync() => Work.Remote.FailAsync("async boom").Get();

                public static int FailingDependency() => Work.Remote.Add(Work.Remote.Fail("first"), 1).Get();

                public static int WithOptions() => Work.Remote.WithOptions(new TaskOptions { NumCpus = 3, Name = "custom" }).Add(2, 2).Get();

                public static int Heavy() => Work.Remote.Heavy(1).Get();

                public static string Reverse()
                {
                    var parts = new List<Dictionary<string, int[]>>
                    {
                        new() { ["a"] = new[] { 1 } },
                        new() { ["b"] = new[] { 2, 3 } },
                    };
                    var result = Work.Remote.Reverse(parts).Get();
                    return string.Join(";", result.Select(part => string.Join(",", part.Select(pair => pair.Key + "=" + string.Join("/", pair.Value)))));
                }

                // A bare 'null' fits both of Arg<T>'s conversions (from T and from ObjectRef<T>), so it needs its type.
                public static string MaybeNull() => Work.Remote.Maybe((string?)null).Get() ?? "was null";

                public static double TotalOfArray() => Work.Remote.Total("array", new[] { 1.5, 2.5, 4 }, 10).Get();

                public static double TotalOfFuture()
                {
                    ObjectRef<double[]> data = Work.Remote.Range(4);
                    return Work.Remote.Total("future", data, 2).Get();
                }

                public static bool ViewIsClosedAfterTheCall()
                {
                    Work.Remote.Total("closed", new[] { 1.0 }, 1).Wait();
                    return Work.LastView!.IsDisposed;
                }
            }
        }
        """;

    public RunTestAssembly()
    {
        var run = GeneratorRun.Of(TestCompilation.CreateNamed("RunTests", UserCode, ActorRunTests.UserCode)).AssertCleanBuild();
        using var image = new MemoryStream();
        var emitted = run.Output.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        Assembly = Assembly.Load(image.ToArray());

        // Workers rely on the module initializer having registered every function before the first task arrives.
        RuntimeHelpers.RunModuleConstructor(Assembly.ManifestModule.ModuleHandle);
    }

    /// <summary>The loaded assembly.</summary>
    public Assembly Assembly { get; }

    /// <summary>Calls a static method of <c>RunTests.Driver</c>, unwrapping the exception it throws.</summary>
    public object? Call(string method) => CallOn("RunTests.Driver", method);

    /// <summary>Calls a static method of the type named <paramref name="typeName"/>, unwrapping the exception it throws.</summary>
    public object? CallOn(string typeName, string method)
    {
        try
        {
            return Assembly.GetType(typeName, throwOnError: true)!.GetMethod(method)!.Invoke(null, null);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }
}

/// <summary>
/// Runs the generated code: stubs submit tasks to a fake runtime that finds each function in the registry
/// filled by the generated module initializer, and runs its generated invoker.
/// </summary>
[Collection(RayCoreCollection.Name)]
public sealed class RunTests
{
    private readonly RunTestAssembly _assembly;

    public RunTests(RunTestAssembly assembly)
    {
        _assembly = assembly;
    }

    [Fact]
    public void AddsValues() => AssertResult(3, "AddValues");

    [Fact]
    public void FuturesAreArguments()
    {
        using var core = new FakeRayCore();
        Assert.Equal(16, _assembly.Call("AddFutures"));
        Assert.Equal(3, core.Submissions.Count);
        Assert.True(core.Submissions[2].Arguments[0].IsReference);
        Assert.True(core.Submissions[2].Arguments[1].IsReference);
    }

    [Fact]
    public void OverloadsPickTheirOwnFunction()
    {
        using var core = new FakeRayCore();
        Assert.Equal("a+b", _assembly.Call("AddStrings"));
        Assert.Equal(106, _assembly.Call("AddThree"));
        Assert.Equal(3, _assembly.Call("AddValues"));
        Assert.Equal(
            new[] { "RunTests.Work.Add(string, string)", "RunTests.Work.Add(int, int, int)", "RunTests.Work.Add(int, int)" },
            core.Submissions.Select(submission => submission.Function.Name));
        Assert.Equal(3, core.Submissions.Select(submission => submission.Function.Id).Distinct().Count());
    }

    [Fact]
    public void DefaultValuesApplyWhenArgumentsAreLeftOut() => AssertResult("7|hi|null|Slow|True|2.5", "DescribeDefaults");

    [Fact]
    public void NamedAndOptionalArgumentsMix() => AssertResult("1|hi|x|Fast|True|3", "DescribeSome");

    [Fact]
    public void AnOptionalParameterTakesAFuture() => AssertResult("7|future|null|Slow|True|2.5", "DescribeWithFuture");

    [Fact]
    public void ParamsArraysTravelAsOneArgument()
    {
        using var core = new FakeRayCore();
        Assert.Equal(10, _assembly.Call("SumParams"));
        Assert.Single(core.Submissions[^1].Arguments);
        Assert.Equal(0, _assembly.Call("SumEmpty"));
        Assert.Equal(11, _assembly.Call("SumArray"));
        Assert.Equal("a-b-c", _assembly.Call("JoinParams"));
        Assert.Equal(2, core.Submissions[^1].Arguments.Length);
    }

    [Fact]
    public void TaskOfResultIsUnwrapped() => AssertResult(42, "Multiply");

    [Fact]
    public async Task ValueTaskOfResultIsAwaitable()
    {
        using var core = new FakeRayCore();
        var result = await (Task<string>)_assembly.Call("EchoAwaited")!;
        Assert.Equal("hey", result);
    }

    [Fact]
    public void VoidAndTaskMethodsRun() => AssertResult(7, "Increments");

    [Fact]
    public void TheTasksCancellationTokenReachesTheMethod()
    {
        using var core = new FakeRayCore { TaskCancellationToken = new CancellationToken(canceled: true) };
        Assert.Equal(true, _assembly.Call("Cancelled"));

        // The token is not an argument: the stub sends only 'x'.
        Assert.Single(core.Submissions[^1].Arguments);
        core.TaskCancellationToken = CancellationToken.None;
        Assert.Equal(false, _assembly.Call("Cancelled"));
    }

    [Fact]
    public void ExceptionsPropagate()
    {
        using var core = new FakeRayCore();
        var error = Assert.Throws<RayTaskException>(() => _assembly.Call("Failing"));
        Assert.Equal("System.InvalidOperationException", error.RemoteExceptionType);
        Assert.Equal("boom", error.RemoteMessage);
        Assert.Equal("RunTests.Work.Fail(string)", error.FunctionName);
    }

    [Fact]
    public void ExceptionsOfAsyncMethodsPropagate()
    {
        using var core = new FakeRayCore();
        var error = Assert.Throws<RayTaskException>(() => _assembly.Call("FailingAsync"));
        Assert.Equal("System.ArgumentException", error.RemoteExceptionType);
        Assert.Equal("async boom", error.RemoteMessage);
    }

    [Fact]
    public void AFailedDependencyFailsTheTaskThatNeedsIt()
    {
        using var core = new FakeRayCore();
        var error = Assert.Throws<RayTaskException>(() => _assembly.Call("FailingDependency"));
        Assert.Equal("first", error.RemoteMessage);
    }

    [Fact]
    public void PerCallOptionsReachTheRuntime()
    {
        using var core = new FakeRayCore();
        Assert.Equal(4, _assembly.Call("WithOptions"));
        var options = core.Submissions[^1].Options;
        Assert.NotNull(options);
        Assert.Equal(3, options.NumCpus);
        Assert.Equal("custom", options.Name);

        Assert.Equal(3, _assembly.Call("AddValues"));
        Assert.Null(core.Submissions[^1].Options);
    }

    [Fact]
    public void AttributeOptionsAreInTheDescriptor()
    {
        using var core = new FakeRayCore();
        Assert.Equal(1, _assembly.Call("Heavy"));
        var descriptor = core.Submissions[^1].Function;
        Assert.Equal(2, descriptor.NumCpus);
        Assert.Equal(0.5, descriptor.NumGpus);
        Assert.Equal(5, descriptor.MaxRetries);
        Assert.True(descriptor.RetryExceptions);
        Assert.Equal("RunTests", descriptor.AssemblyName);

        Assert.Equal(3, _assembly.Call("AddValues"));
        var plain = core.Submissions[^1].Function;
        Assert.Equal(1, plain.NumCpus);
        Assert.Equal(TaskOptions.DefaultMaxRetries, plain.MaxRetries);
    }

    [Fact]
    public void TheStubSubmitsTheRegisteredDescriptor()
    {
        using var core = new FakeRayCore();
        _assembly.Call("AddValues");
        var submitted = core.Submissions[^1].Function;
        Assert.True(RemoteFunctionRegistry.TryGet(submitted.Id, out var registration));
        Assert.Same(submitted, registration.Descriptor);
        Assert.Equal(FunctionIdOf("RunTests.Work.Add(int, int)"), submitted.Id);
    }

    [Fact]
    public void NestedCollectionsRoundTrip() => AssertResult("b=2/3;a=1", "Reverse");

    [Fact]
    public void NullArgumentsRoundTrip() => AssertResult("was null", "MaybeNull");

    [Fact]
    public void AnArrayViewParameterTakesAnArray()
    {
        using var core = new FakeRayCore();
        Assert.Equal(83.0, _assembly.Call("TotalOfArray"));
        var arguments = core.Submissions[^1].Arguments;
        Assert.Equal(3, arguments.Length);
        Assert.False(arguments[1].IsReference);
        Assert.Equal("RunTests.Work.Total(string, Ray.ArrayView<double>, System.Threading.CancellationToken, double)", core.Submissions[^1].Function.Name);
    }

    [Fact]
    public void AnArrayViewParameterTakesTheFutureOfAnArray()
    {
        using var core = new FakeRayCore();
        Assert.Equal(24.0, _assembly.Call("TotalOfFuture"));
        Assert.True(core.Submissions[^1].Arguments[1].IsReference);
    }

    [Fact]
    public void TheViewIsClosedWhenTheCallReturns() => AssertResult(true, "ViewIsClosedAfterTheCall");

    private void AssertResult(object expected, string driverMethod)
    {
        using var core = new FakeRayCore();
        Assert.Equal(expected, _assembly.Call(driverMethod));
    }

    private static ulong FunctionIdOf(string readableName) => Helpers.FunctionId.Compute(readableName);
}
