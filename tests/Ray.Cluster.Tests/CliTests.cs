using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using Ray.Transport;
using Xunit;

namespace Ray.Cluster.Tests;

/// <summary>
/// raygen as a user runs it on one machine: nodes started in the background, <c>raygen status</c> and <c>raygen
/// stop</c>; the token a head makes when it is given none, which local drivers and commands find in the session
/// directory; and nodes that listen on loopback unless told otherwise.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class CliTests
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Start_without_block_returns_once_the_node_is_ready_and_stop_ends_every_node_of_the_machine_with_its_workers()
    {
        await using var session = new BackgroundSession();
        var head = await StartHeadAsync(session);
        var (exit, output) = await session.RunAsync("start", "--address", head, "--node-ip-address", "127.0.0.2", "--num-cpus", "1");
        Assert.True(exit == 0, output);
        var joined = Regex.Match(output, $@"(?m)^Node [0-9a-f]{{32}} started at (?<address>127\.0\.0\.2:\d+), in the cluster at {Regex.Escape(head)}\.").Groups["address"].Value;
        Assert.True(joined.Length > 0, output);

        // Both commands returned, and their nodes run on, each the leader of a session of its own.
        var nodes = session.LiveNodes();
        Assert.Equal([head, joined], nodes.Select(n => n.Address).Order(StringComparer.Ordinal));
        Assert.All(nodes, n => Assert.Equal(n.Pid, ProcessTable.SessionOf(n.Pid)));

        // Three one-CPU tasks on two one-CPU nodes: one runs on each, one waits, and so does a one-CPU actor.
        using var driver = await session.StartDriverAsync("V1", "busy", address: "auto", readyLine: "submitted");
        await WaitForStatusAsync(
            session,
            $@"│ [0-9a-f]{{12}} \(head\) +│ {Regex.Escape(head)} +│ alive +│ CPU 1/1 +│",
            $@"│ [0-9a-f]{{12}} +│ {Regex.Escape(joined)} +│ alive +│ CPU 1/1 +│",
            @"(?m)^Pending demand: 1 x \{CPU: 1\}; 1 x \{CPU: 1\} \(actors\)$",
            @"(?m)^Jobs: 1 running, 0 finished");
        var workers = nodes.SelectMany(n => ProcessTable.WorkersOf(n.Pid)).ToArray();
        Assert.All(nodes, n => Assert.NotEmpty(ProcessTable.WorkersOf(n.Pid)));

        (exit, output) = await session.RunAsync("stop");
        Assert.True(exit == 0, output);
        var stoppedNode = output.IndexOf($"Stopped node {nodes.Single(n => !n.IsHead).NodeId} at {joined}.", StringComparison.Ordinal);
        var stoppedHead = output.IndexOf($"Stopped node {nodes.Single(n => n.IsHead).NodeId} at {head} (head).", StringComparison.Ordinal);
        Assert.True(stoppedNode >= 0 && stoppedHead > stoppedNode, $"Expected the node, then the head, to stop:{Environment.NewLine}{output}");

        var deadline = DateTime.UtcNow + Within;
        while (nodes.Select(n => n.Pid).Concat(workers).Where(ProcessTable.IsRunning).ToArray() is { Length: > 0 } left)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Still running after raygen stop: {string.Join(", ", left)}");
            await Task.Delay(50);
        }

        Assert.Empty(Directory.EnumerateFiles(session.Session.NodesDirectory, "*.json"));
        (exit, output) = await session.RunAsync("stop");
        Assert.Equal(0, exit);
        Assert.Contains("No RayGen node runs on this machine.", output);
        (exit, output) = await session.RunAsync("status");
        Assert.NotEqual(0, exit);
        Assert.Contains("Address \"auto\" names the cluster started on this machine, but there is none", output);
    }

    [Fact]
    public async Task A_head_given_no_token_writes_a_strong_one_only_its_user_can_read_and_local_drivers_and_commands_use_it()
    {
        await using var session = new BackgroundSession();
        var tokenFile = session.Session.TokenFile;
        var head = await StartHeadAsync(session, expect: $"The cluster's token is in {tokenFile} (readable by you only).");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));
        var token = File.ReadAllText(tokenFile).Trim();

        // 32 random bytes, base64url: 256 bits.
        Assert.Matches("^[A-Za-z0-9_-]{43}$", token);

        // Neither driver is given the token; one finds the cluster by "auto", the other by RAYGEN_ADDRESS.
        using var auto = await session.StartDriverAsync("V1", "version", address: "auto");
        using var byVariable = await session.StartDriverAsync("V2", "version", environment: new Dictionary<string, string> { ["RAYGEN_ADDRESS"] = head });
        Assert.True(await auto.WaitForExitAsync() == 0, auto.Output);
        Assert.True(await byVariable.WaitForExitAsync() == 0, byVariable.Output);
        Assert.Contains("version: build one", auto.Output);
        Assert.Contains("version: build two", byVariable.Output);

        var (exit, output) = await session.RunAsync("status");
        Assert.True(exit == 0, output);
        Assert.Contains(head, output);
        Assert.Contains("Jobs: 0 running, 2 finished", output);

        (exit, output) = await session.RunAsync("status", "--auth-token", ClusterToken.Generate().Value);
        Assert.NotEqual(0, exit);
        Assert.Contains($"The head at {head} refused the call: The cluster token is wrong", output);

        (exit, output) = await session.RunAsync("status", "--auth-token", "wrong");
        Assert.NotEqual(0, exit);
        Assert.Contains("The cluster token from --auth-token is not valid", output);
        Assert.DoesNotContain(token, output);
    }

    [Fact]
    public async Task A_node_started_without_node_ip_address_listens_on_loopback_only()
    {
        await using var session = new BackgroundSession();
        var head = await StartHeadAsync(session);
        var port = int.Parse(head.Split(':')[1], CultureInfo.InvariantCulture);
        Assert.Equal($"127.0.0.1:{port}", head);

        using (var loopback = new TcpClient())
        {
            await loopback.ConnectAsync(IPAddress.Loopback, port).WaitAsync(Within);
        }

        // Another loopback address, and every address this machine has on a network: nothing listens there.
        IPAddress[] elsewhere = [IPAddress.Parse("127.0.0.2"), .. NetworkAddresses()];
        foreach (var address in elsewhere)
        {
            using var client = new TcpClient(address.AddressFamily);
            var refused = await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(address, port).WaitAsync(Within));
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }
    }

    /// <summary>Starts a one-CPU head in the background on a free port, without --node-ip-address; returns its address.</summary>
    private static async Task<string> StartHeadAsync(BackgroundSession session, string? expect = null)
    {
        var port = TestCluster.FreePort().ToString(CultureInfo.InvariantCulture);
        var (exit, output) = await session.RunAsync("start", "--head", "--port", port, "--num-cpus", "1");
        Assert.True(exit == 0, output);
        var address = Regex.Match(output, @"(?m)^Node [0-9a-f]{32} started at (?<address>\S+) \(head\)\.").Groups["address"].Value;
        Assert.True(address.Length > 0, output);
        Assert.EndsWith($":{port}", address);
        Assert.Contains($"{Environment.NewLine}  raygen start --address {address}{Environment.NewLine}", output);
        Assert.Matches(@"The node runs in the background \(pid \d+\); its log is \S+\. Stop it with 'raygen stop'\.", output);
        if (expect is not null)
        {
            Assert.Contains(expect, output);
        }

        return address;
    }

    /// <summary>Runs <c>raygen status</c> until its output matches every one of <paramref name="patterns"/> (the nodes report once a period).</summary>
    private static async Task WaitForStatusAsync(BackgroundSession session, params string[] patterns)
    {
        var deadline = DateTime.UtcNow + Within;
        while (true)
        {
            var (exit, output) = await session.RunAsync("status");
            Assert.True(exit == 0, output);
            if (patterns.All(p => Regex.IsMatch(output, p)))
            {
                return;
            }

            var missing = patterns.First(p => !Regex.IsMatch(output, p));
            Assert.True(DateTime.UtcNow < deadline, $"raygen status did not show '{missing}' within {Within.TotalSeconds} s:{Environment.NewLine}{output}");
            await Task.Delay(200);
        }
    }

    /// <summary>The IPv4 addresses this machine has on its network interfaces, loopback aside.</summary>
    private static IEnumerable<IPAddress> NetworkAddresses() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .Where(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
}
