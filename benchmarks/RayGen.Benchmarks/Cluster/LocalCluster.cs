using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RayGen.Benchmarks.Cluster;

/// <summary>
/// A cluster of real <c>raygen</c> node processes on this machine for the cluster benchmarks: a head on 127.0.0.1 and
/// one node on each of 127.0.0.2, 127.0.0.3, …, with a session directory and a token of their own, stopped (SIGTERM,
/// then SIGKILL) when disposed.
/// </summary>
internal sealed partial class LocalCluster : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly List<Process> _nodes = [];
    private readonly string _session;

    private LocalCluster(string session, string token)
    {
        _session = session;
        Token = token;
    }

    /// <summary>The head's address, <c>127.0.0.1:port</c>.</summary>
    public string Address { get; private set; } = string.Empty;

    /// <summary>The cluster's token.</summary>
    public string Token { get; }

    /// <summary>Starts a head and <paramref name="nodes"/> - 1 further nodes, each with <paramref name="cpusPerNode"/> CPUs.</summary>
    public static async Task<LocalCluster> StartAsync(int nodes, double cpusPerNode, long objectStoreMemory)
    {
        var token = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();
        var cluster = new LocalCluster(Directory.CreateTempSubdirectory("raygen-bench-cluster-").FullName, token);
        try
        {
            var cpus = cpusPerNode.ToString(CultureInfo.InvariantCulture);
            var memory = objectStoreMemory.ToString(CultureInfo.InvariantCulture);
            var headOutput = await cluster.StartNodeAsync(["--head", "--port", FreePort().ToString(CultureInfo.InvariantCulture), "--num-cpus", cpus, "--object-store-memory", memory], "127.0.0.1");
            cluster.Address = AddressLine().Match(headOutput) is { Success: true } match
                ? match.Groups[1].Value
                : throw new InvalidOperationException($"The head printed no address:\n{headOutput}");
            for (var i = 1; i < nodes; i++)
            {
                await cluster.StartNodeAsync(["--address", cluster.Address, "--num-cpus", cpus, "--object-store-memory", memory], $"127.0.0.{i + 1}");
            }
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }

        return cluster;
    }

    private async Task<string> StartNodeAsync(string[] arguments, string ip)
    {
        var raygen = Path.Combine(AppContext.BaseDirectory, "raygen.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])[raygen, "start", .. arguments, "--node-ip-address", ip, "--auth-token", Token, "--block"])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["RAYGEN_TEMP_DIR"] = _session;
        var process = Process.Start(start)!;
        _nodes.Add(process);
        var output = new StringBuilder();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, line) =>
        {
            lock (output)
            {
                output.AppendLine(line.Data);
            }

            if (line.Data == "ready")
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, line) =>
        {
            lock (output)
            {
                output.AppendLine(line.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await Task.WhenAny(ready.Task, process.WaitForExitAsync(), Task.Delay(StartTimeout));
        lock (output)
        {
            return ready.Task.IsCompleted ? output.ToString() : throw new InvalidOperationException($"The node on {ip} did not start:\n{output}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Enumerable.Reverse(_nodes))
        {
            if (!node.HasExited)
            {
                using var term = Process.Start("kill", ["-TERM", node.Id.ToString(CultureInfo.InvariantCulture)]);
                term.WaitForExit(5_000);
            }
        }

        foreach (var node in _nodes)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await node.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                node.Kill(entireProcessTree: true);
            }

            node.Dispose();
        }

        try
        {
            Directory.Delete(_session, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"started at (\S+) \(head\)")]
    private static partial Regex AddressLine();
}
