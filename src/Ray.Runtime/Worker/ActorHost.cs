using System.Collections.Concurrent;
using System.Threading.Channels;
using Ray.Core;
using Ray.Infrastructure;
using Ray.Runtime.Protocol;

namespace Ray.Worker;

/// <summary>
/// One actor living in this worker: its instance and its mailbox. The constructor runs first; then up to
/// <c>MaxConcurrency</c> consumers take calls in arrival order (with one, calls run strictly one at a time;
/// with more, async methods interleave at their awaits). Many actors share a worker, each with its own mailbox.
/// </summary>
internal sealed class ActorHost
{
    private readonly CreateActor _spec;
    private readonly TaskExecutor _executor;
    private readonly Channel<ExecuteActorTask> _mailbox;
    private readonly TaskCompletionSource _constructed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<ObjectId, CancellationTokenSource> _calls = new();
    private object? _instance;
    private ErrorInfo? _death;

    public ActorHost(CreateActor spec, TaskExecutor executor)
    {
        _spec = spec;
        _executor = executor;
        Id = new ActorId(spec.ActorId.ToObjectId());
        _mailbox = Channel.CreateUnbounded<ExecuteActorTask>(new UnboundedChannelOptions { SingleReader = spec.MaxConcurrency == 1 });
        ThreadPool.UnsafeQueueUserWorkItem(static host => host.Construct(), this, preferLocal: false);
        for (var i = 0; i < spec.MaxConcurrency; i++)
        {
            _ = ConsumeAsync();
        }
    }

    public ActorId Id { get; }

    public void Enqueue(ExecuteActorTask call)
    {
        if (!_mailbox.Writer.TryWrite(call))
        {
            Report(call, _death ?? Died("it was stopped"));
        }
    }

    /// <summary>Cancels a call: a running one sees its token fire; a queued one fails as cancelled when its turn comes.</summary>
    public void Cancel(ObjectId callId)
    {
        var cancellation = _calls.GetOrAdd(callId, static _ => new CancellationTokenSource());
        cancellation.Cancel();
    }

    /// <summary>Stops the actor: queued calls fail, the instance is disposed if it is disposable.</summary>
    public void Kill()
    {
        _death ??= Died("it was killed with ray.Kill");
        _mailbox.Writer.TryComplete();
        _ = DisposeInstanceAsync();
    }

    private void Construct()
    {
        var context = new TaskContext(Id.Value, lease: null);
        TaskContext.Current = context;
        CallArguments? arguments = null;
        TaskInvocation? invocation = null;
        try
        {
            if (!_executor.TryLoad(_spec.AssemblyName, out var failure) ||
                !ActorRegistry.TryGetConstructor(_spec.ConstructorId, out var constructor))
            {
                throw new RayException(failure.Length > 0
                    ? failure
                    : $"Unknown actor constructor {_spec.ConstructorName}: the driver and the worker run different builds of the code.");
            }

            arguments = CallArguments.ResolveAsync(_spec.Args, _executor.Core, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            invocation = new TaskInvocation(constructor.Descriptor, arguments.Values, CancellationToken.None);
            _instance = constructor.Create(invocation);
        }
        catch (Exception e)
        {
            var error = RayErrors.TaskFailed(_spec.ConstructorName, e, Environment.ProcessId);
            error.Kind = ErrorKind.ActorDied;
            error.ActorId = _spec.ActorId;
            error.ActorClass = _spec.ClassName;
            error.Reason = $"its constructor threw {error.ExceptionType}: {error.Message}";
            _death = error;
            _executor.Send(new WorkerMessage { ActorReady = new ActorReady { ActorId = _spec.ActorId, Error = error } });
        }
        finally
        {
            invocation?.CloseViews();
            arguments?.Dispose();
            TaskOutput.EndOfCall(context);
            TaskContext.Current = null;
        }

        _constructed.TrySetResult();
    }

    private async Task ConsumeAsync()
    {
        await _constructed.Task.ConfigureAwait(false);
        var reader = _mailbox.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var call))
            {
                await ExecuteAsync(call).ConfigureAwait(false);
            }
        }

        // Drained after Kill: everything still queued fails with the reason.
        while (reader.TryRead(out var call))
        {
            Report(call, _death!);
        }
    }

    private async Task ExecuteAsync(ExecuteActorTask call)
    {
        if (_death is { } death)
        {
            Report(call, death);
            return;
        }

        var finished = new TaskFinished { TaskId = call.TaskId, ActorId = call.ActorId };
        var callId = call.TaskId.ToObjectId();

        // A cancellation that arrived before the call started already made its token source, cancelled.
        var cancellation = _calls.GetOrAdd(callId, static _ => new CancellationTokenSource());
        var context = new TaskContext(callId, lease: null);
        TaskContext.Current = context;
        CallArguments? arguments = null;
        ObjectRef[]? contained = null;
        var generator = call.Generator is null ? null : _executor.Generator(callId);
        try
        {
            if (cancellation.IsCancellationRequested)
            {
                finished.Error = RayErrors.Cancelled(call.MethodName);
            }
            else if (!ActorRegistry.TryGetMethod(call.MethodId, out var method))
            {
                finished.Error = RayErrors.System(call.MethodName, $"Unknown actor method {call.MethodName} (id {call.MethodId:x16}): the driver and the worker run different builds of the code.");
            }
            else if (!method.ActorClass.Name.Equals(_spec.ClassName, StringComparison.Ordinal))
            {
                finished.Error = RayErrors.System(call.MethodName, $"Actor {Id} is a {_spec.ClassName}, not a {method.ActorClass.Name}; the actor is unaffected.");
            }
            else
            {
                arguments = await CallArguments.ResolveAsync(call.Args, _executor.Core, cancellation.Token).ConfigureAwait(false);
                var invocation = new TaskInvocation(method.Descriptor, arguments.Values, cancellation.Token) { Generator = generator };
                try
                {
                    var pending = method.Invoke(_instance!, invocation);
                    var result = pending.IsCompletedSuccessfully ? pending.Result : await pending.ConfigureAwait(false);
                    contained = CallArguments.SetResult(finished, call.TaskId.ToObjectId(), result);
                }
                finally
                {
                    invocation.CloseViews();
                }
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            finished.Error = RayErrors.Cancelled(call.MethodName);
        }
        catch (Exception e)
        {
            finished.Error = RayErrors.TaskFailed(call.MethodName, e, Environment.ProcessId);
        }
        finally
        {
            arguments?.Dispose();
            _executor.EndGenerator(callId, generator);
            _calls.TryRemove(callId, out _);
            cancellation.Dispose();
            TaskOutput.EndOfCall(context);
            TaskContext.Current = null;
        }

        _executor.Send(new WorkerMessage { Finished = finished });
        GC.KeepAlive(contained);
    }

    private void Report(ExecuteActorTask call, ErrorInfo error)
    {
        _executor.EndGenerator(call.TaskId.ToObjectId(), _executor.Generator(call.TaskId.ToObjectId()));
        _executor.Send(new WorkerMessage { Finished = new TaskFinished { TaskId = call.TaskId, ActorId = call.ActorId, Error = error } });
    }

    private ErrorInfo Died(string reason) => new()
    {
        Kind = ErrorKind.ActorDied,
        ActorId = _spec.ActorId,
        ActorClass = _spec.ClassName,
        Reason = reason,
    };

    private async Task DisposeInstanceAsync()
    {
        await _constructed.Task.ConfigureAwait(false);
        try
        {
            switch (_instance)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"Disposing actor {_spec.ClassName} {Id} threw {e.GetType().Name}: {e.Message}").ConfigureAwait(false);
        }
    }
}
