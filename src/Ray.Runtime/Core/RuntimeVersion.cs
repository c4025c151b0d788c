using System.Reflection;

namespace Ray.Core;

/// <summary>The version a driver and its workers must share to talk to each other.</summary>
internal static class RuntimeVersion
{
    /// <summary>Bumped whenever <c>raylet.proto</c> changes incompatibly.</summary>
    public const int Protocol = 1;

    /// <summary>The informational version of Ray.Runtime, as built.</summary>
    public static string Current { get; } =
        typeof(RuntimeVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(RuntimeVersion).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    /// <summary>
    /// Null when the versions match, else a sentence saying what differs: what the <paramref name="peer"/> (the side that
    /// sent these versions: a worker, a node, a driver) runs against what <paramref name="self"/> runs.
    /// </summary>
    public static string? Mismatch(int protocol, string runtimeVersion, string peer = "worker", string self = "driver")
    {
        if (protocol != Protocol)
        {
            return $"The {peer} speaks RayGen protocol {protocol} but the {self} speaks protocol {Protocol}.";
        }

        if (runtimeVersion != Current)
        {
            return $"The {peer} runs Ray.Runtime {runtimeVersion} but the {self} runs Ray.Runtime {Current}; " +
                   "every node, driver and worker of a cluster must run the same RayGen version.";
        }

        return null;
    }
}
