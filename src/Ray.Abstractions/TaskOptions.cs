namespace Ray;

/// <summary>
/// Per-call options for a remote function. A property left <see langword="null"/> keeps the value of the
/// method's <see cref="RemoteAttribute"/>.
/// </summary>
/// <example><code>Work.Remote.WithOptions(new() { NumCpus = 2, MaxRetries = 0 }).Add(1, 2);</code></example>
public sealed record TaskOptions
{
    /// <summary>The default of <see cref="MaxRetries"/>, as in Ray.</summary>
    public const int DefaultMaxRetries = 3;

    /// <summary>The <see cref="GeneratorBackpressureNumObjects"/> that sets no limit (the default, as in Ray).</summary>
    public const int NoBackpressure = -1;

    /// <summary>CPUs the task reserves; fractional values are allowed.</summary>
    public double? NumCpus { get; init; }

    /// <summary>GPUs the task reserves.</summary>
    public double? NumGpus { get; init; }

    /// <summary>Custom resources the task reserves, by name.</summary>
    public IReadOnlyDictionary<string, double>? Resources { get; init; }

    /// <summary>How many times the task is retried when its worker dies.</summary>
    public int? MaxRetries { get; init; }

    /// <summary>Whether the task is also retried when user code throws.</summary>
    public bool? RetryExceptions { get; init; }

    /// <summary>A name for the task, shown in logs and listings instead of the function's name.</summary>
    public string? Name { get; init; }

    /// <summary>Where the cluster runs the task. Default <see cref="Ray.SchedulingStrategy.Default"/>.</summary>
    public SchedulingStrategy? SchedulingStrategy { get; init; }

    /// <summary>
    /// For a streaming task (one returning an <see cref="ObjectRefStream{T}"/>): how many items it may have written that
    /// the consumer has not read yet before it pauses (Ray's <c>_generator_backpressure_num_objects</c>). At least 1, or
    /// <see cref="NoBackpressure"/> for no limit. Tasks that return one value ignore it.
    /// </summary>
    public int? GeneratorBackpressureNumObjects { get; init; }
}
