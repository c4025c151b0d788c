using Grpc.Core;

namespace Ray.Transport;

/// <summary>What a failed call to another process of the cluster means for the user.</summary>
internal static class ClusterErrors
{
    /// <summary>An exception that says what went wrong talking to <paramref name="peer"/>, from a gRPC status.</summary>
    public static RayException FromRpc(RpcException e, string peer) => e.StatusCode switch
    {
        StatusCode.Unauthenticated => new RayException($"{Capitalize(peer)} refused the call: {e.Status.Detail}", e),
        StatusCode.Unavailable => new RayException(
            $"Could not reach {peer}: {e.Status.Detail}. Is the cluster running (raygen status), and is the address right?", e),
        StatusCode.FailedPrecondition => new RayException($"{Capitalize(peer)} refused: {e.Status.Detail}", e),
        _ => new RayException($"A call to {peer} failed with {e.StatusCode}: {e.Status.Detail}", e),
    };

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
