using System.Globalization;

namespace Ray;

/// <summary>
/// The identity of a job: one driver's run on a cluster. The cluster's GCS hands it out when the driver connects; an
/// embedded node's only job is 1. Every task, object and actor id starts with its job's id.
/// </summary>
public readonly record struct JobId(uint Value)
{
    /// <summary>No job: ids made outside any runtime (tests, tools).</summary>
    public static JobId Nil => default;

    /// <summary>The job of an embedded node (<c>RayRuntime.InitAsync()</c> without an address).</summary>
    public static JobId Embedded => new(1);

    /// <inheritdoc/>
    public override string ToString() => Value.ToString("x8", CultureInfo.InvariantCulture);
}
