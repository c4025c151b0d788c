using System.Diagnostics;
using Ray.Hosting;

namespace Ray.Cluster.Tests;

/// <summary>
/// raygen as a user runs it on one machine: commands that start nodes in the background (no <c>--block</c>), <c>raygen
/// status</c> and <c>raygen stop</c>, and drivers, all with one session directory of their own (<c>RAYGEN_TEMP_DIR</c>)
/// and no address or token in their environment. Disposing ends every process that still runs with that session
/// directory in its environment (nodes, their workers, drivers), so a failed test leaves no node behind.
/// </summary>
internal sealed class BackgroundSession : IAsyncDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    private readonly List<NodeProcess> _processes = [];

    public BackgroundSession()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("raygen-cli-").FullName;
        Session = new ClusterSession(Directory);
    }

    /// <summary>The session directory: node records, the token file, the cluster's address, logs.</summary>
    public string Directory { get; }

    public ClusterSession Session { get; }

    /// <summary>
    /// The environment of every process of this session: its session directory, and RAYGEN_ADDRESS and RAYGEN_AUTH_TOKEN
    /// empty (as unset), so that what a command finds it finds in the session directory.
    /// </summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        [ClusterSession.DirectoryVariable] = Directory,
        [ClusterSession.AddressVariable] = string.Empty,
        [ClusterSession.TokenVariable] = string.Empty,
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
    };

    /// <summary>Runs a raygen command to its end; returns its exit code and output.</summary>
    public async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        using var cli = await NodeProcess.StartAsync("dotnet", [TestCluster.Raygen, .. arguments], Environment, readyLine: null);
        var exit = await cli.WaitForExitAsync();
        return (exit, cli.Output);
    }

    /// <summary>
    /// Starts a driver (a build of Ray.ClusterApp) in <paramref name="mode"/>, with <paramref name="address"/> as its
    /// <c>RayOptions.Address</c> when given, and <paramref name="environment"/> added to the session's.
    /// </summary>
    public Task<NodeProcess> StartDriverAsync(string build, string mode, string? address = null, IReadOnlyDictionary<string, string>? environment = null, string? readyLine = null)
    {
        var variables = new Dictionary<string, string>(Environment);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            variables[name] = value;
        }

        string[] arguments = [Path.Combine(TestCluster.ClusterAppDirectory(build), "Ray.ClusterApp.dll"), mode, .. address is null ? [] : new[] { address }];
        return Track(NodeProcess.StartAsync("dotnet", arguments, variables, readyLine));
    }

    /// <summary>The nodes of this session that run now, as their records say.</summary>
    public IReadOnlyList<NodeRecord> LiveNodes() => Session.LiveNodes();

    /// <summary>Ends what still runs of this session: SIGTERM first, so nodes clean up their files, then SIGKILL.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            process.Dispose();
        }

        var left = Remaining();
        foreach (var pid in left)
        {
            Signal(pid, "TERM");
        }

        var deadline = DateTime.UtcNow + StopGrace;
        while (left.Any(ProcessTable.IsRunning) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        foreach (var pid in Remaining())
        {
            Signal(pid, "KILL");
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The processes of this session: those its node records name, and any other with its directory in their environment.</summary>
    private int[] Remaining() =>
        Session.LiveNodes().Select(n => n.Pid)
            .Concat(ProcessTable.WithEnvironment(ClusterSession.DirectoryVariable, Directory))
            .Where(pid => pid != System.Environment.ProcessId && ProcessTable.IsRunning(pid))
            .Distinct()
            .ToArray();

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    private async Task<NodeProcess> Track(Task<NodeProcess> starting)
    {
        var process = await starting;
        _processes.Add(process);
        return process;
    }
}
