using System.Collections.Concurrent;
using Ray.Core;
using Ray.Infrastructure;
using Ray.Runtime.Protocol;

namespace Ray.Worker;

/// <summary>
/// A worker's core worker: nested submissions, puts and object requests travel to the raylet over the
/// worker's stream, the same protocol a remote node uses.
/// </summary>
internal sealed class WorkerCoreWorker(Action<WorkerMessage> send) : CoreWorker
{
    private readonly ConcurrentDictionary<ObjectId, TaskCompletionSource<ObjectPayload>> _requested = new();

    public override ObjectId SubmitTask(RemoteFunctionDescriptor function, TaskOptions? options, TaskArgument[] arguments)
    {
        var id = ObjectId.New();
        var submit = new SubmitTask
        {
            ReturnId = id.ToProto(),
            FunctionId = function.Id,
            FunctionName = function.Name,
            AssemblyName = function.AssemblyName,
            NumCpus = options?.NumCpus ?? function.NumCpus,
            NumGpus = options?.NumGpus ?? function.NumGpus,
            MaxRetries = options?.MaxRetries ?? function.MaxRetries,
            RetryExceptions = options?.RetryExceptions ?? function.RetryExceptions,
            Name = options?.Name ?? string.Empty,
        };
        if (options?.Resources is { } resources)
        {
            foreach (var (name, amount) in resources)
            {
                submit.Resources[name] = amount;
            }
        }

        foreach (var argument in arguments)
        {
            submit.Args.Add(argument.IsReference
                ? new TaskArg { Reference = argument.Reference.ToProto() }
                : new TaskArg { Value = ProtoConversions.Wrap(argument.Value) });
        }

        send(new WorkerMessage { Submit = submit });
        return id;
    }

    public override ObjectId Put(ReadOnlyMemory<byte> payload)
    {
        var id = ObjectId.New();
        send(new WorkerMessage { Put = new PutObject { Id = id.ToProto(), Value = ProtoConversions.Wrap(payload) } });
        return id;
    }

    public override void Cancel(ObjectId id) => send(new WorkerMessage { Cancel = new CancelTask { TaskId = id.ToProto() } });

    public override Task WhenReady(ObjectId id) => Request(id).Task;

    public override IDisposable? EnterBlocked() => TaskContext.Current?.Block();

    /// <summary>An object the raylet sent in answer to a request.</summary>
    public void OnObjectValue(ObjectValue value)
    {
        if (_requested.TryRemove(value.Id.ToObjectId(), out var request))
        {
            request.TrySetResult(value.OutcomeCase == ObjectValue.OutcomeOneofCase.Error
                ? new ObjectPayload(default, value.Error)
                : new ObjectPayload(value.Value.Memory, null));
        }
    }

    protected override ValueTask<ObjectPayload> ResolveAsync(ObjectId id, CancellationToken cancellationToken)
    {
        var task = Request(id).Task;
        return new ValueTask<ObjectPayload>(cancellationToken.CanBeCanceled ? task.WaitAsync(cancellationToken) : task);
    }

    protected override string Describe(ObjectId id) => "the worker asked its raylet for it and it is not ready yet";

    private TaskCompletionSource<ObjectPayload> Request(ObjectId id)
    {
        if (_requested.TryGetValue(id, out var existing))
        {
            return existing;
        }

        var request = new TaskCompletionSource<ObjectPayload>(TaskCreationOptions.RunContinuationsAsynchronously);
        var winner = _requested.GetOrAdd(id, request);
        if (winner != request)
        {
            return winner;
        }

        send(new WorkerMessage { Get = new GetObject { Id = id.ToProto() } });
        return request;
    }
}
