using System.Diagnostics;
using System.IO.Compression;
using Xunit;

namespace Ray.Runtime.Tests;

/// <summary>
/// `dotnet pack src/RayGen` produces the one package a user references; a fresh project with only that
/// PackageReference builds (the generator runs from the package) and runs a task on worker processes, and a
/// project the package cannot serve fails its build with the reason.
/// </summary>
/// <remarks>
/// The package is packed from a copy of the sources, so that its build writes no <c>obj/</c> or <c>bin/</c> of the
/// repository while other tests build against them, and under a version of its own, restored into a packages folder
/// of its own: a package of the same version left in the machine's NuGet cache by an earlier run cannot stand in
/// for it. The app must then run exactly the runtime and worker binaries this package holds.
/// </remarks>
public sealed class PackageTests : IClassFixture<PackageTests.PackedRayGen>
{
    private const string UsesRay = """
        using Ray;
        await using var ray = await RayRuntime.InitAsync();
        """;

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    private readonly PackedRayGen _package;

    public PackageTests(PackedRayGen package) => _package = package;

    [Fact]
    public async Task One_package_brings_runtime_generator_and_worker()
    {
        Dictionary<string, string> packed;
        using (var zip = ZipFile.OpenRead(_package.Path))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
            Assert.Contains("lib/net10.0/Ray.Runtime.dll", entries);
            Assert.Contains("lib/net10.0/Ray.Abstractions.dll", entries);
            Assert.Contains("analyzers/dotnet/cs/Ray.Generators.dll", entries);
            Assert.Contains("tools/worker/Ray.Worker.dll", entries);
            Assert.Contains("tools/worker/Ray.Worker.runtimeconfig.json", entries);
            Assert.Contains("buildTransitive/RayGen.targets", entries);
            Assert.Contains("buildTransitive/RayGen.Requirements.targets", entries);
            Assert.Contains("README.md", entries);

            // Every rule's page, which its help link points at in the repository.
            var pages = Directory.GetFiles(Path.Combine(RepositoryRoot(), "docs", "diagnostics"), "*.md").Select(Path.GetFileName);
            Assert.All(pages, page => Assert.Contains($"docs/diagnostics/{page}", entries));

            using var nuspec = new StreamReader(zip.GetEntry("RayGen.nuspec")!.Open());
            Assert.Contains("<readme>README.md</readme>", await nuspec.ReadToEndAsync(), StringComparison.Ordinal);

            packed = new[] { "lib/net10.0/Ray.Runtime.dll", "lib/net10.0/Ray.Abstractions.dll", "tools/worker/Ray.Worker.dll" }
                .ToDictionary(entry => Path.GetFileName(entry), entry => Hash(zip.GetEntry(entry)!.Open()));
        }

        var app = await _package.CreateAppAsync("net10.0", """
            using Ray;
            await using var ray = await RayRuntime.InitAsync(new RayOptions { NumCpus = 1 });
            Console.WriteLine($"sum={await Work.Remote.Add(Work.Remote.Add(1, 2), 3)}");
            public static partial class Work
            {
                [Remote] public static int Add(int x, int y) => x + y;
            }
            """);
        var (exitCode, output) = await RunAsync("dotnet", ["run"], app);
        Assert.True(exitCode == 0, output);
        Assert.Contains("sum=6", output);
        Assert.True(Directory.Exists(_package.RestoredDirectory), $"RayGen {_package.Version} was not restored into {_package.RestoredDirectory}.");
        var bin = Path.Combine(app, "bin", "Debug", "net10.0");
        foreach (var (file, hash) in packed)
        {
            await using var built = File.OpenRead(Path.Combine(bin, file));
            Assert.True(Hash(built) == hash, $"The app ran a {file} that is not the one in the package just packed.");
        }
    }

    [Theory]
    [InlineData("net8.0")]
    [InlineData("net9.0")]
    public async Task An_older_target_framework_fails_the_build_saying_RayGen_needs_NET_10(string targetFramework)
    {
        var app = await _package.CreateAppAsync(targetFramework, UsesRay);
        var (exitCode, output) = await RunAsync("dotnet", ["build"], app);

        Assert.NotEqual(0, exitCode);
        Assert.Contains($"error RAYGEN001: RayGen needs .NET 10: this project targets {targetFramework}", output, StringComparison.Ordinal);

        // The reason, not what follows from it: nothing was compiled against a runtime that is not there.
        Assert.DoesNotContain("CS0246", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_publish_shape_the_workers_cannot_run_fails_the_build_with_the_reason()
    {
        var app = await _package.CreateAppAsync("net10.0", UsesRay);
        var (restored, restoreOutput) = await RunAsync("dotnet", ["restore"], app);
        Assert.True(restored == 0, restoreOutput);

        // Without a restore for each: a single-file or native AOT restore brings runtime packs that the check does not need.
        foreach (var (property, code) in new[] { ("PublishSingleFile", "RAYGEN002"), ("PublishAot", "RAYGEN003") })
        {
            var (exitCode, output) = await RunAsync("dotnet", ["build", "--no-restore", $"-p:{property}=true"], app);
            Assert.NotEqual(0, exitCode);
            Assert.Contains($"error {code}: RayGen does not support {property}: its worker processes", output, StringComparison.Ordinal);
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

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string[] arguments, string directory)
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
        return (process.ExitCode, $"'{file} {string.Join(' ', arguments)}' exited with {process.ExitCode}:{Environment.NewLine}{output}");
    }

    /// <summary>
    /// The package, packed once for these tests from a copy of the sources under a version of this run's own, and the
    /// projects that use it. They restore into a packages folder of their own, with the machine's one only as a
    /// fallback for the package's dependencies: RayGen itself, under a version no earlier run used, can only come from
    /// this run's feed.
    /// </summary>
    public sealed class PackedRayGen : IAsyncLifetime
    {
        private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("raygen-package-");
        private string _globalPackages = string.Empty;

        /// <summary>The .nupkg file.</summary>
        public string Path { get; private set; } = string.Empty;

        /// <summary>This run's version of the package.</summary>
        public string Version { get; } = $"0.0.1-test.{Guid.NewGuid():n}";

        /// <summary>Where the apps' restore puts the package.</summary>
        public string RestoredDirectory => System.IO.Path.Combine(Packages, "raygen", Version);

        private string Feed => System.IO.Path.Combine(_work.FullName, "feed");

        private string Packages => System.IO.Path.Combine(_work.FullName, "packages");

        public async Task InitializeAsync()
        {
            var sources = System.IO.Path.Combine(_work.FullName, "sources");
            CopySources(RepositoryRoot(), sources);
            var (exitCode, output) = await RunAsync(
                "dotnet", ["pack", System.IO.Path.Combine(sources, "src", "RayGen"), "-c", "Release", "-o", Feed, $"-p:Version={Version}"], sources);
            Assert.True(exitCode == 0, output);
            Path = System.IO.Path.Combine(Feed, $"RayGen.{Version}.nupkg");

            var (listed, locals) = await RunAsync("dotnet", ["nuget", "locals", "global-packages", "--list"], _work.FullName);
            Assert.True(listed == 0, locals);
            var line = locals.Split('\n').Single(l => l.StartsWith("global-packages:", StringComparison.Ordinal));
            _globalPackages = line[(line.IndexOf(':') + 1)..].Trim();
        }

        /// <summary>A console project in a folder of its own that references the package, with <paramref name="program"/> as Program.cs.</summary>
        public async Task<string> CreateAppAsync(string targetFramework, string program)
        {
            var app = Directory.CreateDirectory(System.IO.Path.Combine(_work.FullName, "app-" + Guid.NewGuid().ToString("N")[..8])).FullName;
            await File.WriteAllTextAsync(System.IO.Path.Combine(app, "App.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>{targetFramework}</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <RestoreAdditionalProjectSources>{Feed}</RestoreAdditionalProjectSources>
                    <RestorePackagesPath>{Packages}</RestorePackagesPath>
                    <RestoreFallbackFolders>{_globalPackages}</RestoreFallbackFolders>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="RayGen" Version="{Version}" />
                  </ItemGroup>
                </Project>
                """);
            await File.WriteAllTextAsync(System.IO.Path.Combine(app, "Program.cs"), program);
            return app;
        }

        public Task DisposeAsync()
        {
            _work.Delete(recursive: true);
            return Task.CompletedTask;
        }

        /// <summary>What packing needs: the sources under src/ (without build outputs), the rules' pages and the repository's MSBuild props.</summary>
        private static void CopySources(string root, string destination)
        {
            Directory.CreateDirectory(destination);
            foreach (var file in new[] { "Directory.Build.props", "Directory.Packages.props" })
            {
                File.Copy(System.IO.Path.Combine(root, file), System.IO.Path.Combine(destination, file));
            }

            foreach (var folder in new[] { "src", System.IO.Path.Combine("docs", "diagnostics") })
            {
                foreach (var file in Directory.EnumerateFiles(System.IO.Path.Combine(root, folder), "*", SearchOption.AllDirectories))
                {
                    var relative = System.IO.Path.GetRelativePath(root, file);
                    if (relative.Split(System.IO.Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
                    {
                        continue;
                    }

                    var target = System.IO.Path.Combine(destination, relative);
                    Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
                    File.Copy(file, target);
                }
            }
        }
    }
}
