using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Ray.Hosting;

namespace Ray.Cli;

/// <summary>
/// <c>raygen start</c>: runs a node. With <c>--block</c> it stays in the foreground until SIGINT or SIGTERM and then stops
/// cleanly; without it, the node runs in the background and the command returns once the node is ready, printing its
/// address and the command that joins another node (as <c>ray start</c> does).
/// </summary>
internal static class StartCommand
{
    private static readonly Option<bool> Head = new("--head") { Description = "Start the head node: the cluster's GCS and a raylet." };
    private static readonly Option<string?> Address = new("--address") { Description = "Join the cluster whose head is at HOST:PORT." };
    private static readonly Option<string> NodeIp = new("--node-ip-address") { Description = "The address this node binds to and announces.", DefaultValueFactory = _ => "127.0.0.1" };
    private static readonly Option<int?> Port = new("--port") { Description = $"The head's port (default {NodeOptions.DefaultPort}); another node's raylet port (default: any free one)." };
    private static readonly Option<double?> NumCpus = new("--num-cpus") { Description = "CPUs this node offers (default: its core count)." };
    private static readonly Option<double?> NumGpus = new("--num-gpus") { Description = "GPUs this node offers (default 0)." };
    private static readonly Option<string?> Resources = new("--resources") { Description = "Custom resources as JSON, for example '{\"ssd\": 1}'." };
    private static readonly Option<long?> ObjectStoreMemory = new("--object-store-memory") { Description = "Bytes of shared memory for the object store (default: 30% of memory)." };
    private static readonly Option<string?> AuthToken = new("--auth-token") { Description = "The cluster's token. A head without one makes one and writes it to a file only you can read." };
    private static readonly Option<string?> TlsCert = new("--tls-cert") { Description = "This node's certificate (PEM), for mutual TLS with --tls-key and --tls-ca." };
    private static readonly Option<string?> TlsKey = new("--tls-key") { Description = "The key (PEM) of --tls-cert." };
    private static readonly Option<string?> TlsCa = new("--tls-ca") { Description = "The CA (PEM) every node's, driver's and CLI's certificate must chain to." };
    private static readonly Option<double> HealthCheckTimeout = new("--health-check-timeout") { Description = "Seconds without a report before the head declares a node dead (head only).", DefaultValueFactory = _ => 5 };
    private static readonly Option<bool> Block = new("--block") { Description = "Stay in the foreground until SIGINT or SIGTERM, then stop cleanly." };

    public static Command Create()
    {
        var command = new Command("start", "Start a node: the head (--head) or one that joins a cluster (--address).")
        {
            Head, Address, NodeIp, Port, NumCpus, NumGpus, Resources, ObjectStoreMemory, AuthToken, TlsCert, TlsKey, TlsCa, HealthCheckTimeout, Block,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(Head) == (result.GetValue(Address) is not null))
            {
                result.AddError("Give either --head (start a cluster) or --address HOST:PORT (join one).");
            }
        });
        command.SetAction((result, cancellationToken) => RunAsync(result, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult result, CancellationToken cancellationToken)
    {
        NodeOptions options;
        bool generatedToken;
        var session = ClusterSession.Current;
        try
        {
            (options, generatedToken) = Options(result, session);
        }
        catch (Exception e) when (e is RayException or JsonException or FormatException)
        {
            await Console.Error.WriteLineAsync($"raygen start: {e.Message}");
            return 2;
        }

        return result.GetValue(Block)
            ? await ForegroundNode.RunAsync(options, session, generatedToken, cancellationToken)
            : await BackgroundNode.StartAsync(session, cancellationToken);
    }

    /// <summary>The node's options, and whether its token was made here (a head given none), to be written to the token file.</summary>
    private static (NodeOptions Options, bool GeneratedToken) Options(ParseResult result, ClusterSession session)
    {
        var isHead = result.GetValue(Head);
        var address = result.GetValue(Address);

        // A head takes the token it is given and makes one otherwise; it never reads the token file, which is its to write.
        var token = isHead
            ? Given(result.GetValue(AuthToken)) ?? Given(Environment.GetEnvironmentVariable(ClusterSession.TokenVariable))
            : session.ResolveToken(result.GetValue(AuthToken)) ?? throw new RayException(
                "Joining a cluster needs its token: --auth-token, RAYGEN_AUTH_TOKEN, or the token file of a head on this machine.");
        TlsFiles? tls = null;
        if (result.GetValue(TlsCert) is { } cert)
        {
            tls = new TlsFiles(
                cert,
                result.GetValue(TlsKey) ?? throw new RayException("--tls-key is needed with --tls-cert."),
                result.GetValue(TlsCa) ?? throw new RayException("--tls-ca is needed with --tls-cert."));
        }

        var options = new NodeOptions
        {
            IsHead = isHead,
            GcsAddress = address,
            ListenOnNetwork = true,
            NodeIpAddress = result.GetValue(NodeIp)!,
            Port = result.GetValue(Port) ?? (isHead ? NodeOptions.DefaultPort : 0),
            NumCpus = result.GetValue(NumCpus),
            NumGpus = result.GetValue(NumGpus) ?? 0,
            Resources = ParseResources(result.GetValue(Resources)),
            ObjectStoreMemory = result.GetValue(ObjectStoreMemory),
            AuthToken = token ?? Transport.ClusterToken.Generate().Value,
            Tls = tls,
            HealthCheckTimeout = TimeSpan.FromSeconds(result.GetValue(HealthCheckTimeout)),
            CacheDirectory = session.PackagesDirectory,
        };
        return (options, token is null);
    }

    /// <summary>An empty value (an environment variable set to nothing) counts as none, as everywhere else.</summary>
    private static string? Given(string? value) => value is { Length: > 0 } ? value : null;

    private static Dictionary<string, double>? ParseResources(string? json)
    {
        if (json is null)
        {
            return null;
        }

        var values = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json) ?? throw new FormatException("--resources must be a JSON object.");
        var resources = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            if (value.ValueKind != JsonValueKind.Number || value.GetDouble() is var amount && (amount < 0 || double.IsNaN(amount)))
            {
                throw new FormatException($"--resources: the amount of '{name}' must be a number of at least 0, not {value}.");
            }

            resources[name] = value.GetDouble();
        }

        return resources;
    }
}
