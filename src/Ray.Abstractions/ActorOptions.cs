namespace Ray;

/// <summary>
/// Options for creating one actor. A property left <see langword="null"/> keeps the value of the class's
/// <see cref="RemoteAttribute"/>.
/// </summary>
/// <example><code>Counter.WithOptions(new() { Name = "c1", MaxRestarts = 3 }).Remote(10);</code></example>
public sealed record ActorOptions
{
    /// <summary>Registers the actor under this name in the job, so <c>ray.GetActor&lt;A&gt;(name)</c> finds it anywhere.</summary>
    public string? Name { get; init; }

    /// <summary>How many times the actor is restarted (its constructor re-run with the original arguments) when its worker dies. Default 0.</summary>
    public int? MaxRestarts { get; init; }

    /// <summary>How many times a call in flight is retried after the actor restarts. Default 0.</summary>
    public int? MaxTaskRetries { get; init; }

    /// <summary>How many calls may run at once; above 1, async methods interleave at their awaits. Default 1.</summary>
    public int? MaxConcurrency { get; init; }

    /// <summary>CPUs the actor holds for its whole life. Default 0, so thousands of actors fit on a node.</summary>
    public double? NumCpus { get; init; }

    /// <summary>Whether the actor gets a worker process of its own instead of sharing one. Default false.</summary>
    public bool? DedicatedProcess { get; init; }

    /// <summary>Custom resources the actor holds for its whole life, by name: it is placed on a node that offers them.</summary>
    public IReadOnlyDictionary<string, double>? Resources { get; init; }

    /// <summary>Where the cluster places the actor. Default <see cref="Ray.SchedulingStrategy.Default"/>.</summary>
    public SchedulingStrategy? SchedulingStrategy { get; init; }
}
