using System.ComponentModel;
using MemoryPack;

namespace Ray.Infrastructure;

/// <summary>
/// One top-level argument of a submitted task: serialized bytes, or the id of an object the task waits for.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct TaskArgument
{
    private TaskArgument(ReadOnlyMemory<byte> value, ObjectId reference)
    {
        Value = value;
        Reference = reference;
    }

    /// <summary>The serialized value, when <see cref="IsReference"/> is false.</summary>
    public ReadOnlyMemory<byte> Value { get; }

    /// <summary>The object this argument waits for, when <see cref="IsReference"/> is true.</summary>
    public ObjectId Reference { get; }

    /// <summary>Whether the argument is a future.</summary>
    public bool IsReference => !Reference.IsNil;

    /// <summary>An argument holding serialized bytes.</summary>
    public static TaskArgument FromBytes(ReadOnlyMemory<byte> value) => new(value, ObjectId.Nil);

    /// <summary>An argument that is resolved from an object before the task runs.</summary>
    public static TaskArgument FromReference(ObjectId reference) => new(default, reference);

    /// <summary>Serializes a stub's argument with MemoryPack, or keeps its future's id.</summary>
    /// <param name="argument">The argument as the caller gave it.</param>
    /// <param name="parameterName">The parameter's name, for error messages.</param>
    public static TaskArgument From<T>(in Arg<T> argument, string parameterName)
    {
        if (argument.Reference is { } reference)
        {
            return FromReference(reference.Id);
        }

        try
        {
            return FromBytes(MemoryPackSerializer.Serialize(argument.Value));
        }
        catch (Exception e)
        {
            throw new RaySerializationException(
                $"Argument '{parameterName}' of type {typeof(T)} could not be serialized: {e.Message}", e);
        }
    }
}
