using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ray.Actors;
using Ray.Core;
using Ray.Gcs;
using Ray.Logging;
using Ray.Ownership;
using Ray.Packages;
using Ray.Raylet;
using Ray.Scheduling;
using Ray.Runtime.Protocol;
using Ray.Transport;

namespace Ray.Hosting;

/// <summary>
/// A node as a process hosts it: the raylet, the GCS when it is the head, and the gRPC server they answer on (a Unix
/// socket for the node's workers and the drivers on its machine; TCP, with the cluster token, for everything else).
/// An embedded node (<c>RayRuntime.InitAsync()</c>) is a head with no TCP endpoint in the driver's process; a
/// standalone node (<c>raygen start</c>) is the same in a process of its own. Jobs start when their driver connects
/// and end when it goes.
/// </summary>
internal sealed class NodeHost : IAsyncDisposable
{
    /// <summary>The largest job package the head's store takes.</summary>
    private const long MaxPackageBytes = 2L << 30;

    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<JobId, Lazy<Task>> _jobStarts = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<JobId, Guid> _jobDrivers = new();
    private GcsServer? _gcs;
    private PackageStore? _packageStore;
    private ClusterView? _view;
    private ClusterReferences? _references;
    private ObjectManager.PullManager? _pulls;
    private ObjectManager.ObjectStreamClient? _objectStream;
    private ForwardedTasks? _forwarded;
    private ClusterActors? _actors;
    private Ownership.ClusterStreams? _streams;
    private Ownership.ClusterGarbage? _garbage;
    private Grpc.Net.Client.GrpcChannel? _gcsChannel;
    private WebApplication? _server;
    private Task _session = Task.CompletedTask;
    private int _disposed;

    private NodeHost(NodeOptions options, ILoggerFactory loggerFactory)
    {
        Options = options;
        LoggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger(LogCategories.Raylet);
    }

    public NodeOptions Options { get; }

    public ILoggerFactory LoggerFactory { get; }

    public RayletNode Node { get; private set; } = null!;

    /// <summary>The GCS this node reports to (in this process on the head).</summary>
    public IGcsClient Gcs { get; private set; } = null!;

    /// <summary>Where this node gets the code of the jobs it runs: packages from the GCS, extracted once into its cache.</summary>
    public PackageCache Packages { get; private set; } = null!;

    /// <summary>This node's links to the other nodes of its cluster; null for an embedded node.</summary>
    public NodeLinks? Links { get; private set; }

    /// <summary>The cluster token every call from another process must carry.</summary>
    public string AuthToken { get; private set; } = string.Empty;

    /// <summary>The token and, for mutual TLS, the certificates this node calls and is called with.</summary>
    public ClusterCredentials Credentials { get; private set; } = null!;

    /// <summary>The node's TCP address, <c>ip:port</c>; null when it does not listen on the network.</summary>
    public string? Address { get; private set; }

    /// <summary>The address other nodes and drivers join: the head's GCS.</summary>
    public string? GcsAddress => Options.IsHead ? Address : Options.GcsAddress;

    /// <summary>Starts the node: GCS (head), raylet, server; then joins the cluster and keeps reporting to it.</summary>
    /// <exception cref="RayException">The node could not start or join; the message says why.</exception>
    public static async Task<NodeHost> StartAsync(NodeOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var host = new NodeHost(options, loggerFactory);
        try
        {
            await host.StartCoreAsync(cancellationToken).ConfigureAwait(false);
            return host;
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops the node: its workers first (cooperatively), then the server, then the GCS.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (Node is not null && Gcs is not null && !Options.IsHead)
        {
            try
            {
                // Leaving on purpose: the GCS marks this node dead now instead of after the health-check timeout.
                await Gcs.UnregisterNodeAsync(Node.NodeGuid, "it was stopped", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is Grpc.Core.RpcException or TimeoutException or IOException)
            {
                _logger.LogDebug("Could not tell the GCS that this node leaves: {Reason}", e.Message);
            }
        }

        if (Node is not null)
        {
            await Node.Pool.DisposeAsync().ConfigureAwait(false);
        }

        _pulls?.Stop();
        if (Links is not null)
        {
            await Links.DisposeAsync().ConfigureAwait(false);
        }

        if (_server is not null)
        {
            await _server.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await _server.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            await _session.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        if (Node is not null)
        {
            await Node.DisposeAsync().ConfigureAwait(false);
        }

        if (Gcs is not null)
        {
            await Gcs.DisposeAsync().ConfigureAwait(false);
        }

        if (_gcs is not null)
        {
            await _gcs.DisposeAsync().ConfigureAwait(false);
        }

        _gcsChannel?.Dispose();
        _objectStream?.Dispose();
        _stopping.Dispose();
    }

    /// <summary>The process is exiting without <see cref="DisposeAsync"/>: workers are killed and the node's files deleted.</summary>
    public void Abandon() => Node?.Abandon();

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        var token = Options.AuthToken is { } given
            ? ClusterToken.Parse(given, "the node's token")
            : Options.ListenOnNetwork
                ? throw new RayException("A node that listens on the network needs the cluster's token (--auth-token, RAYGEN_AUTH_TOKEN, or the token file).")
                : ClusterToken.Generate();
        Credentials = ClusterCredentials.Create(token, Options.Tls?.CertificatePath, Options.Tls?.KeyPath, Options.Tls?.CaPath);
        AuthToken = token.Value;
        var packages = Options.CacheDirectory ?? Path.Combine(ClusterSession.Current.PackagesDirectory);
        Packages = new PackageCache(Path.Combine(packages, "cache"), LoggerFactory.CreateLogger(LogCategories.Packages));
        if (Options.IsHead)
        {
            _gcs = new GcsServer(Options.HealthCheckTimeout, LoggerFactory.CreateLogger(LogCategories.Gcs));
            _packageStore = new PackageStore(Path.Combine(packages, "store"), MaxPackageBytes, LoggerFactory.CreateLogger(LogCategories.Packages));
            Gcs = new LocalGcsClient(_gcs);
        }
        else
        {
            var address = Options.GcsAddress ?? throw new RayException("A node that is not the head needs the head's address (raygen start --address HOST:PORT).");
            _gcsChannel = ClusterChannel.Create(address, Credentials, LoggerFactory);
            Gcs = new RemoteGcsClient(_gcsChannel, LoggerFactory.CreateLogger(LogCategories.Gcs), ownsChannel: false);
        }

        Node = await RayletNode.StartAsync(Options with { AuthToken = AuthToken }, LoggerFactory, cancellationToken).ConfigureAwait(false);
        Node.ClusterNodes = Gcs.GetNodesAsync;
        if (Options.ListenOnNetwork)
        {
            JoinCluster();
        }

        await StartServerAsync(cancellationToken).ConfigureAwait(false);
        await JoinAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task JoinAsync(CancellationToken cancellationToken)
    {
        var info = new GcsNodeInfo
        {
            NodeId = NodeIds.ToBytes(Node.NodeGuid),
            Address = Address ?? string.Empty,
            IsHead = Options.IsHead,
            SocketPath = Node.SocketPath,
            MachineId = MachineIdentity.Id,
            Hostname = Dns.GetHostName(),
            Pid = Environment.ProcessId,
            StartTimeUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            RuntimeVersion = RuntimeVersion.Current,
        };
        foreach (var (name, amount) in Node.Scheduler.Total.Amounts)
        {
            info.Total[name] = amount;
        }

        RegisterNodeReply reply;
        try
        {
            reply = await Gcs.RegisterNodeAsync(
                new RegisterNodeRequest { ProtocolVersion = RuntimeVersion.Protocol, RuntimeVersion = RuntimeVersion.Current, Node = info },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Grpc.Core.RpcException e)
        {
            throw ClusterErrors.FromRpc(e, $"the head at {Options.GcsAddress}", Credentials.Tls is not null);
        }

        if (reply.Error.Length > 0)
        {
            throw new RayException($"The head refused this node: {reply.Error}");
        }

        var period = TimeSpan.FromMilliseconds(reply.HeartbeatPeriodMs);
        _view?.SetHeartbeatPeriod(period);
        _session = Gcs.RunSessionAsync(period, Report, OnGcsEvent, _stopping.Token);
    }

    /// <summary>
    /// A driver connected: the GCS gives its job an id, the job's code (the package the driver uploaded) is brought to
    /// this node, and the job's workers start. Returns the job's id.
    /// </summary>
    /// <exception cref="Grpc.Core.RpcException">The package is missing or the workers could not start; the status says why.</exception>
    public async Task<JobId> StartDriverJobAsync(RegisterDriver registration, CancellationToken cancellationToken)
    {
        var started = await StartDriverJobCoreAsync(registration, cancellationToken).ConfigureAwait(false);
        _jobDrivers[started] = Node.NodeGuid;
        _jobStarts.TryAdd(started, new Lazy<Task>(Task.CompletedTask));
        return started;
    }

    private async Task<JobId> StartDriverJobCoreAsync(RegisterDriver registration, CancellationToken cancellationToken)
    {
        if (registration.PackageId.Length == 0)
        {
            throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.InvalidArgument, "A driver must name the package of its code (its application directory, uploaded to the GCS)."));
        }

        var job = await Gcs.AddJobAsync(
            new AddJobRequest { DriverNodeId = NodeIds.ToBytes(Node.NodeGuid), DriverPid = registration.Pid, PackageId = registration.PackageId, Entrypoint = registration.Entrypoint },
            cancellationToken).ConfigureAwait(false);
        try
        {
            var directory = await Packages.EnsureAsync(registration.PackageId, DownloadPackageAsync(registration.PackageId), cancellationToken).ConfigureAwait(false);
            Node.FailedCalls.Configure(job, Replay.CaptureSettings.FromProto(registration.Capture));
            await Node.StartJobAsync(job, directory, cancellationToken).ConfigureAwait(false);
            return job;
        }
        catch (Exception e) when (e is not Grpc.Core.RpcException)
        {
            await EndDriverJobAsync(job, $"it could not start: {e.Message}").ConfigureAwait(false);
            throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.FailedPrecondition, $"Job {job} could not start on node {Node.NodeId}: {e.Message}"));
        }
    }

    /// <summary>How this node fetches a package: from the head's store in this process, else over the network.</summary>
    private Func<Stream, CancellationToken, Task> DownloadPackageAsync(string id) => async (destination, cancellationToken) =>
    {
        if (_packageStore is not null)
        {
            await using var zip = _packageStore.OpenRead(id);
            await zip.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
            return;
        }

        await new PackageClient(_gcsChannel!).DownloadAsync(id, destination, cancellationToken).ConfigureAwait(false);
    };

    /// <summary>The driver of <paramref name="job"/> is connected here: what the job's workers print goes to it.</summary>
    public void AttachDriver(JobId job, WorkerHandle driver) => Node.Output.AttachDriver(job, driver);

    /// <summary>A driver went away: its job ends here and, through the GCS, everywhere.</summary>
    public async Task EndDriverJobAsync(JobId job, string reason)
    {
        Node.Output.DetachDriver(job);
        await Node.EndJobAsync(job, reason).ConfigureAwait(false);
        try
        {
            await Gcs.MarkJobFinishedAsync(job, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or IOException)
        {
            _logger.LogWarning("Could not tell the GCS that job {Job} ended: {Reason}", job, e.Message);
        }
    }

    /// <summary>Wires the raylet to the other nodes: the cluster view, the links, references and tasks across nodes.</summary>
    private void JoinCluster()
    {
        var logger = LoggerFactory.CreateLogger(LogCategories.Raylet);
        _view = new ClusterView(Node.NodeGuid, Node.Scheduler.Total, () => Node.Scheduler.AvailableForNewWork);
        Links = new NodeLinks(Node.NodeGuid, _view, Credentials, Route, logger);
        _references = new ClusterReferences(Node.NodeGuid, Node.Objects, Links, LoggerFactory.CreateLogger(LogCategories.ObjectManager));
        _forwarded = new ForwardedTasks(Node, Links, _references, job => EnsureJobAsync(job, CancellationToken.None), LoggerFactory.CreateLogger(LogCategories.Scheduler));
        Node.Scheduler.UseCluster(_view, _forwarded);
        _actors = new ClusterActors(Node, _view, Links, _references, Gcs, job => EnsureJobAsync(job, CancellationToken.None), LoggerFactory.CreateLogger(LogCategories.Actors));
        Node.ClusterActors = _actors;
        _streams = new Ownership.ClusterStreams(Node.Objects, Node.Streams, _references, Links);
        _garbage = new Ownership.ClusterGarbage(Node.NodeGuid, _view, Links, Node.CollectGarbageHere);
        Node.CollectGarbageElsewhere = _garbage.CollectElsewhere;
        _view.NodeDied += Node.Scheduler.OnNodeDied;
        _view.NodeDied += _streams.OnNodeDied;
        _view.NodeDied += (node, _) => _references.OnNodeDied(node);
        var objectLogger = LoggerFactory.CreateLogger(LogCategories.ObjectManager);
        _objectStream = new ObjectManager.ObjectStreamClient(Credentials, LoggerFactory.CreateLogger(LogCategories.Transport));
        var puller = new ObjectManager.ObjectPuller(Node.Store, _objectStream, objectLogger);
        _pulls = new ObjectManager.PullManager(Node.NodeGuid, Node.Objects, puller, _view, _references.OnCopied, objectLogger);
        Node.Objects.Pulls = _pulls;
        Node.Objects.OwnedFreed = entry =>
        {
            // Copies elsewhere (a result made on another node) go with the object.
            foreach (var location in entry.Remote?.Locations ?? [])
            {
                Links.Send(location, new NodeMessage { FreeObject = new FreeObject { Id = entry.Id.ToProto() } });
            }
        };
        Node.Output.Remote = (job, lines) =>
            _jobDrivers.TryGetValue(job, out var driverNode) && driverNode != Node.NodeGuid &&
            Links.Send(driverNode, new NodeMessage { WorkerOutput = new ForwardedOutput { JobId = job.Value, Lines = lines } });
    }

    /// <summary>What another node sent this one.</summary>
    private void Route(Guid from, NodeMessage message)
    {
        if (_forwarded!.Handle(from, message) || _references!.Handle(from, message) || _actors!.Handle(from, message) || _streams!.Handle(from, message) || _garbage!.Handle(from, message))
        {
            return;
        }

        switch (message.BodyCase)
        {
            case NodeMessage.BodyOneofCase.FreeObject:
                Node.Objects.Release(message.FreeObject.Id.ToObjectId(), ObjectStore.ReferenceKind.Primary);
                break;
            case NodeMessage.BodyOneofCase.WorkerOutput:
                if (!Node.Output.Deliver(new JobId(message.WorkerOutput.JobId), message.WorkerOutput.Lines))
                {
                    Node.Output.Print(message.WorkerOutput.Lines);
                }

                break;
            default:
                _logger.IgnoredMessage(message.BodyCase.ToString(), $"node {from:n}");
                break;
        }
    }

    /// <summary>Starts a job's workers here when another node sends work of it: its code comes from the GCS's package store.</summary>
    private Task EnsureJobAsync(JobId job, CancellationToken cancellationToken) =>
        _jobStarts.GetOrAdd(job, id => new Lazy<Task>(() => StartJobFromGcsAsync(id, cancellationToken))).Value;

    private async Task StartJobFromGcsAsync(JobId job, CancellationToken cancellationToken)
    {
        try
        {
            var info = await Gcs.GetJobAsync(job, cancellationToken).ConfigureAwait(false);
            if (info.IsFinished)
            {
                throw new RayException($"job {job} has ended");
            }

            _jobDrivers[job] = NodeIds.ToGuid(info.DriverNodeId);
            var directory = await Packages.EnsureAsync(info.PackageId, DownloadPackageAsync(info.PackageId), cancellationToken).ConfigureAwait(false);
            await Node.StartJobAsync(job, directory, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _jobStarts.TryRemove(job, out _);
            throw;
        }
    }

    private NodeReport Report()
    {
        var report = new NodeReport { NodeId = NodeIds.ToBytes(Node.NodeGuid) };
        foreach (var (name, amount) in Node.Scheduler.AvailableForNewWork.Amounts)
        {
            report.Available[name] = amount;
        }

        foreach (var (shape, count) in Node.Scheduler.QueuedDemand)
        {
            var demand = new ResourceDemand { Count = count };
            shape.CopyTo(demand.Shape);
            report.Demand.Add(demand);
        }

        foreach (var (shape, count) in Node.Actors.WaitingDemand)
        {
            var demand = new ResourceDemand { Count = count, Actors = true };
            shape.CopyTo(demand.Shape);
            report.Demand.Add(demand);
        }

        return report;
    }

    private void OnGcsEvent(GcsEvent message)
    {
        switch (message.BodyCase)
        {
            case GcsEvent.BodyOneofCase.NodeChanged:
                _view?.OnNodeChanged(message.NodeChanged);
                break;
            case GcsEvent.BodyOneofCase.Resources:
                _view?.OnResources(message.Resources);
                break;
            case GcsEvent.BodyOneofCase.JobFinished:
                var job = new JobId(message.JobFinished.JobId);
                _jobStarts.TryRemove(job, out _);
                _jobDrivers.TryRemove(job, out _);
                if (Node.Pool.HasJob(job))
                {
                    _ = Node.EndJobAsync(job, "its driver went away");
                }

                break;
        }
    }

    private async Task StartServerAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        EmbeddedHost.Configure(builder, LoggerFactory, Options.FrameworkLogLevel);
        builder.Services.AddSingleton(this);
        builder.Services.AddSingleton(Node);
        if (_gcs is not null)
        {
            builder.Services.AddSingleton(_gcs);
            builder.Services.AddSingleton(_packageStore!);
        }

        var transportLogger = LoggerFactory.CreateLogger(LogCategories.Transport);
        builder.Services.AddClusterGrpc(Credentials.Token, transportLogger);
        builder.Services.Configure<Grpc.AspNetCore.Server.GrpcServiceOptions>(o => o.EnableDetailedErrors = true);

        // The services never block (a batch is handled under the scheduler's lock and returns), so socket
        // completions may run them inline instead of hopping to the thread pool: one hop less per message.
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
        var port = Options.Port;
        if (Options.ListenOnNetwork && Options.IsHead && port == 0)
        {
            port = NodeOptions.DefaultPort;
        }

        var rayletSocket = new RayletSocketServer(new RayletService(this), new ClusterTokenAuthenticator(Credentials.Token, transportLogger), transportLogger);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenUnixSocket(Node.SocketPath, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;

                // Workers and local drivers talk to the raylet over a framed stream beside the gRPC services.
                rayletSocket.Listen(listen);
            });
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1024;
        });
        if (Options.ListenOnNetwork)
        {
            // Objects and the links from other raylets move over streams of their own on the same port, beside the gRPC services.
            var objectLogger = LoggerFactory.CreateLogger(LogCategories.ObjectManager);
            var authenticator = new ClusterTokenAuthenticator(Credentials.Token, transportLogger);
            var objectStream = new ObjectManager.ObjectStreamServer(new ObjectManager.ObjectSender(Node.Store, Node.Objects, objectLogger), authenticator, objectLogger);
            var nodeLinks = new NodeLinkServer(() => Links, authenticator, LoggerFactory.CreateLogger(LogCategories.Raylet));
            ClusterServer.Listen(builder.WebHost, new IPEndPoint(ParseAddress(Options.NodeIpAddress), port), Credentials, transportLogger, listen =>
            {
                objectStream.Listen(listen);
                nodeLinks.Listen(listen);
            });
        }

        _server = builder.Build();
        _server.MapGrpcService<RayletService>();
        _server.MapGrpcService<NodeLinkService>();
        if (_gcs is not null)
        {
            _server.MapGrpcService<GcsService>();
            _server.MapGrpcService<PackageStoreService>();
        }

        try
        {
            await _server.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e) when (Options.ListenOnNetwork && e.Message.Contains($":{port}", StringComparison.Ordinal) &&
                                   (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase)))
        {
            throw new RayException($"Port {port} on {Options.NodeIpAddress} is in use: another node or program listens there. Stop it, or choose another port with --port.", e);
        }

        if (Options.ListenOnNetwork)
        {
            // With port 0 the system picks one; the server says which.
            var addresses = _server.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
                .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses ?? [];
            var bound = addresses.Where(a => !a.Contains("unix:", StringComparison.Ordinal)).Select(a => new Uri(a)).FirstOrDefault();
            Address = $"{Options.NodeIpAddress}:{bound?.Port ?? port}";
            Node.Output.NodeAddress = Address;
        }
    }

    private static IPAddress ParseAddress(string address) =>
        IPAddress.TryParse(address, out var ip)
            ? ip
            : throw new RayException($"'{address}' is not an IP address; --node-ip-address takes the address this node binds to, such as 127.0.0.2 or 10.0.0.5.");
}
