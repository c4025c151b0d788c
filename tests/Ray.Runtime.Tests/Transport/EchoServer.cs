using System.Net;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ray.Hosting;
using Ray.Logging;
using Ray.Runtime.Tests.Transport.Echo;
using Ray.Transport;

namespace Ray.Runtime.Tests.Transport;

/// <summary>
/// A real Kestrel server on a loopback address and a free port, set up as a cluster endpoint is (token check,
/// cluster limits, TLS when the credentials have it), serving <see cref="Echo"/> and one plain HTTP endpoint,
/// <c>/status</c>, behind the token middleware.
/// </summary>
internal sealed class EchoServer : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly WebApplication _app;

    private EchoServer(WebApplication app, CapturedLogs logs, string address)
    {
        _app = app;
        Logs = logs;
        Address = address;
    }

    /// <summary>What the server logged under RayGen's categories.</summary>
    public CapturedLogs Logs { get; }

    /// <summary>The server's <c>host:port</c>.</summary>
    public string Address { get; }

    public static async Task<EchoServer> StartAsync(ClusterCredentials credentials, IPAddress? address = null)
    {
        var logs = new CapturedLogs();
        var logger = logs.CreateLogger(LogCategories.Transport);
        var builder = WebApplication.CreateSlimBuilder();
        EmbeddedHost.Configure(builder, logs, LogLevel.None);
        builder.Services.AddClusterGrpc(credentials.Token, logger);
        ClusterServer.Listen(builder.WebHost, new IPEndPoint(address ?? IPAddress.Loopback, 0), credentials, logger);
        var app = builder.Build();
        app.UseClusterTokenAuthentication();
        app.MapGrpcService<EchoService>();
        app.MapGet("/status", () => "ok");
        using var timeout = new CancellationTokenSource(Timeout);
        await app.StartAsync(timeout.Token);
        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        return new EchoServer(app, logs, $"{bound.Host}:{bound.Port}");
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }

    /// <summary>Answers every message with itself, and says which client certificate the connection has.</summary>
    internal sealed class EchoService : Echo.Echo.EchoBase
    {
        public override Task<EchoMessage> Unary(EchoMessage request, ServerCallContext context) => Task.FromResult(Reply(request, context));

        public override async Task<EchoMessage> ClientStream(IAsyncStreamReader<EchoMessage> requestStream, ServerCallContext context)
        {
            var texts = new List<string>();
            await foreach (var message in requestStream.ReadAllAsync(context.CancellationToken))
            {
                texts.Add(message.Text);
            }

            return Reply(new EchoMessage { Text = string.Join(",", texts) }, context);
        }

        public override async Task ServerStream(EchoMessage request, IServerStreamWriter<EchoMessage> responseStream, ServerCallContext context)
        {
            for (var i = 0; i < 3; i++)
            {
                await responseStream.WriteAsync(Reply(new EchoMessage { Text = $"{request.Text}{i}" }, context));
            }
        }

        public override async Task Duplex(IAsyncStreamReader<EchoMessage> requestStream, IServerStreamWriter<EchoMessage> responseStream, ServerCallContext context)
        {
            await foreach (var message in requestStream.ReadAllAsync(context.CancellationToken))
            {
                await responseStream.WriteAsync(Reply(message, context));
            }
        }

        private static EchoMessage Reply(EchoMessage request, ServerCallContext context) => new()
        {
            Text = request.Text,
            Payload = request.Payload,
            ClientCertificate = context.GetHttpContext().Connection.ClientCertificate?.Subject ?? "",
        };
    }
}
