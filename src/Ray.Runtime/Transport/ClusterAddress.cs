using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Ray.Transport;

/// <summary>
/// A node's address as users write it and nodes report it: <c>host:port</c>, where the host is an IPv4 address, a
/// bracketed IPv6 address (<c>[::1]:6380</c>) or a DNS name.
/// </summary>
/// <param name="Host">The IP address or name, without brackets.</param>
/// <param name="Port">The TCP port, 1 to 65535.</param>
internal readonly record struct ClusterAddress(string Host, int Port)
{
    /// <summary>Parses <c>host:port</c>.</summary>
    /// <exception cref="RayException">The text is not <c>host:port</c>; the message shows the expected form.</exception>
    public static ClusterAddress Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var address)
            ? address
            : throw new RayException($"'{text}' is not a node address: expected HOST:PORT, for example 10.0.0.1:6380 or [fd00::1]:6380.");
    }

    /// <summary>Parses <c>host:port</c>; false when the text is not one.</summary>
    public static bool TryParse(string text, out ClusterAddress address)
    {
        address = default;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return false;
        }

        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return false;
            }
        }
        else if (host.Contains(':') || Uri.CheckHostName(host) is not (UriHostNameType.IPv4 or UriHostNameType.Dns))
        {
            // An IPv6 address needs its brackets, or its last group would read as the port.
            return false;
        }

        address = new ClusterAddress(host, port);
        return true;
    }

    /// <summary>The URI a gRPC channel dials: <c>https</c> with TLS, <c>http</c> (HTTP/2 with prior knowledge) without.</summary>
    public Uri ToUri(bool tls) => new UriBuilder(tls ? Uri.UriSchemeHttps : Uri.UriSchemeHttp, Host, Port).Uri;

    /// <summary>The address as it was written: <c>host:port</c>, IPv6 in brackets.</summary>
    public override string ToString() =>
        Host.Contains(':') ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}" : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";
}
