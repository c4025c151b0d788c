using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using Ray.Logging;

namespace Ray.Transport;

/// <summary>
/// Mutual TLS inside a cluster: this process's certificate and key, and the cluster's own CA, which is the only
/// authority trusted on either side (the machine's trust store plays no part: a certificate a public CA issued to
/// anyone must not let them into the cluster).
/// </summary>
/// <remarks>
/// <para>
/// Which name a certificate must carry: nodes bind to IP addresses (<c>--node-ip-address</c>) and are dialled as
/// <c>ip:port</c>, so a node's certificate carries its IP address as an IP subject alternative name (and a DNS name
/// too where nodes are dialled by name). A client checks the server's certificate against the host it dialled, as
/// HTTPS does, so a certificate stolen from one node does not let its holder pose as another. A server does not
/// check names in a client's certificate: drivers and the CLI connect from any address, and the CA's signature is
/// what admits them (the token is checked on every call besides).
/// </para>
/// <para>
/// Certificates are checked for their purpose: a server's needs the serverAuth extended key usage, a client's
/// clientAuth (a node is both, so its certificate carries both). Revocation is not checked: a cluster CA publishes
/// no revocation list; revoke by replacing the CA.
/// </para>
/// </remarks>
internal sealed class ClusterTls
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    private readonly SslStreamCertificateContext _context;

    private ClusterTls(string certificatePath, X509Certificate2 certificate, X509Certificate2Collection roots, X509Certificate2Collection intermediates)
    {
        CertificatePath = certificatePath;
        Certificate = certificate;
        Roots = roots;
        Intermediates = intermediates;

        // Built once: the context holds the chain this side sends in every handshake.
        _context = SslStreamCertificateContext.Create(certificate, intermediates, offline: true);
    }

    /// <summary>Where the certificate came from, for messages.</summary>
    public string CertificatePath { get; }

    /// <summary>This process's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The cluster's root CAs: the only trust anchors.</summary>
    public X509Certificate2Collection Roots { get; }

    /// <summary>Intermediate CAs from the CA file, used to build chains but not trusted on their own.</summary>
    public X509Certificate2Collection Intermediates { get; }

    /// <summary>
    /// Loads PEM files: the certificate, its private key (PKCS#8, or PKCS#1/SEC1) and the CA file (the cluster's root
    /// CA, and any intermediates). The certificate is checked against the CA at once, so a mismatch shows up when the
    /// node starts rather than as refused handshakes later.
    /// </summary>
    /// <exception cref="RayException">A file is missing or malformed, the key does not match, or the CA did not issue the certificate.</exception>
    public static ClusterTls Load(string certificatePath, string keyPath, string authorityPath)
    {
        RequireFile(certificatePath, "--tls-cert", "certificate");
        RequireFile(keyPath, "--tls-key", "private key");
        RequireFile(authorityPath, "--tls-ca", "CA certificate");

        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            // ArgumentException: both are PEM but the key is another certificate's.
            throw new RayException($"The TLS certificate {certificatePath} and key {keyPath} cannot be used together: {e.Message}", e);
        }

        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(authorityPath);
        }
        catch (CryptographicException e)
        {
            throw new RayException($"The CA file {authorityPath} is not a PEM certificate file: {e.Message}", e);
        }

        if (authorities.Count == 0)
        {
            throw new RayException($"The CA file {authorityPath} holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----).");
        }

        var roots = new X509Certificate2Collection();
        var intermediates = new X509Certificate2Collection();
        foreach (var authority in authorities)
        {
            (authority.SubjectName.RawData.AsSpan().SequenceEqual(authority.IssuerName.RawData) ? roots : intermediates).Add(authority);
        }

        if (roots.Count == 0)
        {
            throw new RayException($"The CA file {authorityPath} holds no root (self-signed) CA certificate, only intermediates.");
        }

        var tls = new ClusterTls(certificatePath, certificate, roots, intermediates);
        if (tls.ChainProblem(certificate, presented: null, purpose: null) is { } problem)
        {
            throw new RayException($"The TLS certificate {certificatePath} does not chain to the CA in {authorityPath}: {problem}.");
        }

        return tls;
    }

    /// <summary>
    /// Makes <paramref name="listen"/> a mutual-TLS HTTP/2 endpoint: it presents this certificate, requires a client
    /// certificate issued by the cluster's CA, and offers only <c>h2</c> in ALPN. A refused client is logged with its
    /// address.
    /// </summary>
    public void ConfigureServer(ListenOptions listen, ILogger logger)
    {
        listen.Protocols = HttpProtocols.Http2;

        // The per-connection callback (rather than HttpsConnectionAdapterOptions.ClientCertificateValidation) is what
        // lets a refusal name the peer: the validation callback there is given no connection.
        listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            OnConnection = context =>
            {
                var peer = context.Connection.RemoteEndPoint?.ToString() ?? "an unknown peer";
                return ValueTask.FromResult(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = _context,
                    ClientCertificateRequired = true,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    ApplicationProtocols = [SslApplicationProtocol.Http2],
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    RemoteCertificateValidationCallback = Refusing(
                        (client, chain) => ChainProblem(client, chain, ClientAuthentication),
                        "it presented no client certificate",
                        problem => logger.CertificateRefused(peer, problem)),
                });
            },
        });
    }

    /// <summary>
    /// The client side of a handshake with the server at <paramref name="host"/> (the IP address or name dialled):
    /// this certificate goes with every connection, and the server's must be issued by the cluster's CA for
    /// serverAuth and name <paramref name="host"/>. A refused server is logged, and the handshake fails with an
    /// <see cref="AuthenticationException"/> that says why, so that the reason reaches whoever made the call (a
    /// validation callback that only returns false leaves the caller a bare "the remote certificate was rejected").
    /// </summary>
    public SslClientAuthenticationOptions ClientOptions(string host, ILogger logger) => new()
    {
        TargetHost = host,
        ClientCertificateContext = _context,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        RemoteCertificateValidationCallback = Refusing(
            (server, chain) => ServerProblem(server, chain, host),
            "it presented no certificate",
            problem =>
            {
                logger.ServerCertificateRefused(host, problem);
                throw new AuthenticationException($"This side refused the TLS certificate of the server at {host}: {problem}.");
            }),
    };

    /// <summary>Why the server certificate <paramref name="certificate"/> must be refused for <paramref name="host"/>; null when it is good.</summary>
    public string? ServerProblem(X509Certificate2 certificate, X509Chain? presented, string host)
    {
        if (ChainProblem(certificate, presented, ServerAuthentication) is { } problem)
        {
            return problem;
        }

        // allowCommonName: false, as browsers do: a name counts only in the subject alternative names.
        return certificate.MatchesHostname(host, allowWildcards: true, allowCommonName: false)
            ? null
            : $"the certificate does not name {host} in its subject alternative names (a node's certificate needs its IP address as an IP SAN)";
    }

    /// <summary>
    /// A validation callback that accepts a peer's certificate when <paramref name="problemOf"/> finds nothing wrong
    /// with it, and otherwise tells <paramref name="refuse"/> why before refusing it.
    /// </summary>
    private static RemoteCertificateValidationCallback Refusing(
        Func<X509Certificate2, X509Chain?, string?> problemOf, string noCertificate, Action<string> refuse) =>
        (_, certificate, chain, _) =>
        {
            var problem = certificate is X509Certificate2 presented ? problemOf(presented, chain) : noCertificate;
            if (problem is null)
            {
                return true;
            }

            refuse(problem);
            return false;
        };

    /// <summary>
    /// Why <paramref name="certificate"/> does not chain to the cluster's root CA (for <paramref name="purpose"/> when
    /// given), or null when it does. The operating system's policy errors are ignored on purpose: they come from the
    /// machine's trust store, which does not know the cluster's CA.
    /// </summary>
    private string? ChainProblem(X509Certificate2 certificate, X509Chain? presented, Oid? purpose)
    {
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(Roots);
        policy.ExtraStore.AddRange(Intermediates);
        if (presented is not null)
        {
            // The intermediates the peer sent in its handshake.
            policy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
        }

        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        if (purpose is not null)
        {
            policy.ApplicationPolicy.Add(purpose);
        }

        if (chain.Build(certificate))
        {
            return null;
        }

        var statuses = chain.ChainStatus.Select(s => s.Status).Where(s => s != X509ChainStatusFlags.NoError).Select(Describe).Distinct().ToArray();
        return $"{(statuses.Length > 0 ? string.Join(", ", statuses) : "no chain to the cluster's CA")} (subject {certificate.Subject})";
    }

    private static string Describe(X509ChainStatusFlags status) => status switch
    {
        X509ChainStatusFlags.UntrustedRoot or X509ChainStatusFlags.PartialChain => "not issued by the cluster's CA",
        X509ChainStatusFlags.NotTimeValid => "expired or not yet valid",
        X509ChainStatusFlags.NotValidForUsage => "not valid for this purpose (serverAuth or clientAuth extended key usage)",
        X509ChainStatusFlags.NotSignatureValid => "its signature is not valid",
        _ => status.ToString(),
    };

    private static void RequireFile(string path, string flag, string what)
    {
        if (!File.Exists(path))
        {
            throw new RayException($"The TLS {what} file {path} ({flag}) does not exist.");
        }
    }
}
