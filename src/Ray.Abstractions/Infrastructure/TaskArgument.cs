using System.ComponentModel;
using MemoryPack;

namespace Ray.Infrastructure;

/// <summary>
/// One top-level argument of a submitted task: serialized bytes, or the id of an object the task waits for.
/// It keeps the <see cref="ObjectRef"/>s it stands for (or holds inside its bytes) reachable until it is submitted,
/// so that their objects cannot be freed in between.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct TaskArgument
{
    private TaskArgument(ReadOnlyMemory<byte> value, ObjectId reference, ObjectRef? handle, bool ownsReference, ObjectRef[]? contained)
    {
        Value = value;
        Reference = reference;
        ReferenceHandle = handle;
        OwnsReference = ownsReference;
        Contained = contained;
    }

    /// <summary>The serialized value, when <see cref="IsReference"/> is false.</summary>
    public ReadOnlyMemory<byte> Value { get; }

    /// <summary>The object this argument waits for, when <see cref="IsReference"/> is true.</summary>
    public ObjectId Reference { get; }

    /// <summary>Whether the argument is a future.</summary>
    public bool IsReference => !Reference.IsNil;

    /// <summary>The references written inside <see cref="Value"/>; the task keeps their objects alive until it ends.</summary>
    internal ObjectRef[]? Contained { get; }

    /// <summary>The reference this argument stands for, kept reachable until the task is submitted.</summary>
    internal ObjectRef? ReferenceHandle { get; }

    /// <summary>Whether <see cref="ReferenceHandle"/> was made for this argument alone (a large value stored as an object).</summary>
    internal bool OwnsReference { get; }

    /// <summary>An argument holding serialized bytes.</summary>
    public static TaskArgument FromBytes(ReadOnlyMemory<byte> value) => new(value, ObjectId.Nil, null, false, null);

    /// <summary>An argument that is resolved from an object before the task runs.</summary>
    public static TaskArgument FromReference(ObjectId reference) => new(default, reference, null, false, null);

    /// <summary>Serializes a stub's argument (through the runtime, which may store a large value as an object), or keeps its future.</summary>
    /// <param name="argument">The argument as the caller gave it.</param>
    /// <param name="parameterName">The parameter's name, for error messages.</param>
    public static TaskArgument From<T>(in Arg<T> argument, string parameterName)
    {
        if (argument.Reference is { } reference)
        {
            return FromReference(reference, ownsReference: false);
        }

        try
        {
            return RayCore.CurrentOrNull is { } core
                ? core.SerializeArgument(argument.Value)
                : FromBytes(MemoryPackSerializer.Serialize(argument.Value));
        }
        catch (Exception e) when (e is not ObjectStoreFullException)
        {
            throw new RaySerializationException(
                $"Argument '{parameterName}' of type {typeof(T)} could not be serialized: {e.Message}", e);
        }
    }

    /// <summary>Serialized bytes that hold <paramref name="contained"/> references.</summary>
    internal static TaskArgument FromBytes(ReadOnlyMemory<byte> value, ObjectRef[]? contained) => new(value, ObjectId.Nil, null, false, contained);

    /// <summary>A future; <paramref name="ownsReference"/> when the reference exists only for this argument.</summary>
    internal static TaskArgument FromReference(ObjectRef reference, bool ownsReference) =>
        new(default, reference.Id, reference, ownsReference, null);

    /// <summary>
    /// The arguments without the caller's <see cref="ObjectRef"/> instances, for the runtime to keep while the task is
    /// pending (it counts the objects itself, so the caller's references may be collected meanwhile). Returns
    /// <paramref name="arguments"/> itself when none holds an instance.
    /// </summary>
    internal static TaskArgument[] Detach(TaskArgument[] arguments)
    {
        TaskArgument[]? detached = null;
        for (var i = 0; i < arguments.Length; i++)
        {
            var argument = arguments[i];
            if (argument.ReferenceHandle is null && argument.Contained is null)
            {
                continue;
            }

            detached ??= (TaskArgument[])arguments.Clone();
            detached[i] = argument.IsReference ? FromReference(argument.Reference) : FromBytes(argument.Value);
        }

        return detached ?? arguments;
    }

    /// <summary>
    /// Called once the arguments were submitted (the task now keeps their objects alive): drops the references made
    /// only for this call, so a large argument is freed as soon as the task is done with it.
    /// </summary>
    internal static void Submitted(TaskArgument[] arguments)
    {
        foreach (var argument in arguments)
        {
            if (argument.OwnsReference)
            {
                argument.ReferenceHandle!.Release();
            }
        }

        GC.KeepAlive(arguments);
    }
}
