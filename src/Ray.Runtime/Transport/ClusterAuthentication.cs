using System.Security.Cryptography;
using System.Text;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace Ray.Transport;

/// <summary>
/// The cluster token on every call: a server-side interceptor that refuses a call without <c>authorization: Bearer …</c>
/// or with a wrong token (UNAUTHENTICATED, saying which), logging the refusal with the peer's address. Nodes, drivers,
/// the CLI and workers all send it; the token itself never appears in a message or a log.
/// </summary>
internal sealed class ClusterAuthentication : Interceptor
{
    /// <summary>The metadata key the token travels under.</summary>
    public const string HeaderName = "authorization";

    /// <summary>The environment variable the raylet gives its workers the token in (readable by the same user only).</summary>
    public const string TokenVariable = "RAYGEN_AUTH_TOKEN";

    private const string Scheme = "Bearer ";

    private readonly byte[] _expected;
    private readonly ILogger _logger;

    public ClusterAuthentication(string token, ILogger logger)
    {
        _expected = Encoding.UTF8.GetBytes(token);
        _logger = logger;
    }

    /// <summary>The header value for <paramref name="token"/>.</summary>
    public static string HeaderValue(string token) => Scheme + token;

    /// <summary>Registers the interceptor for every gRPC service of the host.</summary>
    public static void AddTo(GrpcServiceOptions options) => options.Interceptors.Add<ClusterAuthentication>();

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Check(ServerCallContext context)
    {
        var header = context.RequestHeaders.GetValue(HeaderName);
        string? problem = null;
        if (header is null || !header.StartsWith(Scheme, StringComparison.Ordinal) || header.Length == Scheme.Length)
        {
            problem = "missing";
        }
        else if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[Scheme.Length..]), _expected))
        {
            problem = "wrong";
        }

        if (problem is null)
        {
            return;
        }

        var peer = context.GetHttpContext().Connection.RemoteIpAddress?.ToString() ?? context.Peer;
        _logger.LogWarning("Refused a call to {Method} from {Peer}: the cluster token is {Problem}.", context.Method, peer, problem);
        throw new RpcException(new Status(
            StatusCode.Unauthenticated,
            $"The cluster token is {problem}. Give the cluster's token with --auth-token, RAYGEN_AUTH_TOKEN or RayOptions.AuthToken; " +
            "on the head's machine, 'raygen start --head' wrote it to its token file."));
    }
}
