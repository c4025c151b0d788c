using System.CommandLine;
using System.Globalization;
using Grpc.Core;
using Ray.Gcs;
using Ray.Hosting;
using Ray.Runtime.Protocol;
using Ray.Transport;
using Spectre.Console;

namespace Ray.Cli;

/// <summary><c>raygen status</c>: the cluster's nodes (address, alive or dead, resources used of total), the work waiting for resources, and its jobs.</summary>
internal static class StatusCommand
{
    private static readonly Option<string?> Address = new("--address") { Description = "The head, HOST:PORT (default: RAYGEN_ADDRESS, else the cluster started on this machine)." };
    private static readonly Option<string?> AuthToken = new("--auth-token") { Description = "The cluster's token (default: RAYGEN_AUTH_TOKEN, else the token file on this machine)." };
    private static readonly Option<string?> TlsCert = new("--tls-cert") { Description = "This client's certificate (PEM), for a cluster with mutual TLS." };
    private static readonly Option<string?> TlsKey = new("--tls-key") { Description = "The key (PEM) of --tls-cert." };
    private static readonly Option<string?> TlsCa = new("--tls-ca") { Description = "The CA (PEM) of the cluster." };

    public static Command Create()
    {
        var command = new Command("status", "Show the cluster's nodes, their resources, the pending demand and the jobs.") { Address, AuthToken, TlsCert, TlsKey, TlsCa };
        command.SetAction((result, cancellationToken) => RunAsync(result, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult result, CancellationToken cancellationToken)
    {
        var session = ClusterSession.Current;
        ClusterStatus status;
        try
        {
            var address = session.ResolveAddress(result.GetValue(Address) ?? "auto")!;
            var token = session.ResolveToken(result.GetValue(AuthToken)) ?? throw new RayException(
                "The cluster's token is needed: --auth-token, RAYGEN_AUTH_TOKEN, or the token file of a head on this machine.");
            var credentials = ClusterCredentials.Create(ClusterToken.Parse(token, "--auth-token"), result.GetValue(TlsCert), result.GetValue(TlsKey), result.GetValue(TlsCa));
            using var channel = ClusterChannel.Create(address, credentials);
            try
            {
                status = await new Runtime.Protocol.Gcs.GcsClient(channel).GetClusterStatusAsync(new GetClusterStatusRequest(), deadline: DateTime.UtcNow.AddSeconds(15), cancellationToken: cancellationToken);
            }
            catch (RpcException e)
            {
                throw ClusterErrors.FromRpc(e, $"the head at {address}", credentials.Tls is not null);
            }
        }
        catch (RayException e)
        {
            await Console.Error.WriteLineAsync($"raygen status: {e.Message}");
            return 1;
        }

        Render(status);
        return 0;
    }

    private static void Render(ClusterStatus status)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        var nodes = new Table().AddColumns("Node", "Address", "State", "Resources (used / total)");
        foreach (var node in status.Nodes.OrderByDescending(n => n.IsHead).ThenBy(n => n.Address, StringComparer.Ordinal))
        {
            var resources = string.Join(", ", node.Total.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r =>
                $"{r.Key} {Format(r.Value - (node.IsAlive ? node.Available.GetValueOrDefault(r.Key) : r.Value))}/{Format(r.Value)}"));
            nodes.AddRow(
                Markup.Escape(NodeIds.Format(node.NodeId)[..12] + (node.IsHead ? " (head)" : string.Empty)),
                Markup.Escape(node.Address),
                node.IsAlive ? "[green]alive[/]" : $"[red]dead[/] {Markup.Escape(node.DeathReason)}",
                Markup.Escape(resources));
        }

        console.Write(nodes);
        var pending = status.Pending.GroupBy(d => (d.Actors, Shape: string.Join(", ", d.Shape.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}: {Format(s.Value)}"))))
            .OrderBy(g => g.Key.Actors)
            .Select(g => $"{g.Sum(d => d.Count)} x {{{g.Key.Shape}}}" + (g.Key.Actors ? " (actors)" : string.Empty))
            .ToArray();
        console.WriteLine(pending.Length == 0 ? "Pending demand: none" : $"Pending demand: {string.Join("; ", pending)}");
        var running = status.Jobs.Where(j => !j.IsFinished).ToArray();
        console.WriteLine($"Jobs: {running.Length} running, {status.Jobs.Count - running.Length} finished");
        foreach (var job in running)
        {
            console.WriteLine($"  job {new JobId(job.JobId)}: driver pid {job.DriverPid} on node {NodeIds.Format(job.DriverNodeId)[..12]}{(job.Entrypoint.Length > 0 ? $" ({job.Entrypoint})" : string.Empty)}");
        }
    }

    private static string Format(double amount) => amount.ToString("0.##", CultureInfo.InvariantCulture);
}
