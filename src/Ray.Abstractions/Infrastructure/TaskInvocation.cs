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
    private List<IDisposable>? _views;

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

    /// <summary>
    /// Where a streaming generator's items go, set by the runtime for a streaming call; null elsewhere (a replay in the
    /// caller's process runs the generator to its end, or to its exception, and keeps no item).
    /// </summary>
    public IGeneratorItemWriter? Generator { get; init; }

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

    /// <summary>
    /// Opens argument <paramref name="index"/> as a zero-copy view of an array, for an <see cref="ArrayView{T}"/>
    /// parameter. The view belongs to this call and is closed by <see cref="CloseViews"/> when the call returns.
    /// </summary>
    public ArrayView<T> View<T>(int index, string parameterName)
        where T : unmanaged
    {
        if ((uint)index >= (uint)_arguments.Count)
        {
            throw new RaySerializationException(
                $"{Function.Name} expects an argument '{parameterName}' at position {index}, but the call carried {_arguments.Count} argument(s).");
        }

        ArrayView<T> view;
        try
        {
            view = ArrayView<T>.Create(ObjectId.Nil, _arguments[index], release: null);
        }
        catch (RaySerializationException e)
        {
            throw new RaySerializationException($"Argument '{parameterName}' of {Function.Name} could not be read as ArrayView<{typeof(T).Name}>: {e.Message}", e);
        }

        var views = Volatile.Read(ref _views) ?? Interlocked.CompareExchange(ref _views, [], null) ?? _views!;
        lock (views)
        {
            views.Add(view);
        }

        return view;
    }

    /// <summary>Closes the views this call opened; the runtime calls it when the call has returned.</summary>
    public void CloseViews()
    {
        if (Interlocked.Exchange(ref _views, null) is not { } views)
        {
            return;
        }

        lock (views)
        {
            foreach (var view in views)
            {
                view.Dispose();
            }
        }
    }

    /// <summary>
    /// Runs a streaming generator: writes each item it yields to <see cref="Generator"/> as its own object, skipping those
    /// an earlier attempt delivered, and stops at the next item once the call is cancelled. The call's own result is empty.
    /// </summary>
    public async ValueTask<ReadOnlyMemory<byte>> Stream<T>(IAsyncEnumerable<T> items)
    {
        if (items is null)
        {
            throw new InvalidOperationException($"{Function.Name} returned null instead of an IAsyncEnumerable<{typeof(T).Name}>.");
        }

        var generator = Generator;
        var skip = generator?.ItemsToSkip ?? 0;
        var index = 0;
        await foreach (var item in items.WithCancellation(CancellationToken).ConfigureAwait(false))
        {
            CancellationToken.ThrowIfCancellationRequested();
            if (generator is not null && index >= skip)
            {
                await generator.WriteAsync(index, Serialize(item), CancellationToken).ConfigureAwait(false);
            }

            index++;
        }

        return default;
    }

    /// <summary>Runs a streaming generator written as an iterator (a method returning <see cref="IEnumerable{T}"/> marked <c>Streaming</c>); see <see cref="Stream{T}(IAsyncEnumerable{T})"/>.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> Stream<T>(IEnumerable<T> items)
    {
        if (items is null)
        {
            throw new InvalidOperationException($"{Function.Name} returned null instead of an IEnumerable<{typeof(T).Name}>.");
        }

        var generator = Generator;
        var skip = generator?.ItemsToSkip ?? 0;
        var index = 0;
        foreach (var item in items)
        {
            CancellationToken.ThrowIfCancellationRequested();
            if (generator is not null && index >= skip)
            {
                await generator.WriteAsync(index, Serialize(item), CancellationToken).ConfigureAwait(false);
            }

            index++;
        }

        return default;
    }

    /// <summary>Serializes a result.</summary>
    public static ValueTask<ReadOnlyMemory<byte>> Return<T>(T value) => new(Serialize(value));

    /// <summary>Serializes a result, through the runtime of the process, which may place a large one in its object store.</summary>
    public static ReadOnlyMemory<byte> Serialize<T>(T value)
    {
        try
        {
            return RayCore.CurrentOrNull is { } core ? core.SerializeResult(value) : MemoryPackSerializer.Serialize(value);
        }
        catch (Exception e) when (e is not ObjectStoreFullException)
        {
            throw new RaySerializationException($"The result of type {typeof(T)} could not be serialized: {e.Message}", e);
        }
    }
}
