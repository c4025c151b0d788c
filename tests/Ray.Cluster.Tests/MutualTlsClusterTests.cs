using System.Net;
using System.Text.RegularExpressions;
using Ray.Runtime.Tests.Transport;
using Xunit;

namespace Ray.Cluster.Tests;

/// <summary>
/// A cluster started with mutual TLS (<c>raygen start --tls-cert --tls-key --tls-ca</c>): a head on 127.0.0.1 and a node
/// on 127.0.0.2, each with a certificate of the cluster's CA for its address, and drivers and CLI commands that connect
/// with certificates of their own.
/// </summary>
public sealed class TlsClusterFixture : IAsyncLifetime
{
    private readonly TestCertificates _certificates = new();

    internal TestCluster Cluster { get; private set; } = null!;

    /// <summary>The cluster's CA.</summary>
    internal TestCertificates.Authority Authority { get; private set; } = null!;

    /// <summary>A CA the cluster knows nothing of.</summary>
    internal TestCertificates.Authority OtherAuthority { get; private set; } = null!;

    /// <summary>A CA file with both, for a client that trusts the cluster's nodes but holds a certificate of the other CA.</summary>
    internal string BothAuthorities { get; private set; } = null!;

    /// <summary>A client certificate of the cluster's CA, for drivers and CLI commands.</summary>
    internal TestCertificates.Issued Client { get; private set; } = null!;

    internal TestCertificates Certificates => _certificates;

    public async Task InitializeAsync()
    {
        Authority = _certificates.CreateAuthority("cluster-ca");
        OtherAuthority = _certificates.CreateAuthority("other-ca");
        BothAuthorities = _certificates.Bundle("both-cas", Authority, OtherAuthority);
        Client = _certificates.Issue(Authority, "driver", [], server: false);
        Cluster = await TestCluster.StartAsync(headCpus: 1, headArguments: TlsArguments(Node("head", IPAddress.Loopback)));
        await Cluster.AddNodeAsync("127.0.0.2", 1, TlsArguments(Node("node2", IPAddress.Parse("127.0.0.2"))));
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync().AsTask().WaitAsync(NodeProcess.Timeout);
        }

        _certificates.Dispose();
    }

    /// <summary>The flags of a command that uses <paramref name="issued"/> with <paramref name="authority"/> (default: the cluster's CA).</summary>
    internal string[] TlsArguments(TestCertificates.Issued issued, string? authority = null) =>
        ["--tls-cert", issued.CertificatePath, "--tls-key", issued.KeyPath, "--tls-ca", authority ?? Authority.Path];

    private TestCertificates.Issued Node(string name, IPAddress address) => _certificates.Issue(Authority, name, [address]);
}

/// <summary>Mutual TLS across a cluster: drivers and the CLI with the cluster's certificates work on every node; without them, or with another CA's, they are refused clearly.</summary>
public sealed class MutualTlsClusterTests(TlsClusterFixture fixture) : IClassFixture<TlsClusterFixture>
{
    private static readonly TimeSpan Timeout = NodeProcess.Timeout;

    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task A_driver_with_a_certificate_of_the_clusters_CA_runs_a_task_on_each_node_and_objects_move_between_them()
    {
        await using var ray = await RayRuntime.InitAsync(new RayOptions
        {
            Address = Cluster.HeadAddress,
            AuthToken = Cluster.Token,
            TlsCertificatePath = fixture.Client.CertificatePath,
            TlsKeyPath = fixture.Client.KeyPath,
            TlsCaPath = fixture.Authority.Path,
        }).WaitAsync(Timeout);

        var deadline = DateTime.UtcNow + Timeout;
        IReadOnlyList<NodeInfo> nodes;
        while ((nodes = await ray.GetNodesAsync().WaitAsync(Timeout)).Count(n => n.IsAlive) < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "The node on 127.0.0.2 did not join the cluster.");
            await Task.Delay(50);
        }

        Assert.Equal(Cluster.Nodes.Select(n => n.Address).Order(StringComparer.Ordinal), nodes.Select(n => n.Address).Order(StringComparer.Ordinal));
        foreach (var node in nodes)
        {
            var pinned = ClusterTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(node.NodeId) });
            Assert.Equal(node.NodeId, await pinned.NodeId().GetAsync().AsTask().WaitAsync(Timeout));
            Assert.Equal(5, await pinned.Add(2, 3).GetAsync().AsTask().WaitAsync(Timeout));
        }

        // An object made on one node is pulled by the other over the object stream, inside TLS.
        const int size = 4 << 20;
        var made = ObjectTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(nodes[0].NodeId) }).Make(size, 5);
        var read = await ObjectTasks.Remote.WithOptions(new TaskOptions { SchedulingStrategy = SchedulingStrategy.NodeAffinity(nodes[1].NodeId) })
            .HashHere(made, made).GetAsync().AsTask().WaitAsync(Timeout);
        var expected = ObjectTasks.Hash(ObjectTasks.Pattern(size, 5));
        Assert.Equal([expected, expected, nodes[1].NodeId], read);
    }

    [Fact]
    public async Task A_driver_without_tls_is_refused_with_an_error_that_says_the_cluster_may_need_it()
    {
        var refused = await Assert.ThrowsAsync<RayException>(() => ConnectAsync(new RayOptions { Address = Cluster.HeadAddress, AuthToken = Cluster.Token }));
        AssertSays(refused.Message, $"The cluster at {Cluster.HeadAddress} closed the connection before HTTP/2 began: it uses TLS, which this side did not ask for");
        AssertSays(refused.Message, "RayOptions.TlsCertificatePath");
    }

    [Fact]
    public async Task A_driver_with_a_certificate_of_another_CA_is_refused_and_the_node_says_why()
    {
        var stranger = fixture.Certificates.Issue(fixture.OtherAuthority, "stranger", [], server: false);
        var refused = await Assert.ThrowsAsync<RayException>(() => ConnectAsync(new RayOptions
        {
            Address = Cluster.HeadAddress,
            AuthToken = Cluster.Token,
            TlsCertificatePath = stranger.CertificatePath,
            TlsKeyPath = stranger.KeyPath,
            TlsCaPath = fixture.BothAuthorities,
        }));
        AssertSays(refused.Message, $"The cluster at {Cluster.HeadAddress} closed the connection right after the TLS handshake: it refused this side's certificate");
        await Cluster.Head.WaitForOutputAsync(@"Refused a TLS connection from 127\.0\.0\.1:\d+: .*not issued by the cluster's CA.*CN=stranger");
    }

    [Fact]
    public async Task A_driver_of_another_CA_refuses_the_clusters_nodes_and_says_why()
    {
        var stranger = fixture.Certificates.Issue(fixture.OtherAuthority, "other-driver", [], server: false);
        var refused = await Assert.ThrowsAsync<RayException>(() => ConnectAsync(new RayOptions
        {
            Address = Cluster.HeadAddress,
            AuthToken = Cluster.Token,
            TlsCertificatePath = stranger.CertificatePath,
            TlsKeyPath = stranger.KeyPath,
            TlsCaPath = fixture.OtherAuthority.Path,
        }));
        AssertSays(refused.Message, $"The TLS handshake with the cluster at {Cluster.HeadAddress} failed: This side refused the TLS certificate of the server at 127.0.0.1: not issued by the cluster's CA (subject CN=head).");
    }

    [Fact]
    public async Task The_cli_shows_the_cluster_with_its_certificates_and_is_refused_without_them()
    {
        var (exit, output) = await Cluster.RunCliAsync(["status", "--address", Cluster.HeadAddress, "--auth-token", Cluster.Token, .. fixture.TlsArguments(fixture.Client)]);
        Assert.True(exit == 0, output);
        foreach (var node in Cluster.Nodes)
        {
            Assert.Matches($@"│ {Regex.Escape(node.Address)} +│ alive +│", output);
        }

        (exit, output) = await Cluster.RunCliAsync("status", "--address", Cluster.HeadAddress, "--auth-token", Cluster.Token);
        Assert.NotEqual(0, exit);
        AssertSays(output, $"raygen status: The head at {Cluster.HeadAddress} closed the connection before HTTP/2 began: it uses TLS");
    }

    [Fact]
    public async Task A_node_without_tls_cannot_join_the_cluster()
    {
        var (exit, output) = await Cluster.RunCliAsync("start", "--address", Cluster.HeadAddress, "--node-ip-address", "127.0.0.9", "--auth-token", Cluster.Token, "--block");
        Assert.NotEqual(0, exit);
        AssertSays(output, $"raygen start: The head at {Cluster.HeadAddress} closed the connection before HTTP/2 began: it uses TLS");
    }

    /// <summary>Asserts that <paramref name="text"/> says <paramref name="part"/>, showing all of it when it does not.</summary>
    private static void AssertSays(string text, string part) => Assert.True(text.Contains(part, StringComparison.Ordinal), $"Expected '{part}' in:{Environment.NewLine}{text}");

    /// <summary>Connects a throwaway driver (this process holds no runtime meanwhile) and disconnects it.</summary>
    private static async Task ConnectAsync(RayOptions options)
    {
        var driver = await Core.ClusterDriver.ConnectAsync(
            options.Address!,
            options,
            Hosting.ClusterSession.Current,
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
            CancellationToken.None).WaitAsync(Timeout);
        await driver.DisposeAsync();
    }
}
