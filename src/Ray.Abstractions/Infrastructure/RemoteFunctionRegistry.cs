using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;

namespace Ray.Infrastructure;

/// <summary>Runs one remote function: reads the arguments from the invocation and returns the serialized result.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate ValueTask<ReadOnlyMemory<byte>> RemoteInvoker(TaskInvocation invocation);

/// <summary>
/// The table from function id to invoker that generated <c>[ModuleInitializer]</c>s fill, so that a worker
/// dispatches a task with a dictionary look-up and no reflection.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class RemoteFunctionRegistry
{
    private static readonly ConcurrentDictionary<ulong, Registration> Functions = new();

    /// <summary>Registers a function; registering the same descriptor twice is harmless, a colliding id is an error.</summary>
    public static void Register(RemoteFunctionDescriptor descriptor, RemoteInvoker invoker)
    {
        var registration = new Registration(descriptor, invoker);
        var existing = Functions.GetOrAdd(descriptor.Id, registration);
        if (!ReferenceEquals(existing, registration) && existing.Descriptor.Name != descriptor.Name)
        {
            throw new InvalidOperationException(
                $"Remote functions '{existing.Descriptor.Name}' and '{descriptor.Name}' hash to the same id {descriptor.Id:x16}; rename one of them.");
        }
    }

    /// <summary>Finds a registered function.</summary>
    public static bool TryGet(ulong id, [NotNullWhen(true)] out Registration? registration) => Functions.TryGetValue(id, out registration);

    /// <summary>The number of registered functions.</summary>
    public static int Count => Functions.Count;

    /// <summary>Every registered function, for listings and diagnostics.</summary>
    public static IReadOnlyCollection<Registration> All => [.. Functions.Values];

    /// <summary>A registered function.</summary>
    public sealed record Registration(RemoteFunctionDescriptor Descriptor, RemoteInvoker Invoker);
}
