using MemoryPack;
using Ray.Infrastructure;

namespace Ray.Generators.Tests.Infrastructure;

/// <summary>
/// A runtime that runs each submitted task at once, in this process, through the registry that the generated
/// module initializers fill: the same path a worker takes, minus the processes and the network.
/// Installed for the lifetime of the object, since a process has one runtime at a time.
/// </summary>
internal sealed class FakeRayCore : IRayCore, IDisposable
{
    private readonly Dictionary<ObjectId, (ReadOnlyMemory<byte> Value, RayTaskException? Error)> _objects = new();

    public FakeRayCore()
    {
        RayCore.Install(this);
    }

    /// <summary>Every submission, in order.</summary>
    public List<(RemoteFunctionDescriptor Function, TaskOptions? Options, TaskArgument[] Arguments)> Submissions { get; } = new();

    /// <summary>The token the next tasks receive, so tests can see it reach user code.</summary>
    public CancellationToken TaskCancellationToken { get; set; }

    public void Dispose() => RayCore.Uninstall(this);

    public ObjectId SubmitTask(RemoteFunctionDescriptor function, TaskOptions? options, TaskArgument[] arguments)
    {
        Submissions.Add((function, options, arguments));
        var id = ObjectId.New();
        _objects[id] = Run(function, arguments);
        return id;
    }

    public ValueTask<T> GetAsync<T>(ObjectId id, CancellationToken cancellationToken) => new(Get<T>(id, null));

    public T Get<T>(ObjectId id, TimeSpan? timeout) => MemoryPackSerializer.Deserialize<T>(Ready(id).Span)!;

    public ValueTask WaitReadyAsync(ObjectId id, CancellationToken cancellationToken)
    {
        Ready(id);
        return default;
    }

    public void WaitReady(ObjectId id, TimeSpan? timeout) => Ready(id);

    private (ReadOnlyMemory<byte>, RayTaskException?) Run(RemoteFunctionDescriptor function, TaskArgument[] arguments)
    {
        if (!RemoteFunctionRegistry.TryGet(function.Id, out var registration))
        {
            throw new InvalidOperationException($"{function.Name} ({function.Id:x16}) is not registered.");
        }

        var values = new List<ReadOnlyMemory<byte>>(arguments.Length);
        foreach (var argument in arguments)
        {
            if (!argument.IsReference)
            {
                values.Add(argument.Value);
                continue;
            }

            var (value, error) = _objects[argument.Reference];
            if (error is not null)
            {
                // A task whose input failed fails with the same error, as in Ray.
                return (default, error);
            }

            values.Add(value);
        }

        try
        {
            var invocation = new TaskInvocation(registration.Descriptor, values, TaskCancellationToken);

            // Off the test's thread, so user code that awaits never needs the blocked thread back.
            var result = Task.Run(() => registration.Invoker(invocation).AsTask()).GetAwaiter().GetResult();
            return (result, null);
        }
        catch (Exception e)
        {
            return (default, new RayTaskException(function.Name, e.GetType().FullName!, e.Message, e.StackTrace ?? string.Empty));
        }
    }

    private ReadOnlyMemory<byte> Ready(ObjectId id)
    {
        var (value, error) = _objects[id];
        return error is null ? value : throw error;
    }
}
