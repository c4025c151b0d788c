using System.Diagnostics;
using System.IO.Compression;
using Xunit;

namespace Ray.Runtime.Tests;

/// <summary>
/// `dotnet pack src/RayGen` produces the one package a user references; a fresh project with only that
/// PackageReference builds (the generator runs from the package) and runs a task on worker processes.
/// </summary>
/// <remarks>
/// The package is packed from a copy of the sources, so that its build writes no <c>obj/</c> or <c>bin/</c> of the
/// repository while other tests build against them, and under a version of its own, restored into a packages folder
/// of its own: a package of the same version left in the machine's NuGet cache by an earlier run cannot stand in
/// for it. The app must then run exactly the runtime and worker binaries this package holds.
/// </remarks>
public sealed class PackageTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task One_package_brings_runtime_generator_and_worker()
    {
        var work = Directory.CreateTempSubdirectory("raygen-package-");
        try
        {
            var sources = Path.Combine(work.FullName, "sources");
            CopySources(RepositoryRoot(), sources);
            var version = $"0.0.1-test.{Guid.NewGuid():n}";
            var feed = Path.Combine(work.FullName, "feed");
            await RunAsync("dotnet", ["pack", Path.Combine(sources, "src", "RayGen"), "-c", "Release", "-o", feed, $"-p:Version={version}"], sources);
            var package = Path.Combine(feed, $"RayGen.{version}.nupkg");
            Dictionary<string, string> packed;
            using (var zip = ZipFile.OpenRead(package))
            {
                var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
                Assert.Contains("lib/net10.0/Ray.Runtime.dll", entries);
                Assert.Contains("lib/net10.0/Ray.Abstractions.dll", entries);
                Assert.Contains("analyzers/dotnet/cs/Ray.Generators.dll", entries);
                Assert.Contains("tools/worker/Ray.Worker.dll", entries);
                Assert.Contains("tools/worker/Ray.Worker.runtimeconfig.json", entries);
                Assert.Contains("buildTransitive/RayGen.targets", entries);
                packed = new[] { "lib/net10.0/Ray.Runtime.dll", "lib/net10.0/Ray.Abstractions.dll", "tools/worker/Ray.Worker.dll" }
                    .ToDictionary(entry => Path.GetFileName(entry), entry => Hash(zip.GetEntry(entry)!.Open()));
            }

            // The machine's packages folder only as a fallback for the package's dependencies: RayGen itself, under a
            // version no earlier run used, can only come from the feed into this run's own folder.
            var globalPackages = (await RunAsync("dotnet", ["nuget", "locals", "global-packages", "--list"], work.FullName)).Trim();
            globalPackages = globalPackages[(globalPackages.IndexOf(':') + 1)..].Trim();
            var packages = Path.Combine(work.FullName, "packages");
            var app = Path.Combine(work.FullName, "app");
            Directory.CreateDirectory(app);
            await File.WriteAllTextAsync(Path.Combine(app, "App.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <RestoreAdditionalProjectSources>{feed}</RestoreAdditionalProjectSources>
                    <RestorePackagesPath>{packages}</RestorePackagesPath>
                    <RestoreFallbackFolders>{globalPackages}</RestoreFallbackFolders>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="RayGen" Version="{version}" />
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
            Assert.True(Directory.Exists(Path.Combine(packages, "raygen", version)), $"RayGen {version} was not restored into {packages}.");
            var bin = Path.Combine(app, "bin", "Debug", "net10.0");
            foreach (var (file, hash) in packed)
            {
                await using var built = File.OpenRead(Path.Combine(bin, file));
                Assert.True(Hash(built) == hash, $"The app ran a {file} that is not the one in the package just packed.");
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>What packing needs: the sources under src/ (without build outputs) and the repository's MSBuild props.</summary>
    private static void CopySources(string root, string destination)
    {
        foreach (var file in new[] { "Directory.Build.props", "Directory.Packages.props" })
        {
            Directory.CreateDirectory(destination);
            File.Copy(Path.Combine(root, file), Path.Combine(destination, file));
        }

        var src = Path.Combine(root, "src");
        foreach (var file in Directory.EnumerateFiles(src, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            {
                continue;
            }

            var target = Path.Combine(destination, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static string Hash(Stream stream)
    {
        using (stream)
        {
            return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(stream));
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

        var output = await stdout.WaitAsync(cancellation.Token) + await stderr.WaitAsync(cancellation.Token);
        Assert.True(process.ExitCode == 0, $"'{file} {string.Join(' ', arguments)}' failed with exit code {process.ExitCode}:{Environment.NewLine}{output}");
        return output;
    }
}
