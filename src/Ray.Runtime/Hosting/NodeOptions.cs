using Microsoft.Extensions.Logging;

namespace Ray.Hosting;

/// <summary>
/// What a node is given when it starts: its resources, its object store, where it listens and which cluster it
/// belongs to. A driver's <see cref="RayOptions"/> keeps what a driver sets; an embedded node takes its node settings
/// from them (<see cref="FromDriver"/>), a standalone node (<c>raygen start</c>) from the command line.
/// </summary>
internal sealed record NodeOptions
{
    /// <summary>The GCS port of a head node, as in Ray (6379 there; 6380 here, so both can run on one machine).</summary>
    public const int DefaultPort = 6380;

    /// <summary>Whether the node runs the cluster's GCS (<c>raygen start --head</c>; an embedded node too).</summary>
    public bool IsHead { get; init; } = true;

    /// <summary>The head's GCS, <c>host:port</c>, for a node that joins a cluster (<c>raygen start --address</c>).</summary>
    public string? GcsAddress { get; init; }

    /// <summary>
    /// Whether the node listens on TCP (<see cref="NodeIpAddress"/>:<see cref="Port"/>) for drivers and other nodes. An
    /// embedded node does not: its driver is in its process and no node joins it.
    /// </summary>
    public bool ListenOnNetwork { get; init; }

    /// <summary>The address the node binds to and announces. Default loopback: a node is not reachable from other machines unless told.</summary>
    public string NodeIpAddress { get; init; } = "127.0.0.1";

    /// <summary>The TCP port: the head's GCS and raylet share it (default <see cref="DefaultPort"/>); another node's raylet takes any free port when 0.</summary>
    public int Port { get; init; }

    /// <summary>The cluster's token, required on every call from other processes. An embedded node makes one of its own.</summary>
    public string? AuthToken { get; init; }

    /// <summary>Mutual TLS between nodes, drivers and the CLI, when set.</summary>
    public TlsFiles? Tls { get; init; }

    /// <summary>How long the GCS waits for a node's reports before it declares the node dead.</summary>
    public TimeSpan HealthCheckTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Where the node keeps what outlives a job: downloaded packages. Default: a directory under the temporary directory.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>CPUs the node offers to tasks and actors. Default: the machine's core count.</summary>
    public double? NumCpus { get; init; }

    /// <summary>GPUs the node offers. Default 0.</summary>
    public double NumGpus { get; init; }

    /// <summary>Custom resources the node offers, by name.</summary>
    public IReadOnlyDictionary<string, double>? Resources { get; init; }

    /// <summary>Task workers to pre-start per job. Default: <see cref="NumCpus"/> rounded up.</summary>
    public int? NumWorkers { get; init; }

    /// <summary>The most actor workers per job. Default: one per CPU.</summary>
    public int? NumActorWorkers { get; init; }

    /// <summary>The path of Ray.Worker.dll. Default: beside the process's own assemblies.</summary>
    public string? WorkerPath { get; init; }

    /// <summary>Extra environment variables for worker processes.</summary>
    public IReadOnlyDictionary<string, string>? WorkerEnvironment { get; init; }

    /// <summary>Where the lines workers print to stdout go (an embedded node: the driver's console).</summary>
    public TextWriter? WorkerOutput { get; init; }

    /// <summary>Where the lines workers print to stderr go.</summary>
    public TextWriter? WorkerErrorOutput { get; init; }

    /// <summary>How long a job's first workers may take to register.</summary>
    public TimeSpan WorkerStartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Bytes of shared memory for the object store. Default: 30% of the memory available to the process.</summary>
    public long? ObjectStoreMemory { get; init; }

    /// <summary>Objects up to this size travel inline in messages.</summary>
    public int MaxInlineObjectSize { get; init; } = 100 * 1024;

    /// <summary>The directory for the object store's shared-memory file. Default <c>/dev/shm</c>, else the temporary directory.</summary>
    public string? ObjectStoreDirectory { get; init; }

    /// <summary>The directory objects are spilled to. Default: the temporary directory.</summary>
    public string? ObjectSpillDirectory { get; init; }

    /// <summary>The fraction of the store above which objects spill to disk.</summary>
    public double ObjectSpillThreshold { get; init; } = 0.8;

    /// <summary>The most bytes spilled objects may take on disk.</summary>
    public long? ObjectSpillLimit { get; init; }

    /// <summary>The lowest level of framework (Kestrel, hosting, gRPC) logs that reach the node's logger.</summary>
    public LogLevel FrameworkLogLevel { get; init; } = LogLevel.None;

    /// <summary>The node settings of an embedded node, from the driver's options.</summary>
    public static NodeOptions FromDriver(RayOptions options) => new()
    {
        NumCpus = options.NumCpus,
        NumGpus = options.NumGpus,
        Resources = options.Resources,
        NumWorkers = options.NumWorkers,
        NumActorWorkers = options.NumActorWorkers,
        WorkerPath = options.WorkerPath ?? Path.Combine(Path.GetFullPath(options.AppDirectory ?? AppContext.BaseDirectory), Raylet.WorkerLocator.WorkerFileName),
        WorkerEnvironment = options.WorkerEnvironment,
        WorkerOutput = options.WorkerOutput,
        WorkerErrorOutput = options.WorkerErrorOutput,
        WorkerStartTimeout = options.WorkerStartTimeout,
        ObjectStoreMemory = options.ObjectStoreMemory,
        MaxInlineObjectSize = options.MaxInlineObjectSize,
        ObjectStoreDirectory = options.ObjectStoreDirectory,
        ObjectSpillDirectory = options.ObjectSpillDirectory,
        ObjectSpillThreshold = options.ObjectSpillThreshold,
        ObjectSpillLimit = options.ObjectSpillLimit,
        FrameworkLogLevel = options.FrameworkLogLevel,
    };

    /// <summary>The node's CPUs.</summary>
    public double Cpus => NumCpus ?? Environment.ProcessorCount;

    /// <summary>Task workers per job.</summary>
    public int TaskWorkers => NumWorkers ?? Math.Max(1, (int)Math.Ceiling(Cpus));
}

/// <summary>PEM files for mutual TLS: this process's certificate and key, and the CA every peer's certificate must chain to.</summary>
internal sealed record TlsFiles(string CertificatePath, string KeyPath, string CaPath);
