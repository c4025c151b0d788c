using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;

namespace Ray.Transport;

/// <summary>
/// The TCP connections of this project's own protocols on a node's cluster port (the object stream, the links between
/// raylets): without Nagle's delay, with keepalive on both ends, inside TLS when the cluster has it.
/// </summary>
internal static class ClusterConnections
{
    /// <summary>
    /// Opens a connection to <paramref name="address"/> (<c>host:port</c>) within <paramref name="timeout"/>; the
    /// stream owns the socket.
    /// </summary>
    /// <exception cref="IOException">It could not connect, in time or at all, or the TLS handshake failed; the message says which.</exception>
    public static async Task<(Socket Socket, Stream Stream)> ConnectAsync(string address, ClusterCredentials credentials, TimeSpan timeout, ILogger logger, CancellationToken cancellationToken)
    {
        var target = ClusterAddress.Parse(address);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(target.Host, target.Port, limit.Token).ConfigureAwait(false);
            KeepAlive(socket);
            stream = new NetworkStream(socket, ownsSocket: true);
            if (credentials.Tls is { } tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                await ssl.AuthenticateAsClientAsync(tls.ClientOptions(target.Host, logger), limit.Token).ConfigureAwait(false);
            }

            return (socket, stream);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Close(socket, stream);
            throw e switch
            {
                OperationCanceledException => new IOException($"could not connect within {timeout.TotalSeconds:0.#} s", e),
                SocketException => new IOException($"could not connect: {e.Message}", e),
                AuthenticationException => new IOException($"the TLS handshake failed: {e.Message}", e),
                _ => e,
            };
        }
        catch
        {
            Close(socket, stream);
            throw;
        }
    }

    /// <summary>
    /// Keepalive on a connection, both sides, as the cluster's gRPC pings do: a peer that vanished without closing (its
    /// machine lost power, a cable was cut) is noticed within about 30 s, whether the connection is idle, waits for a
    /// held reply, or has bytes in flight (TCP_USER_TIMEOUT), so what it holds is not kept for the minutes TCP alone
    /// would wait.
    /// </summary>
    public static void KeepAlive(Socket socket)
    {
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 15);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 5);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
        if (OperatingSystem.IsLinux())
        {
            // TCP_USER_TIMEOUT (linux/tcp.h), in milliseconds: how long sent bytes may stay unacknowledged.
            const int IpProtocolTcp = 6, TcpUserTimeout = 18;
            socket.SetRawSocketOption(IpProtocolTcp, TcpUserTimeout, BitConverter.GetBytes(30_000));
        }
    }

    private static void Close(Socket socket, Stream? stream)
    {
        if (stream is not null)
        {
            stream.Dispose();
        }
        else
        {
            socket.Dispose();
        }
    }
}
