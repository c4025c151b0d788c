using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ray.Hosting;

/// <summary>
/// What the nodes started on this machine leave for the drivers and CLI commands that come after them (Ray's
/// <c>/tmp/ray</c>): the address of the cluster whose head runs here (<c>Address = "auto"</c>), the token file the head
/// writes when it makes the token (readable by its user only), and a record per node (for <c>raygen stop</c> and for
/// drivers looking for the node on their machine). The directory is <c>$RAYGEN_TEMP_DIR</c>, else <c>raygen</c> under the
/// temporary directory.
/// </summary>
internal sealed class ClusterSession
{
    /// <summary>The environment variable that moves the session directory (tests give each cluster its own).</summary>
    public const string DirectoryVariable = "RAYGEN_TEMP_DIR";

    /// <summary>The cluster's address for drivers and CLI commands (Ray's <c>RAY_ADDRESS</c>).</summary>
    public const string AddressVariable = "RAYGEN_ADDRESS";

    /// <summary>The cluster's token (Ray's <c>RAY_AUTH_TOKEN</c>).</summary>
    public const string TokenVariable = "RAYGEN_AUTH_TOKEN";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public ClusterSession(string root) => Root = root;

    /// <summary>This machine's session directory.</summary>
    public static ClusterSession Current =>
        new(Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } root ? root : Path.Combine(Path.GetTempPath(), "raygen"));

    public string Root { get; }

    /// <summary>The file holding the address of the cluster whose head runs on this machine.</summary>
    public string AddressFile => Path.Combine(Root, "current_cluster");

    /// <summary>The file holding the cluster's token, mode 0600.</summary>
    public string TokenFile => Path.Combine(Root, "auth_token");

    /// <summary>Where each node started on this machine leaves its record.</summary>
    public string NodesDirectory => Path.Combine(Root, "nodes");

    /// <summary>Where nodes keep the packages (job code) they downloaded.</summary>
    public string PackagesDirectory => Path.Combine(Root, "packages");

    /// <summary>Where background nodes write their logs.</summary>
    public string LogsDirectory => Path.Combine(Root, "logs");

    /// <summary>
    /// The address a driver or CLI command should use: <paramref name="given"/> (<c>"auto"</c> means the cluster started on
    /// this machine), else <c>$RAYGEN_ADDRESS</c>; null when neither names one.
    /// </summary>
    /// <exception cref="RayException">"auto", but no cluster was started on this machine.</exception>
    public string? ResolveAddress(string? given)
    {
        var address = given is { Length: > 0 } ? given : Environment.GetEnvironmentVariable(AddressVariable);
        if (address is not { Length: > 0 })
        {
            return null;
        }

        if (!string.Equals(address, "auto", StringComparison.OrdinalIgnoreCase))
        {
            return address;
        }

        try
        {
            var current = File.ReadAllText(AddressFile).Trim();
            if (current.Length > 0)
            {
                return current;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        throw new RayException(
            $"Address \"auto\" names the cluster started on this machine, but there is none ({AddressFile} is missing). " +
            "Start one with 'raygen start --head', or give its address (RayOptions.Address, RAYGEN_ADDRESS).");
    }

    /// <summary>
    /// The cluster's token: <paramref name="given"/>, else <c>$RAYGEN_AUTH_TOKEN</c>, else the token file a head on this
    /// machine wrote; null when there is none.
    /// </summary>
    public string? ResolveToken(string? given)
    {
        if (given is { Length: > 0 })
        {
            return given;
        }

        if (Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        if (!File.Exists(TokenFile))
        {
            return null;
        }

        try
        {
            return Transport.ClusterToken.ReadFile(TokenFile, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance).Value;
        }
        catch (RayException)
        {
            return null;
        }
    }

    /// <summary>The record of every node started on this machine whose process still runs; records of dead ones are deleted.</summary>
    public IReadOnlyList<NodeRecord> LiveNodes()
    {
        if (!Directory.Exists(NodesDirectory))
        {
            return [];
        }

        var live = new List<NodeRecord>();
        foreach (var file in Directory.EnumerateFiles(NodesDirectory, "*.json"))
        {
            NodeRecord? record;
            try
            {
                record = JsonSerializer.Deserialize<NodeRecord>(File.ReadAllText(file), Json);
            }
            catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
            {
                continue;
            }

            if (record is not null && ObjectStore.NodeDirectory.ProcessStartTime(record.Pid) == record.ProcessStartTime)
            {
                live.Add(record);
            }
            else
            {
                TryDelete(file);
            }
        }

        return live;
    }

    /// <summary>Writes this process's node record.</summary>
    public void WriteNode(NodeRecord record)
    {
        Directory.CreateDirectory(NodesDirectory);
        WriteAtomically(NodeFile(record.Pid), JsonSerializer.Serialize(record, Json), UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>Deletes this process's node record (and the cluster address, when the head leaves).</summary>
    public void RemoveNode(NodeRecord record)
    {
        TryDelete(NodeFile(record.Pid));
        if (record.IsHead)
        {
            try
            {
                if (File.Exists(AddressFile) && File.ReadAllText(AddressFile).Trim() == record.Address)
                {
                    File.Delete(AddressFile);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>Records the address of the cluster whose head starts on this machine.</summary>
    public void WriteAddress(string address)
    {
        Directory.CreateDirectory(Root);
        WriteAtomically(AddressFile, address + Environment.NewLine, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    /// <summary>Writes the token file, readable and writable by this user only from the moment it exists.</summary>
    public void WriteToken(string token) => Transport.ClusterToken.Parse(token, "the cluster's token").WriteFile(TokenFile);

    private static void WriteAtomically(string path, string contents, UnixFileMode mode)
    {
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }

        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(contents);
        }

        File.Move(temporary, path, overwrite: true);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private string NodeFile(int pid) => Path.Combine(NodesDirectory, $"{pid}.json");
}

/// <summary>One node started on this machine, as its record says.</summary>
internal sealed record NodeRecord
{
    public required int Pid { get; init; }

    /// <summary>The start time Linux gives the process, which tells it from a later process with the same pid.</summary>
    public required string ProcessStartTime { get; init; }

    public required string NodeId { get; init; }

    /// <summary>The node's TCP address, <c>ip:port</c>.</summary>
    public required string Address { get; init; }

    /// <summary>The head's GCS address, which the node joined (its own address for the head).</summary>
    public required string GcsAddress { get; init; }

    public required bool IsHead { get; init; }

    /// <summary>The raylet's Unix socket, for drivers on this machine.</summary>
    public required string SocketPath { get; init; }

    /// <summary>Whether the node uses mutual TLS.</summary>
    public bool Tls { get; init; }

    /// <summary>The token file the head wrote, when it made the token.</summary>
    public string? TokenFile { get; init; }
}
