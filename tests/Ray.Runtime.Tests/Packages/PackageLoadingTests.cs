using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.Loader;
using Ray.Packages;
using Ray.Worker;
using Xunit;

namespace Ray.Runtime.Tests.Packages;

/// <summary>
/// A worker loads a job from the node's package cache exactly as from the driver's own directory: the cache directory
/// is an application directory. Two builds of one assembly load side by side, each from its own package, after the
/// directories they were packaged from are gone.
/// </summary>
public sealed class PackageLoadingTests : IDisposable
{
    private const string ProbeName = "RayGen.PackageProbe";

    private readonly TempDirectory _work = new();

    public void Dispose() => _work.Dispose();

    [Fact]
    public async Task Two_builds_of_one_assembly_load_side_by_side_from_their_cached_packages()
    {
        var store = new PackageStore(_work["store"]);
        var cache = new PackageCache(_work["cache"]);
        var builds = new[] { $"a{Guid.NewGuid():N}", $"b{Guid.NewGuid():N}" };
        var directories = new List<string>();
        foreach (var build in builds)
        {
            // The driver's side: package the build and store it.
            string id;
            using (var app = new TempDirectory())
            {
                app.Write(ProbeName + ".dll", ProbeAssembly(build));
                var package = AppPackage.Create(app.Path);
                id = package.Id;
                var zip = PackageFixtures.Zip(package);
                await using var writer = store.OpenWrite(id, zip.Length);
                await writer.WriteAsync(zip).AsTask().WaitAsync(PackageFixtures.Timeout);
                writer.Commit();
            }

            // The node's side, once the driver's directory is gone.
            directories.Add(await cache.EnsureAsync(id, async (destination, ct) =>
            {
                await using var zip = store.OpenRead(id);
                await zip.CopyToAsync(destination, ct);
            }).WaitAsync(PackageFixtures.Timeout));
        }

        Assert.NotEqual(directories[0], directories[1]);
        foreach (var directory in directories)
        {
            new JobAssemblyLoader(directory).EnsureLoaded(ProbeName);
        }

        // Each build's module initializer ran, from its own file in the cache.
        Assert.All(builds, build => Assert.Equal("loaded", AppContext.GetData($"{ProbeName}.{build}")));
        var locations = AssemblyLoadContext.All.SelectMany(c => c.Assemblies).Where(a => a.GetName().Name == ProbeName).Select(a => a.Location);
        Assert.Equal(directories.Select(d => Path.Combine(d, ProbeName + ".dll")).Order(), locations.Order());
    }

    /// <summary>
    /// A real assembly, built here so that it is in no test host's dependencies (those would be shared from the default
    /// context, not loaded from the package): its module initializer records that this build was loaded.
    /// </summary>
    private static byte[] ProbeAssembly(string build)
    {
        var assembly = new PersistedAssemblyBuilder(new AssemblyName(ProbeName) { Version = new Version(1, 0, 0, 0) }, typeof(object).Assembly);
        var module = assembly.DefineDynamicModule(ProbeName + ".dll");
        var initializer = module.DefineGlobalMethod(
            ".cctor",
            MethodAttributes.Private | MethodAttributes.Static | MethodAttributes.SpecialName | MethodAttributes.RTSpecialName,
            typeof(void),
            Type.EmptyTypes);
        var il = initializer.GetILGenerator();
        il.Emit(OpCodes.Ldstr, $"{ProbeName}.{build}");
        il.Emit(OpCodes.Ldstr, "loaded");
        il.Emit(OpCodes.Call, typeof(AppContext).GetMethod(nameof(AppContext.SetData), [typeof(string), typeof(object)])!);
        il.Emit(OpCodes.Ret);
        module.CreateGlobalFunctions();
        using var stream = new MemoryStream();
        assembly.Save(stream);
        return stream.ToArray();
    }
}
