using System.Globalization;
using Ray.Generators.Tests.Infrastructure;
using Xunit;

namespace Ray.Generators.Tests;

/// <summary>
/// Streaming generators: which shapes stream (an <c>IAsyncEnumerable&lt;T&gt;</c> result; an <c>IEnumerable&lt;T&gt;</c>
/// one only with <c>Streaming = true</c>), that a <c>[EnumeratorCancellation]</c> token is the runtime's, and RAY0017
/// for the streaming values of <c>[Remote]</c> where they cannot apply (the value is marked <c>[| |]</c>).
/// </summary>
public sealed class StreamingTests
{
    [Fact]
    public void An_async_enumerable_streams_and_its_enumerator_cancellation_token_is_not_in_the_stub()
    {
        var run = GeneratorRun.Of("""
            using System.Runtime.CompilerServices;

            public static partial class Work
            {
                [Remote]
                public static async IAsyncEnumerable<int> Count(int n, [EnumeratorCancellation] CancellationToken ct)
                {
                    for (var i = 0; i < n; i++)
                    {
                        await Task.Delay(1, ct);
                        yield return i;
                    }
                }
            }

            public static class Caller
            {
                public static ObjectRefStream<int> Start() => Work.Remote.Count(3);
            }
            """).AssertCleanBuild();

        var source = Assert.Single(run.Sources).SourceText.ToString();
        Assert.Contains("global::Ray.ObjectRefStream<int> Count(global::Ray.Arg<int> n)", source, StringComparison.Ordinal);
        Assert.Contains("invocation.CancellationToken", source, StringComparison.Ordinal);
    }

    [Fact]
    public void An_enumerable_is_one_value_unless_it_is_marked_streaming()
    {
        var run = GeneratorRun.Of("""
            public static partial class Work
            {
                [Remote]
                public static IEnumerable<int> AsList(int n) => new[] { n };

                [Remote(Streaming = true)]
                public static IEnumerable<int> AsStream(int n) => new[] { n };
            }

            public static class Caller
            {
                public static ObjectRef<IEnumerable<int>> List() => Work.Remote.AsList(1);

                public static ObjectRefStream<int> Stream() => Work.Remote.AsStream(1);
            }
            """).AssertCleanBuild();

        var source = Assert.Single(run.Sources).SourceText.ToString();
        Assert.Contains("TaskSubmitter.Submit<global::System.Collections.Generic.IEnumerable<int>>", source, StringComparison.Ordinal);
        Assert.Contains("TaskSubmitter.SubmitStream<int>", source, StringComparison.Ordinal);
    }

    [Fact]
    public void Streaming_values_on_an_actor_method_are_read_not_reported()
    {
        var run = GeneratorRun.Of("""
            [Remote]
            public partial class Feed
            {
                [Remote(Streaming = true, GeneratorBackpressureNumObjects = 3)]
                public IEnumerable<string> Items() => new[] { "a" };
            }

            public static class Caller
            {
                public static ObjectRefStream<string> Read(ActorHandle<Feed> feed) => feed.Items();
            }
            """).AssertCleanBuild();

        Assert.Contains("{ Streaming = true, GeneratorBackpressureNumObjects = 3 }", Assert.Single(run.Sources).SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0017_Streaming_on_a_method_whose_result_is_not_a_sequence()
    {
        var diagnostic = DiagnosticTests.AssertSingleError("""
            namespace MyApp;

            public static partial class Work
            {
                [Remote([|Streaming = true|])]
                public static int Count(int n) => n;
            }
            """, "RAY0017", out var run, expectSources: true);

        Assert.Equal(
            "'Streaming' on remote method 'MyApp.Work.Count(int)' cannot apply: its result 'int' is not an IEnumerable<T> or IAsyncEnumerable<T>; return one of them to stream its items, or remove Streaming",
            diagnostic.GetMessage(CultureInfo.InvariantCulture));
        Assert.Contains("ObjectRef<int> Count(", Assert.Single(run.Sources).SourceText.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("public static int Count(int n) => n;")]
    [InlineData("public static IEnumerable<int> Count(int n) => new[] { n };")]
    public void RAY0017_Backpressure_on_a_method_that_does_not_stream(string method)
    {
        var diagnostic = DiagnosticTests.AssertSingleError($$"""
            namespace MyApp;

            public static partial class Work
            {
                [Remote([|GeneratorBackpressureNumObjects = 2|])]
                {{method}}
            }
            """, "RAY0017", out _, expectSources: true);

        Assert.StartsWith("'GeneratorBackpressureNumObjects' on remote method 'MyApp.Work.Count(int)' has no effect: the method returns one value", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void RAY0017_Backpressure_out_of_range(int value)
    {
        var diagnostic = DiagnosticTests.AssertSingleError($$"""
            namespace MyApp;

            [Remote]
            public partial class Feed
            {
                [Remote([|GeneratorBackpressureNumObjects = {{value}}|])]
                public async IAsyncEnumerable<int> Items()
                {
                    await Task.Yield();
                    yield return 1;
                }
            }
            """, "RAY0017", out _, expectSources: true);

        Assert.Equal(
            $"'GeneratorBackpressureNumObjects = {value}' on actor method 'MyApp.Feed.Items()' is out of range: it is how many of the producer's items may wait to be read before it pauses; use 1 or more, or -1 for no limit",
            diagnostic.GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public void RAY0015_Streaming_values_on_an_actor_class()
    {
        var diagnostic = DiagnosticTests.AssertSingleError("""
            namespace MyApp;

            [Remote([|GeneratorBackpressureNumObjects = 2|])]
            public partial class Feed
            {
                public int Next() => 1;
            }
            """, "RAY0015", out _, expectSources: true);

        Assert.Equal(
            "'GeneratorBackpressureNumObjects' has no effect on actor class 'MyApp.Feed': it applies to streaming methods, not to a class; set it on the [Remote] of the actor's streaming method",
            diagnostic.GetMessage(CultureInfo.InvariantCulture));
    }
}
