using System.ComponentModel;

namespace Ray.Infrastructure;

/// <summary>
/// An actor class as the generator sees it: its name, the assembly that defines it, and the defaults from
/// its <see cref="RemoteAttribute"/>. Constructors and methods are <see cref="RemoteFunctionDescriptor"/>s.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class ActorClassDescriptor
{
    /// <summary>Creates a descriptor.</summary>
    public ActorClassDescriptor(string name, string assemblyName)
    {
        Name = name;
        AssemblyName = assemblyName;
    }

    /// <summary>The class's full name, for example <c>MyApp.Counter</c>.</summary>
    public string Name { get; }

    /// <summary>The simple name of the assembly that defines the class.</summary>
    public string AssemblyName { get; }

    /// <summary>CPUs an instance holds for its whole life.</summary>
    public double NumCpus { get; init; }

    /// <summary>Restarts after its worker dies.</summary>
    public int MaxRestarts { get; init; }

    /// <summary>Retries of a call in flight after a restart.</summary>
    public int MaxTaskRetries { get; init; }

    /// <summary>Calls that may run at once.</summary>
    public int MaxConcurrency { get; init; } = 1;

    /// <summary>Whether each instance gets a worker process of its own.</summary>
    public bool DedicatedProcess { get; init; }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
