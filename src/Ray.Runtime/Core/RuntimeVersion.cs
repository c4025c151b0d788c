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

    /// <summary>Null when the versions match, else a sentence saying what differs.</summary>
    public static string? Mismatch(int protocol, string runtimeVersion)
    {
        if (protocol != Protocol)
        {
            return $"The worker speaks RayGen protocol {protocol} but the driver speaks protocol {Protocol}.";
        }

        if (runtimeVersion != Current)
        {
            return $"The worker runs Ray.Runtime {runtimeVersion} but the driver runs Ray.Runtime {Current}; " +
                   "rebuild so that both use the same RayGen version.";
        }

        return null;
    }
}
