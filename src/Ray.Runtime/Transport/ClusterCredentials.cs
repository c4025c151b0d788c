namespace Ray.Transport;

/// <summary>
/// What a process needs to talk to the rest of a cluster: the cluster's token, always, and the node's TLS
/// certificate when the cluster runs mutual TLS. Without <see cref="Tls"/> calls go over plain HTTP/2 (h2c) and the
/// token travels in the clear: anyone who can watch the network can read it, so a cluster on a network shared with
/// others needs TLS.
/// </summary>
/// <param name="Token">The cluster's token, sent on every call and required on every call received.</param>
/// <param name="Tls">The certificate, its key and the cluster's CA; null for plain HTTP/2.</param>
internal sealed record ClusterCredentials(ClusterToken Token, ClusterTls? Tls = null)
{
    /// <summary>
    /// Credentials from the command line's <c>--tls-cert</c>, <c>--tls-key</c> and <c>--tls-ca</c>, which go together:
    /// all three load the TLS material, none means plain HTTP/2.
    /// </summary>
    /// <exception cref="RayException">Only some of the three are given, or the files are missing or do not match.</exception>
    public static ClusterCredentials Create(ClusterToken token, string? certificatePath, string? keyPath, string? authorityPath)
    {
        ArgumentNullException.ThrowIfNull(token);
        string?[] paths = [certificatePath, keyPath, authorityPath];
        if (paths.All(string.IsNullOrEmpty))
        {
            return new ClusterCredentials(token);
        }

        string[] flags = ["--tls-cert", "--tls-key", "--tls-ca"];
        var missing = flags.Where((_, i) => string.IsNullOrEmpty(paths[i])).ToArray();
        if (missing.Length > 0)
        {
            throw new RayException($"--tls-cert, --tls-key and --tls-ca go together; {string.Join(" and ", missing)} {(missing.Length == 1 ? "is" : "are")} missing.");
        }

        return new ClusterCredentials(token, ClusterTls.Load(certificatePath!, keyPath!, authorityPath!));
    }
}
