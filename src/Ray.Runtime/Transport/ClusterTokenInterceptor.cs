using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Ray.Transport;

/// <summary>
/// Refuses every gRPC call (unary and streaming alike) that does not carry the cluster's token, with
/// <see cref="StatusCode.Unauthenticated"/> and a message that says whether the token was missing or wrong. The check
/// runs before the service's method, so a refused stream never reaches it.
/// </summary>
/// <remarks>Registered as a singleton (see <see cref="ClusterTokenAuthentication"/>), so a call allocates nothing for it.</remarks>
internal sealed class ClusterTokenInterceptor(ClusterTokenAuthenticator authenticator) : Interceptor
{
    /// <inheritdoc />
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    /// <inheritdoc />
    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }

    /// <inheritdoc />
    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    /// <inheritdoc />
    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Check(ServerCallContext context)
    {
        if (authenticator.Refusal(context.GetHttpContext()) is { } refusal)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, refusal));
        }
    }
}
