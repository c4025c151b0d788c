using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;

namespace Ray.Worker;

/// <summary>
/// Loads the job's code into a worker: the assembly that defines a remote function is loaded on first use
/// from the driver's application directory into the job's <see cref="AssemblyLoadContext"/>, and its module
/// initializer registers the functions it holds. Assemblies the worker itself runs on (Ray.*, MemoryPack,
/// the framework) are shared with the host, so types such as <see cref="ObjectRef{T}"/> are the same on both sides.
/// </summary>
internal sealed class JobAssemblyLoader
{
    private readonly string _appDirectory;
    private readonly JobLoadContext _context;
    private readonly ConcurrentDictionary<string, Assembly> _loaded = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public JobAssemblyLoader(string appDirectory)
    {
        _appDirectory = appDirectory;
        _context = new JobLoadContext(appDirectory);
    }

    /// <summary>Loads <paramref name="assemblyName"/> and runs its registrations, once.</summary>
    /// <exception cref="RayException">The assembly is not in the application directory or cannot be loaded.</exception>
    public void EnsureLoaded(string assemblyName)
    {
        if (_loaded.ContainsKey(assemblyName))
        {
            return;
        }

        lock (_gate)
        {
            if (_loaded.ContainsKey(assemblyName))
            {
                return;
            }

            var path = Path.Combine(_appDirectory, assemblyName + ".dll");
            if (!File.Exists(path))
            {
                throw new RayException(
                    $"The job's assembly '{assemblyName}' is not in the application directory '{_appDirectory}', so the worker cannot load its remote functions.");
            }

            Assembly assembly;
            try
            {
                assembly = _context.LoadAssembly(path);
                RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
            }
            catch (Exception e) when (e is BadImageFormatException or FileLoadException or TypeInitializationException)
            {
                throw new RayException($"The worker could not load the job's assembly '{path}': {e.Message}", e);
            }

            _loaded[assemblyName] = assembly;
        }
    }

    private sealed class JobLoadContext : AssemblyLoadContext
    {
        private static readonly HashSet<string> SharedAssemblies = ReadTrustedPlatformAssemblies();

        private readonly string _appDirectory;
        private readonly List<AssemblyDependencyResolver> _resolvers = [];

        public JobLoadContext(string appDirectory)
            : base("RayGen job")
        {
            _appDirectory = appDirectory;
        }

        public Assembly LoadAssembly(string path)
        {
            var name = AssemblyName.GetAssemblyName(path);
            if (name.Name is { } simpleName && SharedAssemblies.Contains(simpleName))
            {
                // The host already runs on this assembly (it is in the worker's own dependencies): share it.
                return Default.LoadFromAssemblyName(name);
            }

            lock (_resolvers)
            {
                if (File.Exists(Path.ChangeExtension(path, ".deps.json")))
                {
                    _resolvers.Add(new AssemblyDependencyResolver(path));
                }
            }

            return LoadFromAssemblyPath(path);
        }

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            if (assemblyName.Name is null || SharedAssemblies.Contains(assemblyName.Name))
            {
                return null;
            }

            lock (_resolvers)
            {
                foreach (var resolver in _resolvers)
                {
                    if (resolver.ResolveAssemblyToPath(assemblyName) is { } resolved)
                    {
                        return LoadFromAssemblyPath(resolved);
                    }
                }
            }

            var candidate = Path.Combine(_appDirectory, assemblyName.Name + ".dll");
            return File.Exists(candidate) ? LoadFromAssemblyPath(candidate) : null;
        }

        protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
        {
            lock (_resolvers)
            {
                foreach (var resolver in _resolvers)
                {
                    if (resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } resolved)
                    {
                        return LoadUnmanagedDllFromPath(resolved);
                    }
                }
            }

            return IntPtr.Zero;
        }

        private static HashSet<string> ReadTrustedPlatformAssemblies()
        {
            var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string list)
            {
                foreach (var path in list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                {
                    names.Add(Path.GetFileNameWithoutExtension(path));
                }
            }

            return names;
        }
    }
}
