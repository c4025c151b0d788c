using System.ComponentModel;
using MemoryPack;

namespace Ray.Infrastructure;

/// <summary>
/// One execution of a remote function inside a worker: its resolved arguments and its cancellation token.
/// Generated invokers read arguments with <see cref="Arg{T}"/> and write the result with <see cref="Return{T}"/>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class TaskInvocation
{
    private readonly IReadOnlyList<ReadOnlyMemory<byte>> _arguments;

    /// <summary>Creates an invocation.</summary>
    public TaskInvocation(RemoteFunctionDescriptor function, IReadOnlyList<ReadOnlyMemory<byte>> arguments, CancellationToken cancellationToken)
    {
        Function = function;
        _arguments = arguments;
        CancellationToken = cancellationToken;
    }

    /// <summary>The function being run.</summary>
    public RemoteFunctionDescriptor Function { get; }

    /// <summary>Fires when the caller cancels the task with <c>ray.Cancel</c>.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>An empty result, for functions that return nothing.</summary>
    public static ValueTask<ReadOnlyMemory<byte>> Void => default;

    /// <summary>Deserializes argument <paramref name="index"/>; a payload that does not fit the type gives an error naming the parameter.</summary>
    public T Arg<T>(int index, string parameterName)
    {
        if ((uint)index >= (uint)_arguments.Count)
        {
            throw new RaySerializationException(
                $"{Function.Name} expects an argument '{parameterName}' at position {index}, but the call carried {_arguments.Count} argument(s).");
        }

        try
        {
            return MemoryPackSerializer.Deserialize<T>(_arguments[index].Span)!;
        }
        catch (Exception e)
        {
            throw new RaySerializationException(
                $"Argument '{parameterName}' of {Function.Name} could not be deserialized as {typeof(T)}: {e.Message}", e);
        }
    }

    /// <summary>Serializes a result.</summary>
    public static ValueTask<ReadOnlyMemory<byte>> Return<T>(T value) => new(Serialize(value));

    /// <summary>Serializes a result.</summary>
    public static ReadOnlyMemory<byte> Serialize<T>(T value)
    {
        try
        {
            return MemoryPackSerializer.Serialize(value);
        }
        catch (Exception e)
        {
            throw new RaySerializationException($"The result of type {typeof(T)} could not be serialized: {e.Message}", e);
        }
    }
}
