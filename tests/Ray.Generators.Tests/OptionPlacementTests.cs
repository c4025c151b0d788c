using System.Globalization;
using System.Reflection;
using Ray.Generators.Tests.Infrastructure;
using Xunit;

namespace Ray.Generators.Tests;

/// <summary>
/// RAY0015 and RAY0016: <c>[Remote]</c> serves tasks and actors alike, so a value that the kind it marks never reads
/// compiles; it is an error at the value (marked <c>[| |]</c>), and what is generated stays as it would be without it.
/// </summary>
public sealed class OptionPlacementTests
{
    [Theory]
    [InlineData("NumGpus = 1", "NumGpus", "cannot reserve GPUs")]
    [InlineData("MaxRetries = 5", "MaxRetries", "set MaxTaskRetries")]
    [InlineData("RetryExceptions = true", "RetryExceptions", "is not retried")]
    public void RAY0015_TaskOnlyValueOnAnActorClass(string value, string name, string advice)
    {
        var diagnostic = DiagnosticTests.AssertSingleError($$"""
            namespace MyApp;

            [Remote(MaxRestarts = 2, [|{{value}}|])]
            public partial class Counter
            {
                public void Inc() { }
            }
            """, "RAY0015", out var run, expectSources: true);

        var message = diagnostic.GetMessage(CultureInfo.InvariantCulture);
        Assert.StartsWith($"'{name}' has no effect on actor class 'MyApp.Counter': it applies to tasks ([Remote] static methods) only; ", message, StringComparison.Ordinal);
        Assert.Contains(advice, message, StringComparison.Ordinal);
        Assert.Contains(" Inc(this", Assert.Single(run.Sources).SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void RAY0015_AnyValueOnAnActorMethod()
    {
        var (source, span) = Markup.Parse("""
            namespace MyApp;

            [Remote]
            public partial class Counter
            {
                [Remote([|NumCpus = 2|], NumGpus = 1)]
                public void Inc() { }
            }
            """);
        var run = GeneratorRun.Of(source);

        var diagnostics = run.Diagnostics.OrderBy(diagnostic => diagnostic.Location.SourceSpan.Start).ToList();
        Assert.Equal(["RAY0015", "RAY0015"], diagnostics.Select(diagnostic => diagnostic.Id));
        Assert.Equal(span, diagnostics[0].Location.SourceSpan);
        Assert.Contains(
            "'NumCpus' has no effect on actor method 'MyApp.Counter.Inc()': an actor's calls run inside the actor, with what the [Remote] on its class 'MyApp.Counter' sets; set it on the class instead",
            diagnostics[0].GetMessage(CultureInfo.InvariantCulture),
            StringComparison.Ordinal);
        Assert.Contains("cannot reserve GPUs", diagnostics[1].GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Contains(" Inc(this", Assert.Single(run.Sources).SourceText.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("MaxRestarts = 3", "MaxRestarts", "set MaxRetries instead")]
    [InlineData("MaxTaskRetries = 3", "MaxTaskRetries", "set MaxRetries instead")]
    [InlineData("MaxConcurrency = 4", "MaxConcurrency", "raise NumCpus")]
    [InlineData("DedicatedProcess = true", "DedicatedProcess", "make the code an actor class")]
    public void RAY0016_ActorOnlyValueOnATask(string value, string name, string advice)
    {
        var diagnostic = DiagnosticTests.AssertSingleError($$"""
            namespace MyApp;

            public static partial class Work
            {
                [Remote(NumCpus = 2, [|{{value}}|])]
                public static int Add(int x, int y) => x + y;
            }
            """, "RAY0016", out var run, expectSources: true);

        var message = diagnostic.GetMessage(CultureInfo.InvariantCulture);
        Assert.StartsWith($"'{name}' has no effect on remote method 'MyApp.Work.Add(int, int)': it applies to actors ([Remote] classes) only; ", message, StringComparison.Ordinal);
        Assert.Contains(advice, message, StringComparison.Ordinal);

        // The stub is still generated, so the calls compile and only the value is the error.
        Assert.Contains("Add(", Assert.Single(run.Sources).SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ValuesWhereTheyApplyAreNotReported()
    {
        GeneratorRun.Of("""
            public static partial class Work
            {
                [Remote(NumCpus = 2, NumGpus = 1, MaxRetries = 5, RetryExceptions = true)]
                public static int Add(int x, int y) => x + y;
            }

            [Remote(NumCpus = 1, MaxRestarts = 2, MaxTaskRetries = 1, MaxConcurrency = 4, DedicatedProcess = true)]
            public partial class Counter
            {
                [Remote]
                public void Inc() { }
            }
            """).AssertCleanBuild();
    }

    /// <summary>The settable properties of <see cref="RemoteAttribute"/>, each with a value that differs from its default.</summary>
    public static TheoryData<string> AttributeValues()
    {
        var data = new TheoryData<string>();
        foreach (var property in typeof(RemoteAttribute).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(property => property.CanWrite))
        {
            data.Add(property.PropertyType == typeof(bool) ? $"{property.Name} = true" : $"{property.Name} = 7");
        }

        return data;
    }

    /// <summary>
    /// A value on a task or an actor class is either read (what is generated changes) or reported: a property added to
    /// <see cref="RemoteAttribute"/> that one kind ignores cannot be ignored silently.
    /// </summary>
    [Theory]
    [MemberData(nameof(AttributeValues))]
    public void EveryValueIsReadOrReported(string value)
    {
        const string Task = """
            public static partial class Work
            {
                [Remote]
                public static int Add(int x, int y) => x + y;
            }
            """;
        const string Actor = """
            [Remote]
            public partial class Counter
            {
                public void Inc() { }
            }
            """;
        // A streaming value on a task that does not stream is RAY0017 rather than RAY0016.
        foreach (var (template, ids) in new[] { (Task, new[] { "RAY0016", "RAY0017" }), (Actor, new[] { "RAY0015" }) })
        {
            var id = ids[0];
            var without = GeneratorRun.Of(template);
            var with = GeneratorRun.Of(template.Replace("[Remote]", $"[Remote({value})]", StringComparison.Ordinal));
            var reported = with.Diagnostics.Any(diagnostic => ids.Contains(diagnostic.Id));
            var read = !with.Sources.Select(source => source.SourceText.ToString()).SequenceEqual(without.Sources.Select(source => source.SourceText.ToString()));
            Assert.True(reported ^ read, $"'{value}' on {(id == "RAY0016" ? "a task" : "an actor class")}: reported {reported}, read {read}.");
        }
    }
}
