using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Ray.Hosting;

namespace Ray.Cli;

/// <summary>A node in the foreground (<c>raygen start --block</c>, and what a background start runs): until SIGINT or SIGTERM.</summary>
internal static class ForegroundNode
{
    public static async Task<int> RunAsync(NodeOptions options, ClusterSession session, bool generatedToken, CancellationToken cancellationToken)
    {
        using var loggerFactory = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(LogLevel.Information)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            }));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // This process is the node: SIGINT and SIGTERM stop it cleanly (workers first, then the server), and it exits 0.
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

        NodeHost host;
        try
        {
            host = await NodeHost.StartAsync(options, loggerFactory, stop.Token);
        }
        catch (RayException e)
        {
            await Console.Error.WriteLineAsync($"raygen start: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return 130;
        }

        var record = new NodeRecord
        {
            Pid = Environment.ProcessId,
            ProcessStartTime = Ray.ObjectStore.NodeDirectory.ProcessStartTime(Environment.ProcessId),
            NodeId = host.Node.NodeId,
            Address = host.Address!,
            GcsAddress = host.GcsAddress!,
            IsHead = options.IsHead,
            SocketPath = host.Node.SocketPath,
            Tls = options.Tls is not null,
            TokenFile = options.IsHead && generatedToken ? session.TokenFile : null,
        };
        try
        {
            if (options.IsHead)
            {
                if (generatedToken)
                {
                    session.WriteToken(host.AuthToken);
                }

                session.WriteAddress(host.Address!);
            }

            session.WriteNode(record);
            Announce(host, options, session, generatedToken);
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }

            Console.WriteLine($"Stopping node {host.Node.NodeId}.");
            return 0;
        }
        finally
        {
            session.RemoveNode(record);
            await host.DisposeAsync();
        }

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
    }

    private static void Announce(NodeHost host, NodeOptions options, ClusterSession session, bool generatedToken)
    {
        Console.Write(Announcement(host.Node.NodeId, host.Address!, options.IsHead ? null : options.GcsAddress, options.Tls is not null, generatedToken ? session.TokenFile : null));
        Console.WriteLine("ready");
    }

    /// <summary>What a started node tells its user: where it is, where the token is, how to join it and connect to it.</summary>
    public static string Announcement(string nodeId, string address, string? joined, bool tls, string? tokenFile)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine($"Node {nodeId} started at {address}{(joined is null ? " (head)" : $", in the cluster at {joined}")}.");
        if (joined is null)
        {
            text.AppendLine(tokenFile is not null
                ? $"The cluster's token is in {tokenFile} (readable by you only)."
                : "The cluster uses the token it was given.");
            text.AppendLine("To add a node to this cluster, run (on another machine, with the token in RAYGEN_AUTH_TOKEN or --auth-token):");
            text.AppendLine($"  raygen start --address {address}");
            text.AppendLine($"To connect a driver: RayOptions.Address = \"{address}\", or RAYGEN_ADDRESS={address} (\"auto\" on this machine).");
        }

        if (!tls)
        {
            text.AppendLine("Without TLS (--tls-cert) the token travels in the clear: use the cluster on networks you trust only.");
        }

        return text.ToString();
    }
}
