namespace Ray;

/// <summary>
/// Marks a static method as a remote function (a Ray <em>task</em>) or a class as an <em>actor</em>.
/// The RayGen source generator emits strongly typed <c>.Remote</c> stubs for every marked member.
/// </summary>
/// <remarks>
/// The containing type must be <c>partial</c>. Values set here are the defaults for every call and can be
/// overridden per call with <c>WithOptions</c>.
/// </remarks>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RemoteAttribute : Attribute
{
    /// <summary>
    /// CPUs one invocation reserves on its node; fractional values are allowed. Default 1 for tasks; an actor
    /// holds what is set here for its whole life (0 unless set).
    /// </summary>
    public double NumCpus { get; set; } = 1;

    /// <summary>GPUs one invocation reserves on its node. Default 0.</summary>
    public double NumGpus { get; set; }

    /// <summary>How many times a task is retried when its worker process dies. Default 3.</summary>
    public int MaxRetries { get; set; } = TaskOptions.DefaultMaxRetries;

    /// <summary>Whether a task is also retried (up to <see cref="MaxRetries"/>) when user code throws. Default false.</summary>
    public bool RetryExceptions { get; set; }

    /// <summary>Actors: how many times the actor is restarted when its worker dies. Default 0.</summary>
    public int MaxRestarts { get; set; }

    /// <summary>Actors: how many times a call in flight is retried after a restart. Default 0.</summary>
    public int MaxTaskRetries { get; set; }

    /// <summary>Actors: how many calls may run at once. Default 1 (calls run one at a time).</summary>
    public int MaxConcurrency { get; set; } = 1;

    /// <summary>Actors: whether the actor gets a worker process of its own. Default false.</summary>
    public bool DedicatedProcess { get; set; }

    /// <summary>
    /// Whether a method returning <see cref="IEnumerable{T}"/> streams its items (Ray's <c>num_returns="streaming"</c>):
    /// its stub returns an <see cref="ObjectRefStream{T}"/> and each item becomes an object of its own while the method
    /// runs. Without it, an <see cref="IEnumerable{T}"/> result is one value, a list. A method returning
    /// <see cref="IAsyncEnumerable{T}"/> always streams. Default false.
    /// </summary>
    public bool Streaming { get; set; }

    /// <summary>
    /// Streaming methods: how many items the producer may have written that the consumer has not read yet; it pauses at
    /// that many until the consumer reads one (Ray's <c>_generator_backpressure_num_objects</c>). At least 1, or -1 (the
    /// default) for no limit. Set it on a streaming task or actor method.
    /// </summary>
    public int GeneratorBackpressureNumObjects { get; set; } = TaskOptions.NoBackpressure;
}
