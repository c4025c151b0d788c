using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Ray.Transport;

/// <summary>Puts the cluster-token check in front of a host's gRPC services and HTTP endpoints.</summary>
internal static class ClusterTokenAuthentication
{
    /// <summary>
    /// Makes every gRPC service of the host require <paramref name="token"/>, whether <c>AddGrpc</c> is called before
    /// or after this. Refusals are logged to <paramref name="logger"/>, RayGen's own logger, not the host's: hosts
    /// inside RayGen route framework logs elsewhere or nowhere (see <c>EmbeddedHost</c>), and a refused call must
    /// always be visible.
    /// </summary>
    public static IServiceCollection AddClusterTokenAuthentication(this IServiceCollection services, ClusterToken token, ILogger logger)
    {
        services.AddSingleton(new ClusterTokenAuthenticator(token, logger));
        services.AddSingleton<ClusterTokenInterceptor>();
        services.Configure<GrpcServiceOptions>(o => o.Interceptors.Add<ClusterTokenInterceptor>());
        return services;
    }

    /// <summary>
    /// Requires the token on the host's HTTP endpoints (a dashboard, say) with 401 and the same messages as gRPC.
    /// gRPC methods are left to the interceptor, which answers in gRPC's terms (UNAUTHENTICATED): a gRPC client cannot
    /// read a plain 401. Which endpoint a request reaches is decided by routing, not by anything the caller sends, so
    /// a request cannot skip the check by posing as gRPC. A request that matches no endpoint is checked too.
    /// Needs <see cref="AddClusterTokenAuthentication"/>, and routing before it: a <see cref="WebApplication"/> routes
    /// first by itself, another pipeline calls <c>UseRouting</c> before this.
    /// </summary>
    public static IApplicationBuilder UseClusterTokenAuthentication(this IApplicationBuilder app)
    {
        var authenticator = app.ApplicationServices.GetRequiredService<ClusterTokenAuthenticator>();
        return app.Use((context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is not null)
            {
                return next(context);
            }

            if (authenticator.Refusal(context) is not { } refusal)
            {
                return next(context);
            }

            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers[HeaderNames.WWWAuthenticate] = "Bearer";
            context.Response.ContentType = "text/plain; charset=utf-8";
            return context.Response.WriteAsync(refusal);
        });
    }
}
