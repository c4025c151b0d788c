using System.ComponentModel;

namespace Ray.Infrastructure;

/// <summary>
/// A remote function as the generator sees it: a stable id hashed from type, method and parameter types,
/// its readable name, the assembly that defines it, and the defaults from its <see cref="RemoteAttribute"/>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class RemoteFunctionDescriptor
{
    /// <summary>Creates a descriptor.</summary>
    public RemoteFunctionDescriptor(ulong id, string name, string assemblyName)
    {
        Id = id;
        Name = name;
        AssemblyName = assemblyName;
    }

    /// <summary>The stable id, the same in every process.</summary>
    public ulong Id { get; }

    /// <summary>The readable signature, for example <c>MyApp.Work.Add(int, int)</c>.</summary>
    public string Name { get; }

    /// <summary>The simple name of the assembly that defines the function; workers load it on first use.</summary>
    public string AssemblyName { get; }

    /// <summary>CPUs one call reserves.</summary>
    public double NumCpus { get; init; } = 1;

    /// <summary>GPUs one call reserves.</summary>
    public double NumGpus { get; init; }

    /// <summary>Retries when the worker dies.</summary>
    public int MaxRetries { get; init; } = TaskOptions.DefaultMaxRetries;

    /// <summary>Whether user exceptions are retried too.</summary>
    public bool RetryExceptions { get; init; }

    /// <summary>Whether the function is a streaming generator: each item it yields is an object of its own.</summary>
    public bool Streaming { get; init; }

    /// <summary>For a streaming generator: the items written and not read yet at which it pauses; -1 for no limit.</summary>
    public int GeneratorBackpressureNumObjects { get; init; } = TaskOptions.NoBackpressure;

    /// <inheritdoc/>
    public override string ToString() => Name;
}
