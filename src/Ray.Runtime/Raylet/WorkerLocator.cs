using System.Globalization;
using System.Runtime.InteropServices;

namespace Ray.Raylet;

/// <summary>Finds the Ray.Worker binary and the dotnet host that runs it.</summary>
internal static class WorkerLocator
{
    public const string WorkerFileName = "Ray.Worker.dll";

    /// <summary>Checks that the worker binary exists and finds the host that runs it.</summary>
    /// <exception cref="RayException">The binary or its runtime configuration is missing.</exception>
    public static WorkerBinary Resolve(Hosting.NodeOptions options)
    {
        var workerPath = Path.GetFullPath(options.WorkerPath ?? Path.Combine(AppContext.BaseDirectory, WorkerFileName));
        if (!File.Exists(workerPath))
        {
            throw new RayException(
                $"The RayGen worker binary '{workerPath}' does not exist. Reference RayGen through its package or through " +
                "RayGen.props (both copy Ray.Worker next to your application), or point RayOptions.WorkerPath at Ray.Worker.dll.");
        }

        var runtimeConfig = Path.ChangeExtension(workerPath, ".runtimeconfig.json");
        if (!File.Exists(runtimeConfig))
        {
            throw new RayException($"The RayGen worker binary '{workerPath}' has no '{Path.GetFileName(runtimeConfig)}' beside it, so it cannot be started.");
        }

        // No DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS: the worker's read loop runs short tasks, and a task that
        // blocks in a get must not hold the thread that completes every socket read of the process.
        var environment = new Dictionary<string, string>();
        foreach (var (name, value) in options.WorkerEnvironment ?? new Dictionary<string, string>())
        {
            environment[name] = value;
        }

        return new WorkerBinary(FindDotnetHost(), workerPath, environment);
    }

    private static string FindDotnetHost()
    {
        var executable = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "dotnet.exe" : "dotnet";
        if (Environment.ProcessPath is { } current && Path.GetFileName(current) == executable)
        {
            return current;
        }

        foreach (var variable in new[] { "DOTNET_HOST_PATH" })
        {
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } path && File.Exists(path))
            {
                return path;
            }
        }

        foreach (var variable in new[] { "DOTNET_ROOT", "DOTNET_ROOT_X64" })
        {
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } root && File.Exists(Path.Combine(root, executable)))
            {
                return Path.Combine(root, executable);
            }
        }

        // The shared runtime lives in <root>/shared/Microsoft.NETCore.App/<version>/.
        var runtimeDirectory = RuntimeEnvironment.GetRuntimeDirectory();
        var candidate = Path.GetFullPath(Path.Combine(runtimeDirectory, "..", "..", "..", executable));
        return File.Exists(candidate) ? candidate : executable;
    }
}

/// <summary>The worker binary of a node and the host that runs it; <see cref="ForJob"/> makes the launch of one job's workers.</summary>
internal sealed record WorkerBinary(string HostPath, string WorkerPath, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>
    /// How to start a worker that serves the raylet at <paramref name="socketPath"/> and loads the job from
    /// <paramref name="appDirectory"/>; the cluster token reaches it in its environment, which only its user can read.
    /// </summary>
    public WorkerLaunch ForJob(string appDirectory, string socketPath, string authToken) => new(
        HostPath,
        [WorkerPath, "--parent-pid", System.Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "--app-directory", appDirectory, "--raylet-socket", socketPath],
        appDirectory,
        new Dictionary<string, string>(Environment) { [Transport.ClusterToken.EnvironmentVariable] = authToken });
}
