namespace Ray;

/// <summary>
/// What the runtime keeps of failed calls so that they can be run again in the debugger (<see cref="RayTaskException.Replay"/>,
/// <c>raygen replay FILE</c>). When a task or actor method throws, its owner (the node of the process that submitted it)
/// keeps its function, its serialized arguments and, for an actor method, the actor's constructor and its arguments:
/// the last <see cref="MaxFailures"/> failures, at most <see cref="MaxBytes"/> of arguments, each for at most
/// <see cref="MaxAge"/>, the oldest evicted first. Large arguments (in the object store) are kept by reference, so they
/// stay in the store while their failure is kept, and count towards <see cref="MaxBytes"/>. Nothing is kept for calls
/// that succeed: the owner already holds a call's spec while it runs, and only a failure copies it here.
/// </summary>
public sealed record FailedTaskCaptureOptions
{
    /// <summary>The default of <see cref="MaxFailures"/>.</summary>
    public const int DefaultMaxFailures = 100;

    /// <summary>The default of <see cref="MaxBytes"/>: 64 MiB.</summary>
    public const long DefaultMaxBytes = 64L << 20;

    /// <summary>The default of <see cref="MaxAge"/>.</summary>
    public static readonly TimeSpan DefaultMaxAge = TimeSpan.FromHours(1);

    /// <summary>Whether failed calls are kept at all. Default true; false makes <see cref="RayTaskException.Replay"/> say so.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>How many failed calls are kept; older ones are evicted. Default 100.</summary>
    public int MaxFailures { get; init; } = DefaultMaxFailures;

    /// <summary>
    /// How many bytes of arguments (inline values and stored objects together) the kept failures may hold; older ones are
    /// evicted, and a failure whose arguments alone are larger is not kept in memory (it is still written to
    /// <see cref="Directory"/>). Default 64 MiB.
    /// </summary>
    public long MaxBytes { get; init; } = DefaultMaxBytes;

    /// <summary>How long a failed call is kept. Default one hour.</summary>
    public TimeSpan MaxAge { get; init; } = DefaultMaxAge;

    /// <summary>
    /// A directory to write each failed call to, as a file that <c>raygen replay FILE</c> runs in a new process (one JSON
    /// file per failure, named after the function and the call's id). Default: none. On a cluster, the node the driver
    /// submits through writes them, on its machine (the driver's, when a node runs there).
    /// </summary>
    public string? Directory { get; init; }
}
