using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Ray.Runtime.Tests.Transport.Echo;
using Ray.Transport;
using Xunit;

namespace Ray.Runtime.Tests.Transport;

/// <summary>Node addresses, and what a channel says when nothing answers at one.</summary>
public sealed class ClusterChannelTests
{
    private static readonly TimeSpan Timeout = EchoServer.Timeout;

    [Theory]
    [InlineData("10.0.0.1:6380", "10.0.0.1", 6380)]
    [InlineData("[::1]:6380", "::1", 6380)]
    [InlineData("head.example:1", "head.example", 1)]
    [InlineData("localhost:65535", "localhost", 65535)]
    public void An_address_is_host_colon_port(string text, string host, int port)
    {
        var address = ClusterAddress.Parse(text);

        Assert.Equal(new ClusterAddress(host, port), address);
        Assert.Equal(text, address.ToString());
    }

    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("10.0.0.1:")]
    [InlineData(":6380")]
    [InlineData("10.0.0.1:0")]
    [InlineData("10.0.0.1:65536")]
    [InlineData("10.0.0.1:+80")]
    [InlineData("::1:6380")]
    [InlineData("[::1]")]
    [InlineData("[10.0.0.1]:6380")]
    [InlineData("http://10.0.0.1:6380")]
    [InlineData("bad host:6380")]
    public void A_malformed_address_is_refused_with_the_expected_form(string text)
    {
        var error = Assert.Throws<RayException>(() => ClusterChannel.Create(text, new ClusterCredentials(ClusterToken.Generate())));

        Assert.Contains($"'{text}'", error.Message);
        Assert.Contains("HOST:PORT", error.Message);
    }

    [Fact]
    public void The_uri_has_the_scheme_of_the_transport()
    {
        Assert.Equal("http://10.0.0.1:6380/", new ClusterAddress("10.0.0.1", 6380).ToUri(tls: false).ToString());
        Assert.Equal("https://[::1]:6380/", new ClusterAddress("::1", 6380).ToUri(tls: true).ToString());
    }

    [Fact]
    public async Task Connecting_where_nothing_listens_fails_at_once_with_the_address()
    {
        var address = $"127.0.0.1:{FreePort()}";
        using var channel = ClusterChannel.Create(address, new ClusterCredentials(ClusterToken.Generate()));
        var watch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<RayException>(() => ClusterChannel.ConnectAsync(channel, address, Timeout).WaitAsync(Timeout * 2));

        Assert.Contains(address, error.Message);
        Assert.Contains("Cannot reach", error.Message);
        Assert.True(watch.Elapsed < Timeout / 2, $"It took {watch.Elapsed} to report a refused connection.");
    }

    [Fact]
    public async Task Connecting_to_a_node_succeeds_and_calls_follow()
    {
        var credentials = new ClusterCredentials(ClusterToken.Generate());
        await using var server = await EchoServer.StartAsync(credentials);
        using var channel = ClusterChannel.Create(server.Address, credentials);

        await ClusterChannel.ConnectAsync(channel, server.Address, Timeout);

        var reply = await new Echo.Echo.EchoClient(channel).UnaryAsync(new EchoMessage { Text = "hi" }, deadline: DateTime.UtcNow + Timeout);
        Assert.Equal("hi", reply.Text);
    }

    /// <summary>A port nothing listens on: bound and released at once, so a connection to it is refused.</summary>
    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
