namespace Ray.Hosting;

/// <summary>
/// Which machine this process runs on, so that a driver can tell the nodes that share its machine (it then talks to
/// one over its Unix socket and maps its shared memory) from those it reaches over the network.
/// </summary>
internal static class MachineIdentity
{
    /// <summary>The machine's id (systemd's <c>/etc/machine-id</c>, else the kernel's boot id) and its host name.</summary>
    public static string Id { get; } = Read();

    private static string Read()
    {
        foreach (var path in new[] { "/etc/machine-id", "/var/lib/dbus/machine-id", "/proc/sys/kernel/random/boot_id" })
        {
            try
            {
                var id = File.ReadAllText(path).Trim();
                if (id.Length > 0)
                {
                    return $"{id}/{Environment.MachineName}";
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        return Environment.MachineName;
    }
}
