using System.Collections.Concurrent;
using Ray.Actors;
using Ray.Core;
using Ray.Infrastructure;
using Ray.Runtime.Protocol;

namespace Ray.Worker;

/// <summary>
/// A worker's core worker: nested submissions, puts and object requests travel to the raylet over the
/// worker's stream, the same protocol a remote node uses. The worker owns what it submits: the raylet sends
/// those results here unasked, so awaiting them costs no request. Objects received are kept for later gets.
/// </summary>
internal sealed class WorkerCoreWorker(Action<WorkerMessage> send) : CoreWorker
{
    private readonly ConcurrentDictionary<ObjectId, TaskCompletionSource<ObjectPayload>> _objects = new();
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<(ActorId, string)>> _lookups = new();
    private long _nextLookup;

    public override ActorId CreateActor(ActorClassDescriptor actorClass, RemoteFunctionDescriptor constructor, ActorOptions? options, TaskArgument[] arguments)
    {
        var id = ActorId.New();
        send(new WorkerMessage { CreateActor = ActorSpecs.Create(id, actorClass, constructor, options, arguments) });
        return id;
    }

    public override ObjectId SubmitActorTask(ActorId actor, ActorClassDescriptor actorClass, RemoteFunctionDescriptor method, TaskArgument[] arguments)
    {
        var id = ObjectId.New();
        Expect(id);
        send(new WorkerMessage { SubmitActorTask = ActorSpecs.Call(id, actor, actorClass, method, arguments) });
        return id;
    }

    public override void KillActor(ActorId actor) => send(new WorkerMessage { KillActor = new KillActor { ActorId = actor.Value.ToProto() } });

    public override async ValueTask<(ActorId Id, string ClassName)> LookupActorAsync(string name, CancellationToken cancellationToken)
    {
        var requestId = (ulong)Interlocked.Increment(ref _nextLookup);
        var reply = new TaskCompletionSource<(ActorId, string)>(TaskCreationOptions.RunContinuationsAsynchronously);
        _lookups[requestId] = reply;
        send(new WorkerMessage { LookupActor = new LookupActor { RequestId = requestId, Name = name } });
        using (EnterBlocked())
        {
            return await reply.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The raylet's answer to a named-actor look-up.</summary>
    public void OnActorLookup(ActorLookupReply reply)
    {
        if (_lookups.TryRemove(reply.RequestId, out var request))
        {
            if (reply.Error.Length > 0)
            {
                request.TrySetException(new ArgumentException(reply.Error));
            }
            else
            {
                request.TrySetResult((new ActorId(reply.ActorId.ToObjectId()), reply.ClassName));
            }
        }
    }

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

        ProtoArguments.AddTo(submit.Args, arguments);

        Expect(id);
        send(new WorkerMessage { Submit = submit });
        return id;
    }

    public override ObjectId Put(ReadOnlyMemory<byte> payload)
    {
        var id = ObjectId.New();
        var stored = new TaskCompletionSource<ObjectPayload>(TaskCreationOptions.RunContinuationsAsynchronously);
        stored.SetResult(new ObjectPayload(payload, null));
        _objects[id] = stored;
        send(new WorkerMessage { Put = new PutObject { Id = id.ToProto(), Value = ProtoConversions.Wrap(payload) } });
        return id;
    }

    public override void Cancel(ObjectId id) => send(new WorkerMessage { Cancel = new CancelTask { TaskId = id.ToProto() } });

    public override Task WhenReady(ObjectId id) => Request(id).Task;

    public override IDisposable? EnterBlocked()
    {
        // A short task running on the reading thread must not block it: the value it waits for arrives there.
        RayletReader.LeaveReadingThread();
        return TaskContext.Current?.Block();
    }

    /// <summary>An object the raylet sent in answer to a request.</summary>
    public void OnObjectValue(ObjectValue value)
    {
        if (_objects.TryGetValue(value.Id.ToObjectId(), out var request))
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

    /// <summary>Registers an object this worker owns; the raylet will send its value unasked.</summary>
    private void Expect(ObjectId id) =>
        _objects.TryAdd(id, new TaskCompletionSource<ObjectPayload>(TaskCreationOptions.RunContinuationsAsynchronously));

    private TaskCompletionSource<ObjectPayload> Request(ObjectId id)
    {
        if (_objects.TryGetValue(id, out var existing))
        {
            return existing;
        }

        var request = new TaskCompletionSource<ObjectPayload>(TaskCreationOptions.RunContinuationsAsynchronously);
        var winner = _objects.GetOrAdd(id, request);
        if (winner != request)
        {
            return winner;
        }

        send(new WorkerMessage { Get = new GetObject { Id = id.ToProto() } });
        return request;
    }
}
