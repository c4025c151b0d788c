using System.Net;
using System.Net.Sockets;
using Xunit;

namespace Ray.Cluster.Tests;

/// <summary>
/// A cluster of real node processes on this machine, each on a loopback address of its own (127.0.0.1 for the head,
/// 127.0.0.2, … for the others), with a session directory and a token of its own. The nodes run raygen from a copy
/// of its files outside this test's directory, so a node can be kept from reading the driver's code.
/// </summary>
internal sealed class TestCluster : IAsyncDisposable
{
    private static readonly Lazy<string> NodeBinaries = new(CopyNodeBinaries);

    private readonly List<NodeProcess> _nodes = [];

    private TestCluster(string session, string token)
    {
        SessionDirectory = session;
        Token = token;
    }

    public string SessionDirectory { get; }

    public string Token { get; }

    public NodeProcess Head => _nodes[0];

    public string HeadAddress => Head.Address;

    public IReadOnlyList<NodeProcess> Nodes => _nodes;

    /// <summary>What every process of this cluster gets in its environment: its session directory.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["RAYGEN_TEMP_DIR"] = SessionDirectory,
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
    };

    /// <summary>raygen.dll in the copy of its files the nodes run from.</summary>
    public static string Raygen => Path.Combine(NodeBinaries.Value, "raygen.dll");

    /// <summary>The folder of this test's build: the driver's application directory.</summary>
    public static string DriverDirectory => AppContext.BaseDirectory;

    /// <summary>Starts a head on 127.0.0.1 and one node on each further address.</summary>
    public static async Task<TestCluster> StartAsync(double headCpus = 2, string[]? nodeAddresses = null, double nodeCpus = 1, string[]? headArguments = null, string? hideFromHead = null)
    {
        var cluster = new TestCluster(Directory.CreateTempSubdirectory("raygen-cluster-").FullName, Transport.ClusterToken.Generate().Value);
        try
        {
            await cluster.StartNodeAsync(["--head", "--port", FreePort().ToString(), "--num-cpus", headCpus.ToString(System.Globalization.CultureInfo.InvariantCulture), .. headArguments ?? []], "127.0.0.1", hideFromHead);
            foreach (var address in nodeAddresses ?? [])
            {
                await cluster.AddNodeAsync(address, nodeCpus);
            }
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    /// <summary>A node that joins the cluster from <paramref name="ip"/>.</summary>
    public Task<NodeProcess> AddNodeAsync(string ip, double cpus = 1, params string[] extra) =>
        StartNodeAsync(["--address", HeadAddress, "--num-cpus", cpus.ToString(System.Globalization.CultureInfo.InvariantCulture), .. extra], ip);

    /// <summary>
    /// Starts a node with <paramref name="arguments"/> on <paramref name="ip"/>, optionally in a mount namespace of its own
    /// where <paramref name="hidden"/> is covered by an empty tmpfs (the node cannot read what is there).
    /// </summary>
    public async Task<NodeProcess> StartNodeAsync(string[] arguments, string ip, string? hidden = null)
    {
        string[] command = ["dotnet", Raygen, "start", .. arguments, "--node-ip-address", ip, "--auth-token", Token, "--block"];
        var node = hidden is null
            ? await NodeProcess.StartAsync(command[0], command[1..], Environment, "ready")
            : await NodeProcess.StartAsync(
                "unshare",
                ["--mount", "--propagation", "private", "--", "sh", "-c", "mount -t tmpfs tmpfs \"$0\" && exec \"$@\"", hidden, .. command],
                Environment,
                "ready");
        _nodes.Add(node);
        return node;
    }

    /// <summary>Runs a raygen command to its end; returns its exit code and output.</summary>
    public async Task<(int ExitCode, string Output)> RunCliAsync(params string[] arguments)
    {
        using var cli = await NodeProcess.StartAsync("dotnet", [Raygen, .. arguments], Environment, readyLine: null);
        var exit = await cli.WaitForExitAsync();
        return (exit, cli.Output);
    }

    /// <summary>Starts a driver process: one build of Ray.ClusterApp, connected to this cluster.</summary>
    public Task<NodeProcess> StartDriverAsync(string build, string mode, string? readyLine = null, string? token = null) =>
        NodeProcess.StartAsync(
            "dotnet",
            [Path.Combine(ClusterAppDirectory(build), "Ray.ClusterApp.dll"), mode],
            new Dictionary<string, string>(Environment) { ["RAYGEN_ADDRESS"] = HeadAddress, ["RAYGEN_AUTH_TOKEN"] = token ?? Token },
            readyLine);

    /// <summary>Where a build of Ray.ClusterApp is (built before these tests, not copied beside them).</summary>
    public static string ClusterAppDirectory(string build)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var directory = Path.GetFullPath(Path.Combine(RepositoryRoot(), "tests", $"Ray.ClusterApp.{build}", "bin", configuration, "net10.0"));
        Assert.True(File.Exists(Path.Combine(directory, "Ray.ClusterApp.dll")), $"Ray.ClusterApp.{build} is not built in {directory}.");
        return directory;
    }

    /// <summary>Stops every node: SIGTERM, then a kill for one that does not stop in time.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var node in Enumerable.Reverse(_nodes))
        {
            if (!node.HasExited)
            {
                node.Signal("TERM");
                try
                {
                    await node.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
                }
                catch (TimeoutException)
                {
                }
            }

            node.Dispose();
        }

        try
        {
            Directory.Delete(SessionDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A TCP port nothing listens on now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "RayGen.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The tests do not run inside the repository.");
    }

    /// <summary>raygen and what it runs on, copied out of this test's directory (which holds the driver's code).</summary>
    private static string CopyNodeBinaries()
    {
        var target = Directory.CreateTempSubdirectory("raygen-node-bin-").FullName;
        foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory))
        {
            var name = Path.GetFileName(file);
            if (name.StartsWith("raygen.", StringComparison.Ordinal) || name.StartsWith("Ray.Runtime.", StringComparison.Ordinal) ||
                name.StartsWith("Ray.Abstractions.", StringComparison.Ordinal) || name.StartsWith("Ray.Worker.", StringComparison.Ordinal) ||
                name.StartsWith("Grpc.", StringComparison.Ordinal) || name.StartsWith("Google.Protobuf", StringComparison.Ordinal) ||
                name.StartsWith("MemoryPack", StringComparison.Ordinal) || name.StartsWith("System.CommandLine", StringComparison.Ordinal) ||
                name.StartsWith("Spectre.Console", StringComparison.Ordinal))
            {
                File.Copy(file, Path.Combine(target, name));
            }
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(target, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return target;
    }
}
