using System.Net;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Ray.Logging;
using Ray.Runtime.Tests.Transport.Echo;
using Ray.Transport;
using Xunit;

namespace Ray.Runtime.Tests.Transport;

/// <summary>
/// The cluster token on plain HTTP/2 (no TLS): every kind of gRPC call passes with the right token and is refused
/// with UNAUTHENTICATED, a message saying what was wrong, and a log line naming the peer without it; HTTP endpoints
/// answer 401 the same way.
/// </summary>
public sealed class TokenAuthenticationTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = EchoServer.Timeout;

    private readonly ClusterToken _token = ClusterToken.Generate();
    private readonly ClusterToken _otherToken = ClusterToken.Generate();
    private EchoServer _server = null!;

    public async Task InitializeAsync() => _server = await EchoServer.StartAsync(new ClusterCredentials(_token));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task The_right_token_passes_on_every_kind_of_call()
    {
        using var channel = ClusterChannel.Create(_server.Address, new ClusterCredentials(_token));
        var client = new Echo.Echo.EchoClient(channel);

        var unary = await client.UnaryAsync(new EchoMessage { Text = "one" }, deadline: Deadline());
        Assert.Equal("one", unary.Text);
        Assert.Equal("", unary.ClientCertificate);

        using (var call = client.ClientStream(deadline: Deadline()))
        {
            await call.RequestStream.WriteAsync(new EchoMessage { Text = "a" });
            await call.RequestStream.WriteAsync(new EchoMessage { Text = "b" });
            await call.RequestStream.CompleteAsync();
            Assert.Equal("a,b", (await call.ResponseAsync).Text);
        }

        using (var call = client.ServerStream(new EchoMessage { Text = "s" }, deadline: Deadline()))
        {
            Assert.Equal(["s0", "s1", "s2"], await call.ResponseStream.ReadAllAsync().Select(m => m.Text).ToArrayAsync());
        }

        Assert.Equal(["d1", "d2"], await DuplexAsync(client, "d1", "d2"));
        Assert.DoesNotContain(_server.Logs.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task A_call_without_a_token_is_refused_as_missing_and_logged_with_the_peer()
    {
        using var channel = GrpcChannel.ForAddress($"http://{_server.Address}");
        var client = new Echo.Echo.EchoClient(channel);

        var unary = await Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync(new EchoMessage(), deadline: Deadline()).ResponseAsync);
        var duplex = await RefusedDuplexAsync(client);

        foreach (var refused in new[] { unary, duplex })
        {
            Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
            Assert.Equal(ClusterTokenAuthenticator.MissingMessage, refused.Status.Detail);
        }

        Assert.Contains("missing", ClusterTokenAuthenticator.MissingMessage);
        Assert.Contains("RAYGEN_AUTH_TOKEN", ClusterTokenAuthenticator.MissingMessage);
        Assert.Contains("--auth-token", ClusterTokenAuthenticator.MissingMessage);
        Assert.Contains("token file", ClusterTokenAuthenticator.MissingMessage);
        AssertRefusalsLogged("missing", "/raygen.tests.echo.Echo/Unary", "/raygen.tests.echo.Echo/Duplex");
    }

    [Fact]
    public async Task A_call_with_another_token_is_refused_as_wrong_and_logged_with_the_peer()
    {
        using var channel = ClusterChannel.Create(_server.Address, new ClusterCredentials(_otherToken));
        var client = new Echo.Echo.EchoClient(channel);

        var unary = await Assert.ThrowsAsync<RpcException>(() => client.UnaryAsync(new EchoMessage(), deadline: Deadline()).ResponseAsync);
        var duplex = await RefusedDuplexAsync(client);
        using var stream = client.ServerStream(new EchoMessage(), deadline: Deadline());
        var serverStreaming = await Assert.ThrowsAsync<RpcException>(() => stream.ResponseStream.MoveNext());

        foreach (var refused in new[] { unary, duplex, serverStreaming })
        {
            Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
            Assert.Equal(ClusterTokenAuthenticator.WrongMessage, refused.Status.Detail);
        }

        Assert.Contains("wrong", ClusterTokenAuthenticator.WrongMessage);
        AssertRefusalsLogged("wrong", "/raygen.tests.echo.Echo/Unary", "/raygen.tests.echo.Echo/Duplex", "/raygen.tests.echo.Echo/ServerStream");
        AssertNoTokenAnywhere([unary, duplex, serverStreaming]);
    }

    [Theory]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("Bearer")]
    [InlineData("bearer short")]
    public async Task Authorization_that_is_not_the_bearer_token_is_refused_as_wrong(string authorization)
    {
        using var channel = GrpcChannel.ForAddress($"http://{_server.Address}");
        var client = new Echo.Echo.EchoClient(channel);

        var refused = await Assert.ThrowsAsync<RpcException>(
            () => client.UnaryAsync(new EchoMessage(), new Metadata { { "authorization", authorization } }, Deadline()).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal(ClusterTokenAuthenticator.WrongMessage, refused.Status.Detail);
    }

    [Fact]
    public async Task The_bearer_scheme_is_case_insensitive_and_the_token_is_not()
    {
        using var channel = GrpcChannel.ForAddress($"http://{_server.Address}");
        var client = new Echo.Echo.EchoClient(channel);

        var reply = await client.UnaryAsync(new EchoMessage { Text = "ok" }, new Metadata { { "authorization", $"bearer {_token.Value}" } }, Deadline());
        Assert.Equal("ok", reply.Text);

        var refused = await Assert.ThrowsAsync<RpcException>(
            () => client.UnaryAsync(new EchoMessage(), new Metadata { { "authorization", $"Bearer {_token.Value.ToUpperInvariant()}" } }, Deadline()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }

    [Fact]
    public async Task A_message_larger_than_Kestrels_default_body_limit_passes()
    {
        using var channel = ClusterChannel.Create(_server.Address, new ClusterCredentials(_token));
        var client = new Echo.Echo.EchoClient(channel);
        var payload = ByteString.CopyFrom(new byte[40_000_000]);

        var reply = await client.UnaryAsync(new EchoMessage { Payload = payload }, deadline: Deadline());

        Assert.Equal(payload.Length, reply.Payload.Length);
    }

    [Fact]
    public async Task An_http_endpoint_answers_401_with_the_same_messages()
    {
        using var http = new HttpClient(new SocketsHttpHandler())
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = Timeout,
        };
        var uri = new Uri($"http://{_server.Address}/status");

        using var missing = await http.GetAsync(uri);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("Bearer", missing.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(ClusterTokenAuthenticator.MissingMessage, await missing.Content.ReadAsStringAsync());

        using var wrongRequest = new HttpRequestMessage(HttpMethod.Get, uri) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact, Headers = { { "Authorization", $"Bearer {_otherToken.Value}" } } };
        using var wrong = await http.SendAsync(wrongRequest);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(ClusterTokenAuthenticator.WrongMessage, await wrong.Content.ReadAsStringAsync());

        using var rightRequest = new HttpRequestMessage(HttpMethod.Get, uri) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact, Headers = { { "Authorization", $"Bearer {_token.Value}" } } };
        using var right = await http.SendAsync(rightRequest);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);

        // A path that matches no endpoint is refused too, rather than answering 404 to strangers.
        using var unknown = await http.GetAsync(new Uri($"http://{_server.Address}/nothing-here"));
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);

        AssertRefusalsLogged("missing", "/status", "/nothing-here");
        AssertRefusalsLogged("wrong", "/status");
    }

    private static DateTime Deadline() => DateTime.UtcNow + Timeout;

    /// <summary>
    /// A duplex call the server refuses, written to and read as a caller does: the refusal, from the write or else from the read. The write fails with
    /// the refusal's status once the client has it, but with Cancelled when the refusal has reset the stream before the
    /// client read that status (grpc-dotnet has nothing better to report then); the read reports it in that case.
    /// </summary>
    private static async Task<RpcException> RefusedDuplexAsync(Echo.Echo.EchoClient client)
    {
        using var call = client.Duplex(deadline: Deadline());
        try
        {
            await call.RequestStream.WriteAsync(new EchoMessage { Text = "x" });
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
        {
            return e;
        }
        catch (RpcException)
        {
            // Only the reset so far: the refusal's status comes with the response.
        }

        return await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext().WaitAsync(Timeout));
    }

    private static async Task<string[]> DuplexAsync(Echo.Echo.EchoClient client, params string[] texts)
    {
        using var call = client.Duplex(deadline: Deadline());
        var replies = new List<string>();
        foreach (var text in texts)
        {
            await call.RequestStream.WriteAsync(new EchoMessage { Text = text });
            Assert.True(await call.ResponseStream.MoveNext().WaitAsync(Timeout));
            replies.Add(call.ResponseStream.Current.Text);
        }

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext().WaitAsync(Timeout));
        return [.. replies];
    }

    private void AssertRefusalsLogged(string problem, params string[] methods)
    {
        foreach (var method in methods)
        {
            var entry = Assert.Single(_server.Logs.Entries, e => e.Message.StartsWith($"Refused {method} from", StringComparison.Ordinal) && e.Message.EndsWith($"is {problem}.", StringComparison.Ordinal));
            Assert.Equal(LogLevel.Warning, entry.Level);
            Assert.Equal(LogCategories.Transport, entry.Category);
            Assert.Matches(new Regex(@"^127\.0\.0\.1:\d+$"), (string)entry.Values.Single(v => v.Key == "Peer").Value!);
        }
    }

    private void AssertNoTokenAnywhere(IEnumerable<Exception> errors)
    {
        var text = _server.Logs.AllText() + string.Concat(errors.Select(e => e.ToString()));
        Assert.DoesNotContain(_token.Value, text);
        Assert.DoesNotContain(_otherToken.Value, text);
    }
}
