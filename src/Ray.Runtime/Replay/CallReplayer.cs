using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.Infrastructure;
using Ray.Logging;
using Ray.Runtime.Protocol;

namespace Ray.Replay;

/// <summary>
/// Runs a failed call again in this process, from its <see cref="FailedCallRecord"/>: the same generated invoker a worker
/// runs, on the same argument bytes, so the function's own code runs on the calling thread (a breakpoint in it is hit)
/// and its exception propagates unchanged. An actor method gets a new instance made by the actor's constructor from its
/// recorded arguments, which is said in the log since the failed actor's state may have differed.
/// </summary>
internal sealed class CallReplayer
{
    private readonly Action<string> _loadAssembly;
    private readonly ILogger _logger;

    /// <param name="loadAssembly">Loads an assembly of the job by its simple name, running its registrations.</param>
    /// <param name="logger">Where the replay says what it runs (category <c>Ray.Replay</c>).</param>
    public CallReplayer(Action<string> loadAssembly, ILogger logger)
    {
        _loadAssembly = loadAssembly;
        _logger = logger;
    }

    /// <summary>Loads a job's assembly from this process's own load context, as a driver runs its job's code.</summary>
    public static void LoadIntoDefaultContext(string assemblyName)
    {
        var assembly = Assembly.Load(new AssemblyName(assemblyName));
        RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
    }

    /// <summary>Runs the call on the calling thread and waits for it; what it throws propagates.</summary>
    public void Run(FailedCallRecord record, CancellationToken cancellationToken)
    {
        var pending = Start(record, cancellationToken, out var finish);
        try
        {
            Discard(pending.IsCompleted ? pending.Result : pending.AsTask().GetAwaiter().GetResult());
        }
        finally
        {
            finish();
        }
    }

    /// <summary>Runs the call; what it throws faults the task.</summary>
    public async Task RunAsync(FailedCallRecord record, CancellationToken cancellationToken)
    {
        var pending = Start(record, cancellationToken, out var finish);
        try
        {
            Discard(await pending.ConfigureAwait(false));
        }
        finally
        {
            finish();
        }
    }

    /// <summary>Starts the call: the function's code runs on this thread up to its first await.</summary>
    private ValueTask<ReadOnlyMemory<byte>> Start(FailedCallRecord record, CancellationToken cancellationToken, out Action finish)
    {
        var arguments = Values(record.Args);
        if (record.ActorClass.Length == 0)
        {
            var function = ResolveFunction(record);
            _logger.ReplayingTask(record.FunctionName, record.TaskId.ToObjectId());
            var invocation = new TaskInvocation(function.Descriptor, arguments, cancellationToken);
            finish = invocation.CloseViews;
            try
            {
                return function.Invoker(invocation);
            }
            catch
            {
                finish();
                throw;
            }
        }

        var (constructor, method) = ResolveActor(record);
        _logger.ReplayingActorMethod(record.FunctionName, record.TaskId.ToObjectId(), record.ActorClass, record.ConstructorName);
        var construction = new TaskInvocation(constructor.Descriptor, Values(record.ConstructorArgs), cancellationToken);
        object instance;
        try
        {
            instance = constructor.Create(construction);
        }
        finally
        {
            construction.CloseViews();
        }

        var call = new TaskInvocation(method.Descriptor, arguments, cancellationToken);
        finish = () =>
        {
            call.CloseViews();
            switch (instance)
            {
                case IAsyncDisposable asyncDisposable:
                    asyncDisposable.DisposeAsync().AsTask().GetAwaiter().GetResult();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        };
        try
        {
            return method.Invoke(instance, call);
        }
        catch
        {
            finish();
            throw;
        }
    }

    private static ReadOnlyMemory<byte>[] Values(Google.Protobuf.Collections.RepeatedField<Google.Protobuf.ByteString> values)
    {
        var arguments = new ReadOnlyMemory<byte>[values.Count];
        for (var i = 0; i < arguments.Length; i++)
        {
            arguments[i] = values[i].Memory;
        }

        return arguments;
    }

    /// <summary>A result written into the object store (a large one, in a driver) is not kept: the replay is not a task.</summary>
    private static void Discard(ReadOnlyMemory<byte> result)
    {
        if (MemoryMarshal.TryGetMemoryManager(result, out SerializedResult? serialized) && serialized.Allocation is { } allocation)
        {
            allocation.Abort();
        }
    }

    private RemoteFunctionRegistry.Registration ResolveFunction(FailedCallRecord record)
    {
        if (!RemoteFunctionRegistry.TryGet(record.FunctionId, out var function))
        {
            Load(record.AssemblyName, record.FunctionName);
            if (!RemoteFunctionRegistry.TryGet(record.FunctionId, out function))
            {
                throw NotRegistered(record.FunctionName, record.FunctionId, record.AssemblyName);
            }
        }

        return function;
    }

    private (ActorRegistry.ConstructorRegistration Constructor, ActorRegistry.MethodRegistration Method) ResolveActor(FailedCallRecord record)
    {
        if (record.ConstructorName.Length == 0)
        {
            throw new ReplayUnavailableException(
                $"{record.FunctionName} is a method of actor {record.ActorClass}, but its owner does not know how that actor was made (it was created " +
                "through another node), so there is no constructor to make a new instance with.");
        }

        if (!ActorRegistry.TryGetConstructor(record.ConstructorId, out var constructor) || !ActorRegistry.TryGetMethod(record.FunctionId, out var method))
        {
            Load(record.ConstructorAssembly.Length > 0 ? record.ConstructorAssembly : record.AssemblyName, record.FunctionName);
            if (!ActorRegistry.TryGetConstructor(record.ConstructorId, out constructor))
            {
                throw NotRegistered(record.ConstructorName, record.ConstructorId, record.ConstructorAssembly);
            }

            if (!ActorRegistry.TryGetMethod(record.FunctionId, out method))
            {
                throw NotRegistered(record.FunctionName, record.FunctionId, record.AssemblyName);
            }
        }

        return (constructor, method);
    }

    private void Load(string assemblyName, string functionName)
    {
        try
        {
            _loadAssembly(assemblyName);
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException or RayException)
        {
            throw new ReplayUnavailableException($"{functionName} cannot be replayed here: its assembly '{assemblyName}' could not be loaded: {e.Message}", e);
        }
    }

    private static ReplayUnavailableException NotRegistered(string name, ulong id, string assemblyName) => new(
        $"{name} (id {id:x16}) is not registered in this process after loading '{assemblyName}': the call was made by another build of the code. " +
        "Replay it with the build that failed.");
}
