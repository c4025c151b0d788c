using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Ray.Runtime.Tests.Transport.Echo;
using Ray.Transport;
using Xunit;

namespace Ray.Runtime.Tests.Transport;

/// <summary>
/// Mutual TLS with certificates made by the test: a node and a client of the cluster's CA talk; a client without a
/// certificate, a client of another CA, a server of another CA and a server whose certificate names another address
/// are each refused; loading catches files that are missing or do not belong together.
/// </summary>
public sealed class MutualTlsTests : IDisposable
{
    private static readonly TimeSpan Timeout = EchoServer.Timeout;
    private static readonly IPAddress Loopback2 = IPAddress.Parse("127.0.0.2");

    private readonly TestCertificates _certificates = new();
    private readonly ClusterToken _token = ClusterToken.Generate();
    private readonly TestCertificates.Authority _ca;
    private readonly TestCertificates.Authority _otherCa;
    private readonly string _bothCas;

    public MutualTlsTests()
    {
        _ca = _certificates.CreateAuthority("cluster-ca");
        _otherCa = _certificates.CreateAuthority("other-ca");
        _bothCas = _certificates.Bundle("both-cas", _ca, _otherCa);
    }

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public async Task A_node_and_a_client_of_the_clusters_CA_talk_on_every_kind_of_call()
    {
        await using var server = await EchoServer.StartAsync(Credentials(Node("node", IPAddress.Loopback), _ca.Path));
        using var channel = ClusterChannel.Create(server.Address, Credentials(Client("driver"), _ca.Path));
        var client = new Echo.Echo.EchoClient(channel);

        var reply = await client.UnaryAsync(new EchoMessage { Text = "over tls" }, deadline: Deadline());
        Assert.Equal("over tls", reply.Text);
        Assert.Equal("CN=driver", reply.ClientCertificate);

        using var call = client.Duplex(deadline: Deadline());
        await call.RequestStream.WriteAsync(new EchoMessage { Text = "d" });
        Assert.True(await call.ResponseStream.MoveNext().WaitAsync(Timeout));
        Assert.Equal("d", call.ResponseStream.Current.Text);
        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext().WaitAsync(Timeout));

        Assert.DoesNotContain(server.Logs.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
    }

    [Fact]
    public async Task Nodes_on_other_loopback_addresses_have_certificates_for_those_addresses()
    {
        var node = Node("node2", Loopback2);
        await using var server = await EchoServer.StartAsync(Credentials(node, _ca.Path), Loopback2);
        Assert.StartsWith("127.0.0.2:", server.Address);

        // A node is a client of other nodes with the same certificate.
        using var channel = ClusterChannel.Create(server.Address, Credentials(node, _ca.Path));
        var reply = await new Echo.Echo.EchoClient(channel).UnaryAsync(new EchoMessage { Text = "n" }, deadline: Deadline());

        Assert.Equal("CN=node2", reply.ClientCertificate);
    }

    [Fact]
    public async Task The_token_is_still_required_over_tls()
    {
        await using var server = await EchoServer.StartAsync(Credentials(Node("node", IPAddress.Loopback), _ca.Path));
        var driver = Client("driver");
        var tls = ClusterTls.Load(driver.CertificatePath, driver.KeyPath, _ca.Path);
        using var channel = ClusterChannel.Create(server.Address, new ClusterCredentials(ClusterToken.Generate(), tls));

        var refused = await Assert.ThrowsAsync<RpcException>(
            () => new Echo.Echo.EchoClient(channel).UnaryAsync(new EchoMessage(), deadline: Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal(ClusterTokenAuthenticator.WrongMessage, refused.Status.Detail);
    }

    [Fact]
    public async Task A_client_without_a_certificate_is_refused_and_logged()
    {
        await using var server = await EchoServer.StartAsync(Credentials(Node("node", IPAddress.Loopback), _ca.Path));

        // TLS that trusts the server, but has no certificate of its own to show.
        var handler = new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } };
        using var channel = GrpcChannel.ForAddress($"https://{server.Address}", new GrpcChannelOptions { HttpHandler = handler });

        await AssertRefusedAsync(channel);
        var entry = await server.Logs.WaitForAsync(e => e.Message.StartsWith("Refused a TLS connection from 127.0.0.1:", StringComparison.Ordinal), Timeout);
        Assert.Contains("no client certificate", entry.Message);
    }

    [Fact]
    public async Task A_client_certificate_from_another_CA_is_refused_and_logged()
    {
        await using var server = await EchoServer.StartAsync(Credentials(Node("node", IPAddress.Loopback), _ca.Path));

        // The client trusts both CAs (so the server's certificate passes) but holds one the cluster's CA did not sign.
        var stranger = _certificates.Issue(_otherCa, "stranger", [IPAddress.Loopback]);
        using var channel = ClusterChannel.Create(server.Address, Credentials(stranger, _bothCas));

        await AssertRefusedAsync(channel);
        var entry = await server.Logs.WaitForAsync(e => e.Message.StartsWith("Refused a TLS connection from 127.0.0.1:", StringComparison.Ordinal), Timeout);
        Assert.Contains("not issued by the cluster's CA", entry.Message);
        Assert.Contains("CN=stranger", entry.Message);
    }

    [Fact]
    public Task A_server_certificate_from_another_CA_is_refused_by_the_client() =>
        AssertClientRefusesServerAsync(_certificates.Issue(_otherCa, "impostor", [IPAddress.Loopback]), _bothCas, "not issued by the cluster's CA");

    [Fact]
    public Task A_server_certificate_for_another_address_is_refused_by_the_client() =>
        // The cluster's CA signed it, but for 127.0.0.2: whoever holds it must not pass for the node at 127.0.0.1.
        AssertClientRefusesServerAsync(Node("elsewhere", Loopback2), _ca.Path, "does not name 127.0.0.1");

    [Fact]
    public Task A_client_only_certificate_cannot_serve() =>
        AssertClientRefusesServerAsync(Client("client-as-server", IPAddress.Loopback), _ca.Path, "not valid for this purpose");

    [Fact]
    public void Loading_reports_missing_files_keys_that_do_not_match_and_certificates_of_another_CA()
    {
        var node = Node("node", IPAddress.Loopback);
        var other = Node("other", IPAddress.Loopback);
        var absent = Path.Combine(_certificates.Directory, "absent.pem");

        var error = Assert.Throws<RayException>(() => ClusterTls.Load(absent, node.KeyPath, _ca.Path));
        Assert.Contains(absent, error.Message);
        Assert.Contains("--tls-cert", error.Message);

        error = Assert.Throws<RayException>(() => ClusterTls.Load(node.CertificatePath, absent, _ca.Path));
        Assert.Contains("--tls-key", error.Message);

        error = Assert.Throws<RayException>(() => ClusterTls.Load(node.CertificatePath, other.KeyPath, _ca.Path));
        Assert.Contains(node.CertificatePath, error.Message);
        Assert.Contains(other.KeyPath, error.Message);

        error = Assert.Throws<RayException>(() => ClusterTls.Load(node.CertificatePath, node.KeyPath, _otherCa.Path));
        Assert.Contains("does not chain to the CA", error.Message);
        Assert.Contains("not issued by the cluster's CA", error.Message);

        error = Assert.Throws<RayException>(() => ClusterTls.Load(node.CertificatePath, node.KeyPath, node.KeyPath));
        Assert.Contains("holds no certificate", error.Message);

        var expired = _certificates.Issue(_ca, "expired", [IPAddress.Loopback], notAfter: DateTimeOffset.UtcNow.AddMinutes(-1));
        error = Assert.Throws<RayException>(() => ClusterTls.Load(expired.CertificatePath, expired.KeyPath, _ca.Path));
        Assert.Contains("expired", error.Message);
    }

    [Fact]
    public void The_three_tls_flags_go_together()
    {
        var node = Node("node", IPAddress.Loopback);

        Assert.Null(ClusterCredentials.Create(_token, null, null, null).Tls);
        Assert.NotNull(ClusterCredentials.Create(_token, node.CertificatePath, node.KeyPath, _ca.Path).Tls);

        var error = Assert.Throws<RayException>(() => ClusterCredentials.Create(_token, node.CertificatePath, null, _ca.Path));
        Assert.Contains("--tls-key is missing", error.Message);
        error = Assert.Throws<RayException>(() => ClusterCredentials.Create(_token, null, null, _ca.Path));
        Assert.Contains("--tls-cert and --tls-key are missing", error.Message);
    }

    private static DateTime Deadline() => DateTime.UtcNow + Timeout;

    private static async Task AssertRefusedAsync(GrpcChannel channel)
    {
        var refused = await Assert.ThrowsAsync<RpcException>(
            () => new Echo.Echo.EchoClient(channel).UnaryAsync(new EchoMessage(), deadline: Deadline()).ResponseAsync);
        // Unavailable when the server ends the handshake, Internal when this side does.
        Assert.Contains(refused.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
    }

    /// <summary>A server at 127.0.0.1 with <paramref name="serverCertificate"/>: a client of the cluster's CA refuses it, and logs why.</summary>
    private async Task AssertClientRefusesServerAsync(TestCertificates.Issued serverCertificate, string serverAuthorities, string problem)
    {
        await using var server = await EchoServer.StartAsync(Credentials(serverCertificate, serverAuthorities));
        var logs = new CapturedLogs();
        using var channel = ClusterChannel.Create(server.Address, Credentials(Client("driver"), _ca.Path), logs);

        await AssertRefusedAsync(channel);
        var entry = await logs.WaitForAsync(e => e.Message.StartsWith("Refused the TLS certificate of the server at 127.0.0.1", StringComparison.Ordinal), Timeout);
        Assert.Contains(problem, entry.Message);
    }

    private TestCertificates.Issued Node(string name, IPAddress address) => _certificates.Issue(_ca, name, [address]);

    private TestCertificates.Issued Client(string name, params IPAddress[] addresses) => _certificates.Issue(_ca, name, addresses, server: false);

    private ClusterCredentials Credentials(TestCertificates.Issued issued, string authorities) =>
        new(_token, ClusterTls.Load(issued.CertificatePath, issued.KeyPath, authorities));
}
