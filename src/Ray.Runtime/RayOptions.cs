using Microsoft.Extensions.Logging;

namespace Ray;

/// <summary>How <see cref="RayRuntime.InitAsync"/> starts the embedded node.</summary>
public sealed record RayOptions
{
    /// <summary>CPUs the node offers to tasks. Default: the machine's core count.</summary>
    public double? NumCpus { get; init; }

    /// <summary>GPUs the node offers to tasks. Default 0.</summary>
    public double NumGpus { get; init; }

    /// <summary>Custom resources the node offers, by name.</summary>
    public IReadOnlyDictionary<string, double>? Resources { get; init; }

    /// <summary>Worker processes to pre-start. Default: <see cref="NumCpus"/> rounded up.</summary>
    public int? NumWorkers { get; init; }

    /// <summary>The application directory whose assemblies workers load. Default: the driver's base directory.</summary>
    public string? AppDirectory { get; init; }

    /// <summary>The path of Ray.Worker.dll. Default: beside the application.</summary>
    public string? WorkerPath { get; init; }

    /// <summary>Extra environment variables for worker processes.</summary>
    public IReadOnlyDictionary<string, string>? WorkerEnvironment { get; init; }

    /// <summary>Where the lines workers print go, each prefixed with <c>(pid=N)</c>. Default: the console.</summary>
    public TextWriter? WorkerOutput { get; init; }

    /// <summary>Logs of the runtime. Default: warnings and errors to the console.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>How long <see cref="RayRuntime.InitAsync"/> waits for the workers to start. Default 60 s.</summary>
    public TimeSpan WorkerStartTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
