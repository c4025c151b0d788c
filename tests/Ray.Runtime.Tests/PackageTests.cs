using System.Diagnostics;
using System.IO.Compression;
using Xunit;

namespace Ray.Runtime.Tests;

/// <summary>
/// `dotnet pack src/RayGen` produces the one package a user references; a fresh project with only that
/// PackageReference builds (the generator runs from the package) and runs a task on worker processes.
/// </summary>
public sealed class PackageTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task One_package_brings_runtime_generator_and_worker()
    {
        var root = RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("raygen-package-");
        try
        {
            var feed = Path.Combine(work.FullName, "feed");
            await RunAsync("dotnet", ["pack", Path.Combine(root, "src", "RayGen"), "-c", "Release", "-o", feed, "-p:Version=0.0.1-test"], root);
            var package = Path.Combine(feed, "RayGen.0.0.1-test.nupkg");
            using (var zip = ZipFile.OpenRead(package))
            {
                var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
                Assert.Contains("lib/net10.0/Ray.Runtime.dll", entries);
                Assert.Contains("lib/net10.0/Ray.Abstractions.dll", entries);
                Assert.Contains("analyzers/dotnet/cs/Ray.Generators.dll", entries);
                Assert.Contains("tools/worker/Ray.Worker.dll", entries);
                Assert.Contains("tools/worker/Ray.Worker.runtimeconfig.json", entries);
                Assert.Contains("buildTransitive/RayGen.targets", entries);
            }

            var app = Path.Combine(work.FullName, "app");
            Directory.CreateDirectory(app);
            await File.WriteAllTextAsync(Path.Combine(app, "App.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <RestoreAdditionalProjectSources>{feed}</RestoreAdditionalProjectSources>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="RayGen" Version="0.0.1-test" />
                  </ItemGroup>
                </Project>
                """);
            await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
                using Ray;
                await using var ray = await RayRuntime.InitAsync(new RayOptions { NumCpus = 1 });
                Console.WriteLine($"sum={await Work.Remote.Add(Work.Remote.Add(1, 2), 3)}");
                public static partial class Work
                {
                    [Remote] public static int Add(int x, int y) => x + y;
                }
                """);
            var output = await RunAsync("dotnet", ["run"], app);
            Assert.Contains("sum=6", output);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "RayGen.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("RayGen.sln not found above the test's directory.");
    }

    private static async Task<string> RunAsync(string file, string[] arguments, string directory)
    {
        var startInfo = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // The outer `dotnet test` sets MSBuild variables that must not leak into the nested builds.
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "DOTNET_HOST_PATH" })
        {
            startInfo.Environment.Remove(name);
        }

        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancellation = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"'{file} {string.Join(' ', arguments)}' failed with exit code {process.ExitCode}:{Environment.NewLine}{output}");
        return output;
    }
}
