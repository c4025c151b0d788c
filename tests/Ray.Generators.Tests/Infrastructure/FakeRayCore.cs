using MemoryPack;
using Ray.Infrastructure;

namespace Ray.Generators.Tests.Infrastructure;

/// <summary>
/// A runtime that runs each submitted task at once, in this process, through the registries that the generated
/// module initializers fill: the same path a worker takes, minus the processes and the network. Actors live in
/// a table here, made by their registered constructors; their calls run at once, one after another.
/// Installed for the lifetime of the object, since a process has one runtime at a time.
/// </summary>
internal sealed class FakeRayCore : IRayCore, IDisposable
{
    private readonly Dictionary<ObjectId, (ReadOnlyMemory<byte> Value, RayTaskException? Error)> _objects = new();
    private readonly Dictionary<ActorId, object> _actors = new();

    public FakeRayCore()
    {
        RayCore.Install(this);
    }

    /// <summary>Every submission, in order.</summary>
    public List<(RemoteFunctionDescriptor Function, TaskOptions? Options, TaskArgument[] Arguments)> Submissions { get; } = new();

    /// <summary>Every actor creation, in order.</summary>
    public List<(ActorClassDescriptor ActorClass, RemoteFunctionDescriptor Constructor, ActorOptions? Options, TaskArgument[] Arguments)> ActorCreations { get; } = new();

    /// <summary>Every actor method call, in order.</summary>
    public List<(ActorId Actor, ActorClassDescriptor ActorClass, RemoteFunctionDescriptor Method, TaskArgument[] Arguments)> ActorCalls { get; } = new();

    /// <summary>The live actor instances.</summary>
    public IReadOnlyDictionary<ActorId, object> Actors => _actors;

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

    public ActorId CreateActor(ActorClassDescriptor actorClass, RemoteFunctionDescriptor constructor, ActorOptions? options, TaskArgument[] arguments)
    {
        ActorCreations.Add((actorClass, constructor, options, arguments));
        if (!ActorRegistry.TryGetConstructor(constructor.Id, out var registration))
        {
            throw new InvalidOperationException($"{constructor.Name} ({constructor.Id:x16}) is not registered.");
        }

        if (!ReferenceEquals(registration.ActorClass, actorClass))
        {
            throw new InvalidOperationException($"{constructor.Name} is registered for {registration.ActorClass.Name}, but was called for {actorClass.Name}.");
        }

        var (values, error) = Resolve(arguments);
        if (error is not null)
        {
            throw error;
        }

        var invocation = new TaskInvocation(registration.Descriptor, values, TaskCancellationToken);
        object instance;
        try
        {
            instance = registration.Create(invocation);
        }
        finally
        {
            invocation.CloseViews();
        }

        // The runtime finds an actor's class by this name, so it must be the type's full name with '.' for '+'.
        var typeName = instance.GetType().FullName!.Replace('+', '.');
        if (typeName != actorClass.Name)
        {
            throw new InvalidOperationException($"The actor class descriptor says '{actorClass.Name}', but the constructor made a '{typeName}'.");
        }

        var id = ActorId.New();
        _actors[id] = instance;
        return id;
    }

    public ObjectId SubmitActorTask(ActorId actor, ActorClassDescriptor actorClass, RemoteFunctionDescriptor method, TaskArgument[] arguments)
    {
        ActorCalls.Add((actor, actorClass, method, arguments));
        if (!ActorRegistry.TryGetMethod(method.Id, out var registration))
        {
            throw new InvalidOperationException($"{method.Name} ({method.Id:x16}) is not registered.");
        }

        if (!ReferenceEquals(registration.ActorClass, actorClass))
        {
            throw new InvalidOperationException($"{method.Name} is registered for {registration.ActorClass.Name}, but was called for {actorClass.Name}.");
        }

        var instance = _actors[actor];
        var id = ObjectId.New();
        _objects[id] = Execute(method, arguments, invocation => registration.Invoke(instance, invocation));
        return id;
    }

    public ValueTask<T> GetAsync<T>(ObjectRef reference, CancellationToken cancellationToken) => new(Get<T>(reference, null));

    public T Get<T>(ObjectRef reference, TimeSpan? timeout) => MemoryPackSerializer.Deserialize<T>(Ready(reference.Id).Span)!;

    public ValueTask WaitReadyAsync(ObjectRef reference, CancellationToken cancellationToken)
    {
        Ready(reference.Id);
        return default;
    }

    public void WaitReady(ObjectRef reference, TimeSpan? timeout) => Ready(reference.Id);

    private (ReadOnlyMemory<byte>, RayTaskException?) Run(RemoteFunctionDescriptor function, TaskArgument[] arguments)
    {
        if (!RemoteFunctionRegistry.TryGet(function.Id, out var registration))
        {
            throw new InvalidOperationException($"{function.Name} ({function.Id:x16}) is not registered.");
        }

        return Execute(registration.Descriptor, arguments, invocation => registration.Invoker(invocation));
    }

    /// <summary>Resolves the arguments and runs <paramref name="invoke"/>, catching what it throws as the task's error.</summary>
    private (ReadOnlyMemory<byte>, RayTaskException?) Execute(
        RemoteFunctionDescriptor function,
        TaskArgument[] arguments,
        Func<TaskInvocation, ValueTask<ReadOnlyMemory<byte>>> invoke)
    {
        var (values, error) = Resolve(arguments);
        if (error is not null)
        {
            // A task whose input failed fails with the same error, as in Ray.
            return (default, error);
        }

        var invocation = new TaskInvocation(function, values, TaskCancellationToken);
        try
        {
            // Off the test's thread, so user code that awaits never needs the blocked thread back.
            var result = Task.Run(() => invoke(invocation).AsTask()).GetAwaiter().GetResult();
            return (result, null);
        }
        catch (Exception e)
        {
            return (default, new RayTaskException(function.Name, e.GetType().FullName!, e.Message, e.StackTrace ?? string.Empty));
        }
        finally
        {
            // As the runtime does: the views of the arguments belong to the call.
            invocation.CloseViews();
        }
    }

    /// <summary>The arguments' bytes, futures replaced by their values; the error of the first failed future, if any.</summary>
    private (List<ReadOnlyMemory<byte>> Values, RayTaskException? Error) Resolve(TaskArgument[] arguments)
    {
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
                return (values, error);
            }

            values.Add(value);
        }

        return (values, null);
    }

    private ReadOnlyMemory<byte> Ready(ObjectId id)
    {
        var (value, error) = _objects[id];
        return error is null ? value : throw error;
    }
}
