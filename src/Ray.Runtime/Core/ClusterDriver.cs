using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Ray.Gcs;
using Ray.Hosting;
using Ray.Logging;
using Ray.Packages;
using Ray.Raylet;
using Ray.Replay;
using Ray.Runtime.Protocol;
using Ray.Transport;

namespace Ray.Core;

/// <summary>
/// A driver connected to a running cluster: it uploads its application directory to the GCS's package store, picks the
/// node it submits through (the one on its own machine when there is one, over the node's Unix socket; else the node
/// at the address, over TCP), and starts its job there. Disposing it ends the job everywhere.
/// </summary>
internal sealed class ClusterDriver : IAsyncDisposable
{
    private static readonly TimeSpan RegistrationTimeout = TimeSpan.FromSeconds(120);

    private readonly RayletConnection _connection;
    private readonly Task _reading;

    private ClusterDriver(RayletConnection connection, IGcsClient gcs, GcsNodeInfo node, WorkerOutput output, ILogger logger)
    {
        _connection = connection;
        Gcs = gcs;
        Node = node;
        _reading = ReadAsync(output, logger);
    }

    public ConnectedCoreWorker Core => _connection.Core;

    /// <summary>The GCS, for what a driver asks the cluster (its nodes).</summary>
    public IGcsClient Gcs { get; }

    /// <summary>The node the driver submits through.</summary>
    public GcsNodeInfo Node { get; }

    /// <summary>Completes when the connection to the node ends (the node stopped, or the driver was disposed).</summary>
    public Task Disconnected => _reading;

    /// <summary>Connects to the cluster at <paramref name="address"/> and starts this driver's job.</summary>
    /// <exception cref="RayException">The cluster cannot be reached, refused the token, or runs another version; the message says which.</exception>
    public static async Task<ClusterDriver> ConnectAsync(string address, RayOptions options, ClusterSession session, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var capture = CaptureSettings.From(options.FailedTaskCapture, Path.GetFullPath(options.AppDirectory ?? AppContext.BaseDirectory));
        var token = session.ResolveToken(options.AuthToken) ?? throw new RayException(
            $"The cluster at {address} needs its token: set RayOptions.AuthToken or RAYGEN_AUTH_TOKEN, or run the driver on the head's machine, " +
            $"where 'raygen start --head' wrote it to {session.TokenFile}.");
        var credentials = ClusterCredentials.Create(ClusterToken.Parse(token, "the cluster token given to the driver"), options.TlsCertificatePath, options.TlsKeyPath, options.TlsCaPath);
        var logger = loggerFactory.CreateLogger(LogCategories.Raylet);
        var gcsChannel = ClusterChannel.Create(address, credentials, loggerFactory);
        var gcs = new RemoteGcsClient(gcsChannel, logger);
        try
        {
            IReadOnlyList<GcsNodeInfo> nodes;
            string packageId;
            try
            {
                nodes = await gcs.GetNodesAsync(cancellationToken).ConfigureAwait(false);
                var appDirectory = Path.GetFullPath(options.AppDirectory ?? AppContext.BaseDirectory);
                var packageLogger = loggerFactory.CreateLogger(LogCategories.Packages);
                var package = await Task.Run(() => AppPackage.Create(appDirectory, packageLogger, cancellationToken), cancellationToken).ConfigureAwait(false);
                await new PackageClient(gcsChannel).EnsureUploadedAsync(package, cancellationToken).ConfigureAwait(false);
                packageId = package.Id;
            }
            catch (RpcException e)
            {
                throw ClusterErrors.FromRpc(e, $"the cluster at {address}", credentials.Tls is not null);
            }

            var (node, local) = Choose(nodes, address);
            var registration = new WorkerMessage
            {
                RegisterDriver = new RegisterDriver
                {
                    ProtocolVersion = RuntimeVersion.Protocol,
                    RuntimeVersion = RuntimeVersion.Current,
                    Pid = Environment.ProcessId,
                    PackageId = packageId,
                    MapsStore = local,
                    Entrypoint = Environment.ProcessPath is { } path ? $"{Path.GetFileName(path)} {string.Join(' ', Environment.GetCommandLineArgs().Skip(1))}".Trim() : string.Empty,
                    Capture = capture.ToProto(),
                },
            };
            var connection = local
                ? RayletConnection.OpenLocal(node.SocketPath, token, registration)
                : RayletConnection.Open(ClusterChannel.Create(node.Address, credentials, loggerFactory), token, registration);
            var output = new WorkerOutput(options.WorkerOutput ?? Console.Out, options.WorkerErrorOutput ?? Console.Error);
            var driver = new ClusterDriver(connection, gcs, node, output, logger);
            try
            {
                await connection.Registered.WaitAsync(RegistrationTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException e)
            {
                await driver.DisposeAsync().ConfigureAwait(false);
                throw ClusterErrors.FromRpc(e, $"node {NodeIds.Format(node.NodeId)} at {(local ? node.SocketPath : node.Address)}", !local && credentials.Tls is not null);
            }
            catch
            {
                await driver.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            return driver;
        }
        catch
        {
            await gcs.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Ends the job: the stream to the node is completed, and the node ends the job everywhere.</summary>
    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _reading.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or RpcException or IOException or OperationCanceledException or RayException)
        {
        }

        await Gcs.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// The node to submit through: a live node on this machine whose socket is here (the head first), so that objects
    /// are read in shared memory; else the node at the address the driver was given, else any live node.
    /// </summary>
    private static (GcsNodeInfo Node, bool Local) Choose(IReadOnlyList<GcsNodeInfo> nodes, string address)
    {
        var alive = nodes.Where(n => n.IsAlive).ToArray();
        if (alive.Length == 0)
        {
            throw new RayException($"The cluster at {address} has no live node.");
        }

        var local = alive
            .Where(n => n.MachineId == MachineIdentity.Id && n.SocketPath.Length > 0 && File.Exists(n.SocketPath))
            .OrderByDescending(n => n.Address == address)
            .ThenByDescending(n => n.IsHead)
            .FirstOrDefault();
        if (local is not null)
        {
            return (local, true);
        }

        return (alive.FirstOrDefault(n => n.Address == address) ?? alive.FirstOrDefault(n => n.IsHead) ?? alive[0], false);
    }

    private async Task ReadAsync(WorkerOutput output, ILogger logger)
    {
        try
        {
            await _connection.RunAsync(
                message =>
                {
                    switch (message.BodyCase)
                    {
                        case RayletMessage.BodyOneofCase.WorkerOutput:
                            output.Print(message.WorkerOutput);
                            break;
                        case RayletMessage.BodyOneofCase.Registered:
                            break;
                        default:
                            logger.IgnoredMessage(message.BodyCase.ToString(), "the node");
                            break;
                    }
                },
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or IOException)
        {
            logger.LogDebug("The connection to node {Node} ended: {Reason}", NodeIds.Format(Node.NodeId), e.Message);
            throw;
        }
    }
}
