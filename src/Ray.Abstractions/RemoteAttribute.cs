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
    /// <summary>CPUs one invocation reserves on its node; fractional values are allowed. Default 1.</summary>
    public double NumCpus { get; set; } = 1;

    /// <summary>GPUs one invocation reserves on its node. Default 0.</summary>
    public double NumGpus { get; set; }

    /// <summary>How many times a task is retried when its worker process dies. Default 3.</summary>
    public int MaxRetries { get; set; } = TaskOptions.DefaultMaxRetries;

    /// <summary>Whether a task is also retried (up to <see cref="MaxRetries"/>) when user code throws. Default false.</summary>
    public bool RetryExceptions { get; set; }
}
