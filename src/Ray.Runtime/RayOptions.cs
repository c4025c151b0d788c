using Microsoft.Extensions.Logging;

namespace Ray;

/// <summary>
/// How <see cref="RayRuntime.InitAsync"/> starts: an embedded node in this process (the default), or a connection to a
/// running cluster (<see cref="Address"/>). The node settings (CPUs, object store) apply to an embedded node only; a
/// cluster's nodes have theirs from <c>raygen start</c>.
/// </summary>
public sealed record RayOptions
{
    /// <summary>
    /// The cluster to connect to: the head's <c>host:port</c> (Ray's <c>ray.init(address=…)</c>), or <c>"auto"</c> for the
    /// cluster whose head was started on this machine. Default: <c>$RAYGEN_ADDRESS</c>, else none, which starts an
    /// embedded node in this process.
    /// </summary>
    public string? Address { get; init; }

    /// <summary>
    /// The cluster's token. Default: <c>$RAYGEN_AUTH_TOKEN</c>, else the token file that <c>raygen start --head</c> wrote on
    /// this machine. Without TLS it travels in the clear, so on an untrusted network use <see cref="TlsCertificatePath"/>.
    /// </summary>
    public string? AuthToken { get; init; }

    /// <summary>This driver's certificate (PEM) for a cluster that requires mutual TLS; with <see cref="TlsKeyPath"/> and <see cref="TlsCaPath"/>.</summary>
    public string? TlsCertificatePath { get; init; }

    /// <summary>The key (PEM) of <see cref="TlsCertificatePath"/>.</summary>
    public string? TlsKeyPath { get; init; }

    /// <summary>The CA (PEM) the cluster's certificates chain to.</summary>
    public string? TlsCaPath { get; init; }

    /// <summary>CPUs the node offers to tasks. Default: the machine's core count.</summary>
    public double? NumCpus { get; init; }

    /// <summary>GPUs the node offers to tasks. Default 0.</summary>
    public double NumGpus { get; init; }

    /// <summary>Custom resources the node offers, by name.</summary>
    public IReadOnlyDictionary<string, double>? Resources { get; init; }

    /// <summary>Worker processes to pre-start. Default: <see cref="NumCpus"/> rounded up.</summary>
    public int? NumWorkers { get; init; }

    /// <summary>
    /// The most worker processes the node starts to host actors. Actors never share a process with tasks, so a task
    /// that crashes its worker cannot take an actor with it; many actors share each actor worker, which the node starts
    /// as actors are created. Default: one per CPU. An actor with <c>DedicatedProcess</c> gets a process of its own.
    /// </summary>
    public int? NumActorWorkers { get; init; }

    /// <summary>The application directory whose assemblies workers load. Default: the driver's base directory.</summary>
    public string? AppDirectory { get; init; }

    /// <summary>The path of Ray.Worker.dll. Default: beside the application.</summary>
    public string? WorkerPath { get; init; }

    /// <summary>Extra environment variables for worker processes.</summary>
    public IReadOnlyDictionary<string, string>? WorkerEnvironment { get; init; }

    /// <summary>
    /// Where the lines workers print to stdout go, each prefixed with <c>(pid=N)</c> as in Ray. A partial line (a
    /// <c>Console.Write</c> without a newline) is ended when its task ends, so it is never glued to another task's line.
    /// Default: <see cref="Console.Out"/>.
    /// </summary>
    public TextWriter? WorkerOutput { get; init; }

    /// <summary>Where the lines workers print to stderr go, prefixed like <see cref="WorkerOutput"/>'s. Default: <see cref="Console.Error"/>.</summary>
    public TextWriter? WorkerErrorOutput { get; init; }

    /// <summary>
    /// Logs of the runtime, under categories that start with <c>Ray.</c> (see the README for the list). Default:
    /// warnings and errors to the console.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// The lowest level at which the embedded node's framework logs (Kestrel, ASP.NET Core hosting, gRPC) reach
    /// <see cref="LoggerFactory"/>. Default <see cref="LogLevel.None"/>: off, so that RayGen's own messages are not
    /// drowned in HTTP/2 request lines. Set it to diagnose a transport problem.
    /// </summary>
    public LogLevel FrameworkLogLevel { get; init; } = LogLevel.None;

    /// <summary>How long <see cref="RayRuntime.InitAsync"/> waits for the workers to start. Default 60 s.</summary>
    public TimeSpan WorkerStartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Bytes of shared memory the node's object store may use for large objects. Default: 30% of the memory
    /// available to the process, as in Ray. Pages are taken only as objects are written.
    /// </summary>
    public long? ObjectStoreMemory { get; init; }

    /// <summary>
    /// Objects whose serialized size is at most this many bytes travel inline in messages; larger ones are written
    /// once into the shared-memory object store and read there in place. Default 100 KiB, as in Ray.
    /// </summary>
    public int MaxInlineObjectSize { get; init; } = 100 * 1024;

    /// <summary>
    /// The directory for the object store's shared-memory file. Default <c>/dev/shm</c>, or the temporary directory
    /// where <c>/dev/shm</c> is missing or has less room than <see cref="ObjectStoreMemory"/> (as Ray does).
    /// </summary>
    public string? ObjectStoreDirectory { get; init; }

    /// <summary>The directory objects are spilled to when shared memory runs short. Default: the temporary directory.</summary>
    public string? ObjectSpillDirectory { get; init; }

    /// <summary>
    /// The fraction of <see cref="ObjectStoreMemory"/> above which new objects make the least recently used objects
    /// that no one is reading spill to disk. Default 0.8, as in Ray.
    /// </summary>
    public double ObjectSpillThreshold { get; init; } = 0.8;

    /// <summary>The most bytes spilled objects may take on disk. Default: no limit but the disk's free space (less a 5% reserve).</summary>
    public long? ObjectSpillLimit { get; init; }

    /// <summary>
    /// What is kept of failed tasks and actor calls so that <see cref="RayTaskException.Replay"/> can run them again in
    /// this process, and whether each is also written to a file for <c>raygen replay FILE</c>. Default: the last 100
    /// failures, 64 MiB of arguments, for an hour, no files. Applies to a cluster driver's job too.
    /// </summary>
    public FailedTaskCaptureOptions FailedTaskCapture { get; init; } = new();
}
