using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;

namespace Ray.Infrastructure;

/// <summary>Creates an actor instance from a constructor call's arguments.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate object ActorConstructor(TaskInvocation invocation);

/// <summary>Runs one actor method on an instance and returns the serialized result.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public delegate ValueTask<ReadOnlyMemory<byte>> ActorMethodInvoker(object instance, TaskInvocation invocation);

/// <summary>The table of actor constructors and methods that generated <c>[ModuleInitializer]</c>s fill.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ActorRegistry
{
    private static readonly ConcurrentDictionary<ulong, ConstructorRegistration> Constructors = new();
    private static readonly ConcurrentDictionary<ulong, MethodRegistration> Methods = new();

    /// <summary>Registers a constructor of an actor class.</summary>
    public static void RegisterConstructor(RemoteFunctionDescriptor constructor, ActorClassDescriptor actorClass, ActorConstructor create) =>
        Add(Constructors, constructor, new ConstructorRegistration(constructor, actorClass, create));

    /// <summary>Registers a public instance method of an actor class.</summary>
    public static void RegisterMethod(RemoteFunctionDescriptor method, ActorClassDescriptor actorClass, ActorMethodInvoker invoke) =>
        Add(Methods, method, new MethodRegistration(method, actorClass, invoke));

    /// <summary>Every registered actor method, for listings and diagnostics.</summary>
    public static IReadOnlyCollection<MethodRegistration> AllMethods => [.. Methods.Values];

    /// <summary>Finds a constructor.</summary>
    public static bool TryGetConstructor(ulong id, [NotNullWhen(true)] out ConstructorRegistration? registration) =>
        Constructors.TryGetValue(id, out registration);

    /// <summary>Finds a method.</summary>
    public static bool TryGetMethod(ulong id, [NotNullWhen(true)] out MethodRegistration? registration) =>
        Methods.TryGetValue(id, out registration);

    private static void Add<T>(ConcurrentDictionary<ulong, T> table, RemoteFunctionDescriptor descriptor, T registration)
        where T : class, IRegistration
    {
        var existing = table.GetOrAdd(descriptor.Id, registration);
        if (!ReferenceEquals(existing, registration) && existing.Descriptor.Name != descriptor.Name)
        {
            throw new InvalidOperationException(
                $"Actor members '{existing.Descriptor.Name}' and '{descriptor.Name}' hash to the same id {descriptor.Id:x16}; rename one of them.");
        }
    }

    /// <summary>What both kinds of registration share.</summary>
    public interface IRegistration
    {
        /// <summary>The member.</summary>
        RemoteFunctionDescriptor Descriptor { get; }
    }

    /// <summary>A registered constructor.</summary>
    public sealed record ConstructorRegistration(RemoteFunctionDescriptor Descriptor, ActorClassDescriptor ActorClass, ActorConstructor Create) : IRegistration;

    /// <summary>A registered method.</summary>
    public sealed record MethodRegistration(RemoteFunctionDescriptor Descriptor, ActorClassDescriptor ActorClass, ActorMethodInvoker Invoke) : IRegistration;
}
