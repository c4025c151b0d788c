using Grpc.Core;

namespace Ray.Transport;

/// <summary>
/// The cluster token as call metadata, for channels that do not add it themselves: a node's Unix socket, which its
/// workers and the drivers on its machine use (<see cref="ClusterChannel"/> adds it to every call over TCP).
/// </summary>
internal static class TokenMetadata
{
    /// <summary>The header the token travels in, as <see cref="ClusterTokenAuthenticator"/> reads it.</summary>
    public const string HeaderName = "authorization";

    public static Metadata For(string token) => new() { { HeaderName, "Bearer " + token } };
}
