using System.Diagnostics;
using System.Text;
using Microsoft.CodeAnalysis;
using Ray.Analyzers.Tests.Infrastructure;
using Xunit;

namespace Ray.Analyzers.Tests;

/// <summary>
/// The promise in a real build: a throwaway project that imports <c>src/RayGen.props</c>, as a user building from
/// source does, with one mistake per rule; <c>dotnet build</c> reports every rule's id with its severity.
/// </summary>
public sealed class BuildTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    /// <summary>One mistake per rule; a rule that is defined but has no mistake here fails the test.</summary>
    private static readonly Dictionary<string, string> Mistakes = new()
    {
        ["RAY0001"] = "public static partial class Serialization { [Remote] public static int Count(List<Stream> streams) => streams.Count; }",
        ["RAY0002"] = "public static partial class ParameterKinds { [Remote] public static void Fill(Span<int> buffer) { } }",
        ["RAY0003"] = "public static class NotPartial { [Remote] public static int Add(int x) => x; }",
        ["RAY0004"] = "public static partial class Access { [Remote] private static int Hidden(int x) => x; }",
        ["RAY0005"] = "public static partial class Generic { [Remote] public static T Echo<T>(T value) => value; }",
        ["RAY0006"] = "public partial class Instance { [Remote] public int Add(int x) => x; }",
        ["RAY0007"] = "[Remote] public abstract partial class AbstractActor { }",
        ["RAY0008"] = "public static partial class Names { [Remote] public static int WithOptions(int x) => x; }",
        ["RAY0009"] = "[Remote] public partial class ActorWithTask { public int Inc() => 1; [Remote] public static int Square(int x) => x * x; }",
        ["RAY0010"] = "[Remote] public partial class Account { public int Id() => 1; }",
        ["RAY0011"] = """
            public static partial class Blocking
            {
                [Remote] public static int Leaf(int x) => x;
                [Remote] public static async Task<int> Sum(int x) { await Task.Yield(); return Remote.Leaf(x).Get(); }
            }
            """,
        ["RAY0012"] = """
            public static partial class Serial
            {
                [Remote] public static int Square(int x) => x * x;
                public static int Loop() { var total = 0; for (var i = 0; i < 3; i++) { total += Remote.Square(i).Get(); } return total; }
            }
            """,
        ["RAY0013"] = """
            public static partial class Copies
            {
                [Remote] public static double Score(double[] data, int seed) => seed;
                public static void Loop() { var data = new double[1000]; for (var i = 0; i < 3; i++) { Remote.Score(data, i); } }
            }
            """,
        ["RAY0014"] = "public static partial class Views { [Remote] public static ArrayView<double> Slice(ArrayView<double> data) => data; }",
        ["RAY0015"] = "[Remote(NumGpus = 1)] public partial class GpuActor { public int Step() => 1; }",
        ["RAY0016"] = "public static partial class Restarts { [Remote(MaxRestarts = 3)] public static int Once(int x) => x; }",
        ["RAY0017"] = "public static partial class NotAStream { [Remote(Streaming = true)] public static int Once(int x) => x; }",
    };

    [Fact(Timeout = 120_000)]
    public async Task EveryRuleFiresInARealBuild()
    {
        var rules = RuleCatalogTests.AllRules();
        var missing = rules.Where(rule => !Mistakes.ContainsKey(rule.Id)).Select(rule => rule.Id).ToList();
        Assert.True(missing.Count == 0, "Add a mistake for: " + string.Join(", ", missing));

        var directory = Directory.CreateTempSubdirectory("raygen-mistakes-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "Mistakes.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                  </PropertyGroup>
                  <Import Project="{RepositoryPaths.Combine("src/RayGen.props")}" />
                </Project>
                """);
            var source = new StringBuilder("using Ray;\n\nnamespace Mistakes;\n\n");
            foreach (var (id, code) in Mistakes.OrderBy(pair => pair.Key, StringComparer.Ordinal))
            {
                source.Append("// ").Append(id).Append('\n').Append(code).Append("\n\n");
            }

            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "Mistakes.cs"), source.ToString());

            // The referenced projects were built with the tests; building them again could race with other test runs.
            var output = await RunAsync(
                "dotnet",
                ["build", Path.Combine(directory.FullName, "Mistakes.csproj"), "-c", Configuration, "-p:BuildProjectReferences=false", "-nodeReuse:false", "-nologo"],
                directory.FullName);

            foreach (var rule in rules)
            {
                var severity = rule.DefaultSeverity == DiagnosticSeverity.Error ? "error" : "warning";
                Assert.True(
                    output.Contains($"{severity} {rule.Id}:", StringComparison.Ordinal),
                    $"The build did not report '{severity} {rule.Id}'. Output:\n{output}");
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task<string> RunAsync(string fileName, string[] arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(110));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return await stdout.WaitAsync(timeout.Token) + await stderr.WaitAsync(timeout.Token);
    }
}
