using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ray.Runtime.Tests.Transport;

/// <summary>
/// Certificates made for a test: certificate authorities, and node and client certificates they issue with IP
/// subject alternative names (127.0.0.1, 127.0.0.2, …), written as PEM files into a temporary folder that is
/// deleted on dispose. ECDSA P-256 keys, which take microseconds to make where RSA takes tens of milliseconds.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    public TestCertificates()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("raygen-certs-").FullName;
    }

    /// <summary>The folder the PEM files are written to.</summary>
    public string Directory { get; }

    /// <summary>A self-signed root CA; its certificate is written to <c>name.crt</c>.</summary>
    public Authority CreateAuthority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2));
        var path = Path.Combine(Directory, $"{name}.crt");
        File.WriteAllText(path, certificate.ExportCertificatePem());
        return new Authority(certificate, path);
    }

    /// <summary>
    /// A certificate <paramref name="issuer"/> signs, written to <c>name.crt</c> and <c>name.key</c> (PKCS#8). A node
    /// certificate is good for both ends of a connection (serverAuth and clientAuth); a client one only connects.
    /// </summary>
    public Issued Issue(Authority issuer, string name, IPAddress[] addresses, bool server = true, bool client = true, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        var usages = new OidCollection();
        if (server)
        {
            usages.Add(ServerAuthentication);
        }

        if (client)
        {
            usages.Add(ClientAuthentication);
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, critical: false));
        var names = new SubjectAlternativeNameBuilder();
        foreach (var address in addresses)
        {
            names.AddIpAddress(address);
        }

        if (addresses.Length > 0)
        {
            request.CertificateExtensions.Add(names.Build());
        }

        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer.Certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f; // a positive serial number
        using var certificate = request.Create(issuer.Certificate, DateTimeOffset.UtcNow.AddMinutes(-5), notAfter ?? DateTimeOffset.UtcNow.AddDays(1), serial);
        var certificatePath = Path.Combine(Directory, $"{name}.crt");
        var keyPath = Path.Combine(Directory, $"{name}.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return new Issued(certificatePath, keyPath);
    }

    /// <summary>One CA file that holds several authorities, as a cluster in the middle of changing its CA would use.</summary>
    public string Bundle(string name, params Authority[] authorities)
    {
        var path = Path.Combine(Directory, $"{name}.crt");
        File.WriteAllText(path, string.Concat(authorities.Select(a => a.Certificate.ExportCertificatePem() + "\n")));
        return path;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    /// <summary>A CA: its certificate (with its key, to sign) and the PEM file that holds the certificate.</summary>
    internal sealed record Authority(X509Certificate2 Certificate, string Path);

    /// <summary>The PEM files of an issued certificate and its key.</summary>
    internal sealed record Issued(string CertificatePath, string KeyPath);
}
