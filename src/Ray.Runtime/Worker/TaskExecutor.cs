using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Ray.Core;
using Ray.Infrastructure;
using Ray.Runtime.Protocol;

namespace Ray.Worker;

/// <summary>
/// Runs the tasks the raylet sends to this worker: finds the function in the registry (loading the job's
/// assembly on first use), deserializes arguments through the generated invoker, and reports a value or an
/// error. Every failure, including a malformed payload or an unknown function, becomes an error result for
/// that task; the worker keeps serving.
/// </summary>
internal sealed class TaskExecutor
{
    private readonly ConcurrentDictionary<ulong, LeaseQueue> _leases = new();
    private readonly ConcurrentDictionary<ObjectId, CancellationTokenSource> _running = new();
    private readonly ConcurrentDictionary<ActorId, ActorHost> _actors = new();
    private readonly ConcurrentDictionary<ObjectId, GeneratorWriter> _generators = new();
    private readonly Action<WorkerMessage> _send;
    private readonly Func<JobAssemblyLoader?> _loader;
    private readonly int _processId = Environment.ProcessId;

    public TaskExecutor(Action<WorkerMessage> send, Func<JobAssemblyLoader?> loader, ConnectedCoreWorker core)
    {
        _send = send;
        _loader = loader;
        Core = core;
    }

    public ConnectedCoreWorker Core { get; }

    public void Send(WorkerMessage message) => _send(message);

    public void Enqueue(ExecuteTask task)
    {
        if (task.Generator is { } generator)
        {
            // Registered on arrival: how far the reader got may be told before the task starts.
            _generators[task.TaskId.ToObjectId()] = new GeneratorWriter(task.TaskId.ToObjectId(), task.LeaseId, null, generator, Core, _send);
        }

        while (true)
        {
            var lease = _leases.GetOrAdd(task.LeaseId, static (id, executor) => new LeaseQueue(id, executor), this);
            if (lease.TryEnqueue(task))
            {
                return;
            }

            _leases.TryRemove(new KeyValuePair<ulong, LeaseQueue>(lease.Id, lease));
        }
    }

    public void CreateActor(CreateActor spec)
    {
        var host = new ActorHost(spec, this);
        _actors[host.Id] = host;
    }

    public void ExecuteActorTask(ExecuteActorTask call)
    {
        if (_actors.TryGetValue(new ActorId(call.ActorId.ToObjectId()), out var host))
        {
            if (call.Generator is { } generator)
            {
                _generators[call.TaskId.ToObjectId()] = new GeneratorWriter(call.TaskId.ToObjectId(), 0, call.ActorId, generator, Core, _send);
            }

            host.Enqueue(call);
            return;
        }

        Send(new WorkerMessage
        {
            Finished = new TaskFinished
            {
                TaskId = call.TaskId,
                ActorId = call.ActorId,
                Error = RayErrors.System(call.MethodName, $"Actor {call.ActorId.ToObjectId()} does not live in worker pid {_processId}."),
            },
        });
    }

    public void KillActor(ActorId id)
    {
        if (_actors.TryRemove(id, out var host))
        {
            host.Kill();
        }
    }

    /// <summary>Loads a job assembly if needed; false with the reason when it cannot be loaded.</summary>
    public bool TryLoad(string assemblyName, out string failure)
    {
        failure = string.Empty;
        if (_loader() is not { } loader)
        {
            failure = "The worker received work before it registered with the raylet.";
            return false;
        }

        try
        {
            loader.EnsureLoaded(assemblyName);
            return true;
        }
        catch (RayException e)
        {
            failure = e.Message;
            return false;
        }
    }

    /// <summary>Fires the token of an actor call that runs here, or drops it if it is still queued.</summary>
    public void CancelActorCall(ActorId actor, ObjectId callId)
    {
        if (_actors.TryGetValue(actor, out var host))
        {
            host.Cancel(callId);
        }
    }

    /// <summary>The writer of a streaming call that arrived here, or null for a call that returns one value.</summary>
    public GeneratorWriter? Generator(ObjectId callId) => _generators.TryGetValue(callId, out var writer) ? writer : null;

    /// <summary>A streaming call ended (or was dropped before it started): its writer goes.</summary>
    public void EndGenerator(ObjectId callId, GeneratorWriter? writer)
    {
        if (writer is not null)
        {
            _generators.TryRemove(new KeyValuePair<ObjectId, GeneratorWriter>(callId, writer));
        }
    }

    /// <summary>The reader of a streaming call's items has taken <paramref name="consumed"/> of them.</summary>
    public void OnGeneratorConsumed(GeneratorConsumed consumed)
    {
        if (_generators.TryGetValue(consumed.TaskId.ToObjectId(), out var writer))
        {
            writer.OnConsumed(consumed.Consumed);
        }
    }

    public void Forget(LeaseQueue lease) => _leases.TryRemove(new KeyValuePair<ulong, LeaseQueue>(lease.Id, lease));

    public void Cancel(ObjectId taskId)
    {
        if (_running.TryGetValue(taskId, out var cancellation))
        {
            cancellation.Cancel();
            return;
        }

        foreach (var lease in _leases.Values)
        {
            if (lease.TryRemove(taskId, out var removed))
            {
                EndGenerator(taskId, Generator(taskId));
                Send(new WorkerMessage
                {
                    Finished = new TaskFinished
                    {
                        TaskId = removed!.TaskId,
                        LeaseId = removed.LeaseId,
                        Error = RayErrors.Cancelled(removed.FunctionName),
                    },
                });
                return;
            }
        }
    }

    public async Task ExecuteAsync(ExecuteTask task, LeaseQueue lease)
    {
        var id = task.TaskId.ToObjectId();
        using var cancellation = new CancellationTokenSource();
        _running[id] = cancellation;
        var finished = new TaskFinished { TaskId = task.TaskId, LeaseId = task.LeaseId };
        var started = Stopwatch.GetTimestamp();
        var context = new TaskContext(id, lease);
        TaskContext.Current = context;
        CallArguments? arguments = null;
        ObjectRef[]? contained = null;
        var generator = task.Generator is null ? null : Generator(id);
        try
        {
            if (TryResolve(task, out var registration, out var failure))
            {
                arguments = await CallArguments.ResolveAsync(task.Args, Core, cancellation.Token).ConfigureAwait(false);
                var invocation = new TaskInvocation(registration.Descriptor, arguments.Values, cancellation.Token) { Generator = generator };
                try
                {
                    var pending = registration.Invoker(invocation);
                    var result = pending.IsCompletedSuccessfully ? pending.Result : await pending.ConfigureAwait(false);
                    contained = CallArguments.SetResult(finished, id, result);
                }
                finally
                {
                    invocation.CloseViews();
                }
            }
            else
            {
                finished.Error = RayErrors.System(task.FunctionName, failure);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            finished.Error = RayErrors.Cancelled(task.FunctionName);
        }
        catch (Exception e)
        {
            finished.Error = RayErrors.TaskFailed(task.FunctionName, e, _processId);
        }
        finally
        {
            arguments?.Dispose();
            EndGenerator(id, generator);
            TaskOutput.EndOfCall(context);
            TaskContext.Current = null;
            _running.TryRemove(id, out _);
        }

        finished.ExecutionMicros = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        Send(new WorkerMessage { Finished = finished });
        GC.KeepAlive(contained);
    }

    private bool TryResolve(ExecuteTask task, [NotNullWhen(true)] out RemoteFunctionRegistry.Registration? registration, out string failure)
    {
        failure = string.Empty;
        if (RemoteFunctionRegistry.TryGet(task.FunctionId, out registration))
        {
            return true;
        }

        if (!TryLoad(task.AssemblyName, out failure))
        {
            return false;
        }

        if (RemoteFunctionRegistry.TryGet(task.FunctionId, out registration))
        {
            return true;
        }

        failure = $"Unknown function id {task.FunctionId:x16} ({task.FunctionName}): assembly '{task.AssemblyName}' was loaded but registers no " +
                  "remote function with this id. The driver and the worker run different builds of the code; rebuild and restart.";
        return false;
    }
}
