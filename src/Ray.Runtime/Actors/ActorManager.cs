using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.Infrastructure;
using Ray.Logging;
using Ray.ObjectStore;
using Ray.Raylet;
using Ray.Runtime.Protocol;
using Ray.Scheduling;

namespace Ray.Actors;

/// <summary>
/// The node's actor directory and router: places each actor on an actor worker (many share one process, and no
/// task runs there; a dedicated actor gets a process of its own), forwards calls in submission order once their
/// arguments are ready, keeps named actors, and restarts actors whose worker died while restarts remain. Objects are
/// completed only after the lock is released.
/// </summary>
internal sealed class ActorManager
{
    /// <summary>A spare list bigger than this (after a burst of failures) is left to the collector.</summary>
    private const int SpareCompletionsCapacity = 256;

    [ThreadStatic]
    private static List<(ActorCall, TaskResult)>? t_spareCompletions;

    private readonly object _lock = new();
    private readonly ObjectTable _objects;
    private readonly NodeResources _resources;
    private readonly ILogger _logger;
    private readonly Dictionary<ActorId, ActorRecord> _actors = [];
    private readonly Dictionary<string, ActorRecord> _named = new(StringComparer.Ordinal);
    private readonly Dictionary<WorkerHandle, HashSet<ActorRecord>> _workers = [];
    private readonly Dictionary<ObjectId, ActorRecord> _callActors = [];
    private readonly List<ActorCall> _readyCalls = [];
    private readonly System.Collections.Concurrent.ConcurrentQueue<(ActorId Id, string Reason)> _deaths = new();
    private readonly Dictionary<JobId, JobActors> _jobs = [];
    private readonly List<ActorRecord> _waitingForResources = [];
    private readonly int _maxActorWorkers;
    private Func<JobId, WorkerKind, bool> _startWorker = static (_, _) => false;
    private Action<WorkerHandle> _retireWorker = static _ => { };
    private long _nextSequence;

    /// <summary>Where calls of this node's processes that threw are kept for replay; null keeps none.</summary>
    public Replay.FailedCallStore? FailedCalls { get; set; }

    public ActorManager(ObjectTable objects, NodeResources resources, int maxActorWorkers, ILogger logger)
    {
        _objects = objects;
        _resources = resources;
        _maxActorWorkers = Math.Max(1, maxActorWorkers);
        _logger = logger;
        _resources.ReleasedByTask += PlaceWaitingForResources;
    }

    /// <summary>
    /// How the manager gets processes for actors: <paramref name="start"/> starts an actor worker or a dedicated one
    /// (false if it could not), <paramref name="retire"/> ends a dedicated worker whose actor was killed.
    /// </summary>
    public void UseWorkers(Func<JobId, WorkerKind, bool> start, Action<WorkerHandle> retire)
    {
        _startWorker = start;
        _retireWorker = retire;
    }

    /// <summary>Creates an actor. A name already taken by a live actor fails at once.</summary>
    public void Create(CreateActor spec)
    {
        var id = new ActorId(spec.ActorId.ToObjectId());
        var resources = ActorSpecs.Resources(spec);
        if (!_resources.Total.Contains(resources))
        {
            throw new InfeasibleTaskException(
                $"Actor {spec.ClassName} asks for {resources}, but the node has only {_resources.Total} in total, so it could never be placed.");
        }

        var arguments = ProtoArguments.FromProto(spec.Args);
        var actor = new ActorRecord { Id = id, Spec = spec, ConstructorArguments = arguments, References = ProtoArguments.Referenced(arguments, spec.Contained) };
        lock (_lock)
        {
            if (spec.Name.Length > 0)
            {
                if (_named.TryGetValue(spec.Name, out var existing) && existing.State != ActorState.Dead)
                {
                    throw new ArgumentException(
                        $"An actor named '{spec.Name}' already exists ({existing.ClassName} {existing.Id}); names are unique in a job. " +
                        "Use ray.GetActor to reach it, or choose another name.",
                        nameof(spec));
                }

                _named[spec.Name] = actor;
            }

            _actors[id] = actor;
            actor.PendingArguments = arguments.Count(a => a.IsReference) + 1;
        }

        _objects.AddReferences(actor.References, ReferenceKind.Task);
        WhenArgumentsReady(arguments, _ => OnConstructorArgumentReady(actor));
        OnConstructorArgumentReady(actor);
    }

    /// <summary>Records an actor whose creation was refused, so that calls through its handle fail with the reason.</summary>
    public void RecordFailedCreation(CreateActor spec, string reason)
    {
        var id = new ActorId(spec.ActorId.ToObjectId());
        lock (_lock)
        {
            if (_actors.ContainsKey(id))
            {
                return;
            }

            var actor = new ActorRecord { Id = id, Spec = spec, ConstructorArguments = [], References = [] };
            actor.State = ActorState.Dead;
            actor.DeathCause = ActorDied(actor, $"it could not be created: {reason}");
            _actors[id] = actor;
        }
    }

    /// <summary>
    /// Queues a call of <paramref name="caller"/> whose result is <paramref name="result"/> (or, for a call another node
    /// forwarded here, whose outcome goes to <paramref name="done"/>); it is sent to the actor after every earlier call of
    /// the same caller.
    /// </summary>
    public void Submit(
        SubmitActorTask spec,
        ObjectEntry? result,
        CallerKey caller,
        Action<ActorCall, TaskResult>? done = null,
        ObjectId[]? references = null,
        Action<ActorCall, int, TaskResult>? itemDone = null)
    {
        var id = spec.ReturnId.ToObjectId();
        var arguments = ProtoArguments.FromProto(spec.Args);
        var call = new ActorCall
        {
            Id = id,
            Spec = spec,
            Arguments = arguments,
            Result = result,
            Caller = caller,
            Done = done,
            ItemDone = itemDone,
            References = references ?? ProtoArguments.Referenced(arguments, spec.Contained),
        };
        _objects.AddReferences(call.References, ReferenceKind.Task);
        var completions = RentCompletions();
        lock (_lock)
        {
            var actorId = new ActorId(spec.ActorId.ToObjectId());
            if (!_actors.TryGetValue(actorId, out var actor))
            {
                completions.Add((call, TaskResult.Failure(RayErrors.System(spec.MethodName, $"Actor {actorId} does not exist in this cluster."))));
            }
            else if (!SameClass(actor.ClassName, spec.ClassName))
            {
                completions.Add((call, TaskResult.Failure(RayErrors.System(
                    spec.MethodName,
                    $"Actor {actorId} is a {actor.ClassName}, not a {spec.ClassName}: the handle was forged or deserialized as the wrong type. The actor is unaffected."))));
            }
            else if (actor.State == ActorState.Dead)
            {
                completions.Add((call, TaskResult.Failure(actor.DeathCause!)));
            }
            else
            {
                call.PendingArguments = arguments.Count(a => a.IsReference) + 1;
                call.Sequence = ++_nextSequence;
                actor.Pending.Enqueue(call);
                _callActors[id] = actor;
            }
        }

        Complete(completions);
        if (call.PendingArguments > 1)
        {
            WhenCallArgumentsReady(call);
        }

        if (call.PendingArguments > 0)
        {
            OnCallArgumentReady(call);
        }
    }

    /// <summary>
    /// Counts each of <paramref name="call"/>'s reference arguments off as it becomes ready. Kept apart from
    /// <see cref="Submit"/> so that a call without reference arguments (the common one) allocates no closure.
    /// </summary>
    private void WhenCallArgumentsReady(ActorCall call) => WhenArgumentsReady(call.Arguments, _ => OnCallArgumentReady(call));

    public void OnActorReady(WorkerHandle worker, ActorReady ready)
    {
        if (ready.Error is null)
        {
            return;
        }

        var completions = RentCompletions();
        lock (_lock)
        {
            if (_actors.TryGetValue(new ActorId(ready.ActorId.ToObjectId()), out var actor) && actor.Worker == worker)
            {
                var cause = ready.Error;
                cause.Kind = ErrorKind.ActorDied;
                cause.ActorId = actor.Id.Value.ToProto();
                cause.ActorClass = actor.ClassName;
                cause.Reason = $"its constructor threw {cause.ExceptionType}: {cause.Message}";
                Kill(actor, cause, completions);
            }
        }

        Complete(completions);
    }

    public void OnCallFinished(WorkerHandle worker, TaskFinished finished, TaskResult result)
    {
        ActorCall? call;
        lock (_lock)
        {
            var id = finished.TaskId.ToObjectId();
            if (!_actors.TryGetValue(new ActorId(finished.ActorId.ToObjectId()), out var actor) ||
                actor.Worker != worker ||
                !actor.InFlight.Remove(id, out call))
            {
                call = null;
            }
        }

        if (call is null)
        {
            // The actor was killed or restarted meanwhile; the call was already settled.
            result.Discard(_objects);
            return;
        }

        Settle(call, result);
    }

    /// <summary>
    /// An item a streaming method yielded: kept when it comes from the actor's worker now, for a call in flight, and is the
    /// next one expected (a call retried after a restart skips the items it delivered); written to the call's stream, or
    /// sent on to the caller's node.
    /// </summary>
    public void OnGeneratorItem(WorkerHandle worker, GeneratorItem item, TaskResult result)
    {
        ActorCall? call = null;
        lock (_lock)
        {
            if (_actors.TryGetValue(new ActorId(item.ActorId.ToObjectId()), out var actor) && actor.Worker == worker &&
                actor.InFlight.TryGetValue(item.TaskId.ToObjectId(), out var inFlight) && inFlight.Spec.Generator is not null &&
                item.Index == inFlight.StreamItems)
            {
                call = inFlight;
                call.StreamItems++;
                call.Result?.Stream?.Expect(call.StreamItems);
            }
        }

        if (call?.Result?.Stream is { } stream)
        {
            stream.Write((int)item.Index, result);
        }
        else if (call?.ItemDone is { } itemDone)
        {
            itemDone(call, (int)item.Index, result);
        }
        else
        {
            _logger.StreamItemDropped(item.Index, item.TaskId.ToObjectId(), worker.ToString());
            result.Discard(_objects);
        }
    }

    /// <summary>The reader of a streaming call's items took <paramref name="consumed"/> of them: the actor's worker is told.</summary>
    /// <returns>False when no pending call of this node makes the stream.</returns>
    public bool OnStreamConsumed(ObjectId callId, long consumed)
    {
        lock (_lock)
        {
            if (!_callActors.TryGetValue(callId, out var actor))
            {
                return false;
            }

            if (actor.InFlight.TryGetValue(callId, out var call) && consumed > call.StreamConsumed)
            {
                call.StreamConsumed = consumed;
                actor.Worker?.Send(new RayletMessage { GeneratorConsumed = new GeneratorConsumed { TaskId = callId.ToProto(), Consumed = consumed } });
            }
            else if (actor.Pending.Find(callId) is { } queued)
            {
                queued.StreamConsumed = Math.Max(queued.StreamConsumed, consumed);
            }

            return true;
        }
    }

    /// <summary>
    /// Cancels an actor call: one not sent to the actor yet is dropped and fails with <see cref="TaskCancelledException"/>;
    /// a running one has its method's <see cref="CancellationToken"/> fired. False when no pending call makes <paramref name="id"/>.
    /// </summary>
    public bool Cancel(ObjectId id)
    {
        ActorCall? dropped = null;
        var completions = RentCompletions();
        lock (_lock)
        {
            if (!_callActors.TryGetValue(id, out var actor))
            {
                return false;
            }

            if (actor.InFlight.ContainsKey(id))
            {
                actor.Worker?.Send(new RayletMessage { Cancel = new CancelTask { TaskId = id.ToProto(), ActorId = actor.Id.Value.ToProto() } });
                return true;
            }

            if (actor.Pending.Find(id) is { } queued && actor.Pending.Remove(queued))
            {
                dropped = queued;
            }

            if (dropped is not null)
            {
                // Later calls of the same caller no longer wait behind it.
                Pump(actor, completions);
            }
        }

        if (dropped is not null)
        {
            completions.Add((dropped, TaskResult.Failure(RayErrors.Cancelled(dropped.Spec.MethodName))));
        }

        Complete(completions);

        return true;
    }

    /// <summary>A job ended: its actors are killed and never restarted, and their names are free again.</summary>
    public void EndJob(JobId job)
    {
        var completions = RentCompletions();
        lock (_lock)
        {
            foreach (var actor in _actors.Values.Where(a => a.Id.Job == job && a.State != ActorState.Dead).ToArray())
            {
                Kill(actor, ActorDied(actor, $"its job {job} ended"), completions);
            }

            _jobs.Remove(job);
        }

        Complete(completions);
    }

    /// <summary>Raised (outside the lock) when an actor this node hosts dies for good, with the reason.</summary>
    public event Action<ActorId, string>? ActorEnded;

    /// <summary>Whether this node hosts (or hosted) the actor.</summary>
    public bool Hosts(ActorId id)
    {
        lock (_lock)
        {
            return _actors.ContainsKey(id);
        }
    }

    /// <summary>Stops an actor; its calls fail with <see cref="ActorDiedException"/>.</summary>
    public bool Kill(ActorId id)
    {
        var completions = RentCompletions();
        lock (_lock)
        {
            if (!_actors.TryGetValue(id, out var actor) || actor.State == ActorState.Dead)
            {
                return false;
            }

            Kill(actor, ActorDied(actor, "it was killed with ray.Kill"), completions);
        }

        Complete(completions);
        return true;
    }

    /// <summary>The live actor registered under <paramref name="name"/>.</summary>
    public (ActorId Id, string ClassName)? Lookup(string name)
    {
        lock (_lock)
        {
            return _named.TryGetValue(name, out var actor) && actor.State != ActorState.Dead ? (actor.Id, actor.ClassName) : null;
        }
    }

    public void AddWorker(WorkerHandle worker)
    {
        if (worker.Kind is not (WorkerKind.Actor or WorkerKind.Dedicated))
        {
            return;
        }

        var completions = RentCompletions();
        lock (_lock)
        {
            _workers[worker] = [];
            var job = Job(worker.Job);
            job.FailedStarts = 0;
            var waiting = worker.Kind == WorkerKind.Dedicated ? job.WaitingForDedicated : job.WaitingForActorWorker;
            if (worker.Kind == WorkerKind.Actor)
            {
                job.Starting = Math.Max(0, job.Starting - 1);
            }

            if (worker.Kind == WorkerKind.Dedicated)
            {
                while (waiting.TryDequeue(out var actor))
                {
                    if (actor.State == ActorState.Placing)
                    {
                        Place(actor, worker, completions);
                        break;
                    }
                }
            }
            else
            {
                var placing = waiting.ToArray();
                waiting.Clear();
                foreach (var actor in placing)
                {
                    if (actor.State == ActorState.Placing)
                    {
                        TryPlace(actor, completions);
                    }
                }
            }
        }

        Complete(completions);
    }

    /// <summary>
    /// A process started for actors exited before it registered. Its actors wait for another one; after a few failures
    /// in a row they fail with the reason instead of starting processes in a loop.
    /// </summary>
    public void OnWorkerStartFailed(JobId jobId, WorkerKind kind, string reason)
    {
        var completions = RentCompletions();
        lock (_lock)
        {
            var job = Job(jobId);
            var waiting = kind == WorkerKind.Dedicated ? job.WaitingForDedicated : job.WaitingForActorWorker;
            if (kind == WorkerKind.Actor)
            {
                job.Starting = Math.Max(0, job.Starting - 1);
            }

            if (++job.FailedStarts < 3)
            {
                if (waiting.Count > 0 && _startWorker(jobId, kind) && kind == WorkerKind.Actor)
                {
                    job.Starting++;
                }

                return;
            }

            while (waiting.TryDequeue(out var actor))
            {
                if (actor.State == ActorState.Placing)
                {
                    Kill(actor, ActorDied(actor, $"no worker process could be started for it: {reason}"), completions);
                }
            }
        }

        Complete(completions);
    }

    /// <summary>A worker died: its actors restart elsewhere while restarts remain, else they are dead.</summary>
    public void RemoveWorker(WorkerHandle worker, int? exitCode)
    {
        var completions = RentCompletions();
        lock (_lock)
        {
            if (!_workers.Remove(worker, out var actors))
            {
                return;
            }

            foreach (var actor in actors)
            {
                if (actor.State == ActorState.Dead)
                {
                    continue;
                }

                var how = $"its worker process (pid {worker.ProcessId}) died" + (exitCode is { } code ? $" with exit code {code}" : string.Empty);
                actor.Worker = null;
                if (actor.Restarts < actor.Spec.MaxRestarts)
                {
                    actor.Restarts++;
                    _logger.ActorRestarting(actor.ClassName, actor.Id, how, actor.Restarts, actor.Spec.MaxRestarts);
                    RequeueOrFailInFlight(actor, ActorDied(actor, $"{how} while the call ran; the actor is restarting"), completions);
                    actor.State = ActorState.Placing;
                    TryPlace(actor, completions);
                }
                else
                {
                    var reason = actor.Spec.MaxRestarts == 0
                        ? $"{how}, and it has no restarts (MaxRestarts = 0)"
                        : $"{how}, and it was already restarted {actor.Restarts} time(s) (MaxRestarts = {actor.Spec.MaxRestarts})";
                    Kill(actor, ActorDied(actor, reason), completions);
                }
            }
        }

        Complete(completions);
    }

    private static bool SameClass(string actual, string requested) =>
        string.Equals(actual, requested.Replace('+', '.'), StringComparison.Ordinal);

    private static ErrorInfo ActorDied(ActorRecord actor, string reason) => new()
    {
        Kind = ErrorKind.ActorDied,
        ActorId = actor.Id.Value.ToProto(),
        ActorClass = actor.ClassName,
        Reason = reason,
    };

    /// <summary>
    /// A list for the calls a step settles, taken from this thread's spare (most steps settle none, and a list per call
    /// was a tenth of an actor call's allocations); <see cref="Complete"/> hands it back. A settlement that submits
    /// again on the same thread finds no spare and gets a list of its own.
    /// </summary>
    private static List<(ActorCall, TaskResult)> RentCompletions()
    {
        var list = t_spareCompletions ?? [];
        t_spareCompletions = null;
        return list;
    }

    private void Complete(List<(ActorCall Call, TaskResult Result)> completions)
    {
        while (_deaths.TryDequeue(out var death))
        {
            ActorEnded?.Invoke(death.Id, death.Reason);
        }

        try
        {
            foreach (var (call, result) in completions)
            {
                Settle(call, result);
            }
        }
        finally
        {
            completions.Clear();
            if (completions.Capacity <= SpareCompletionsCapacity)
            {
                t_spareCompletions = completions;
            }
        }
    }

    /// <summary>Stores a call's result and lets go of its arguments.</summary>
    private void Settle(ActorCall call, TaskResult result)
    {
        ActorRecord? actor;
        lock (_lock)
        {
            _callActors.Remove(call.Id, out actor);
        }

        if (call.Result is { } entry)
        {
            if (result.Error is { Kind: ErrorKind.TaskFailed, FailedTask: null } error && actor is not null)
            {
                // The method threw: the exception names the call and its actor, and the call is kept for replay with
                // the actor's constructor, before the call's own references go.
                error.FailedTask = call.Id.ToProto();
                error.ActorId = actor.Id.Value.ToProto();
                error.ActorClass = actor.ClassName;
                FailedCalls?.Capture(Replay.CapturedCall.Of(call, actor.Spec, actor.ConstructorArguments, actor.References, error));
            }

            result.CompleteIn(_objects, entry);
        }
        else
        {
            // Forwarded here: the outcome goes to the caller's node.
            call.Done!(call, result);
        }

        _objects.ReleaseAll(call.References, ReferenceKind.Task);
    }

    private void WhenArgumentsReady(TaskArgument[] arguments, Action<ObjectEntry?> onReady)
    {
        foreach (var argument in arguments)
        {
            if (argument.IsReference)
            {
                if (_objects.TryGet(argument.Reference, out var entry))
                {
                    entry.OnReady(onReady);
                }
                else
                {
                    // An unknown object counts as ready; FailedArgument then fails the call with a clear error.
                    onReady(null);
                }
            }
        }
    }

    private void OnConstructorArgumentReady(ActorRecord actor)
    {
        var completions = RentCompletions();
        lock (_lock)
        {
            if (--actor.PendingArguments > 0 || actor.State != ActorState.PendingArgs)
            {
                return;
            }

            if (FailedArgument(actor.ConstructorArguments) is { } error)
            {
                Kill(actor, ActorDied(actor, $"an argument of its constructor failed: {RayErrors.ToException(error).Message}"), completions);
            }
            else
            {
                actor.State = ActorState.Placing;
                TryPlace(actor, completions);
            }
        }

        Complete(completions);
    }

    private void OnCallArgumentReady(ActorCall call)
    {
        var completions = RentCompletions();
        lock (_lock)
        {
            if (--call.PendingArguments > 0)
            {
                return;
            }

            if (_actors.TryGetValue(new ActorId(call.Spec.ActorId.ToObjectId()), out var actor))
            {
                Pump(actor, completions);
            }
        }

        Complete(completions);
    }

    private ErrorInfo? FailedArgument(TaskArgument[] arguments)
    {
        foreach (var argument in arguments)
        {
            if (!argument.IsReference)
            {
                continue;
            }

            if (!_objects.TryGet(argument.Reference, out var entry))
            {
                return RayErrors.NotFound(argument.Reference);
            }

            if (entry.Error is { } error)
            {
                // The failure travels on in this call's result.
                entry.ErrorObserved = true;
                return error;
            }
        }

        return null;
    }

    /// <summary>The resources of the actors that wait here for room, by shape: pending demand, as queued tasks are.</summary>
    public IReadOnlyList<KeyValuePair<ResourceSet, int>> WaitingDemand
    {
        get
        {
            lock (_lock)
            {
                return _waitingForResources.Count == 0
                    ? []
                    : [.. _waitingForResources.GroupBy(a => ActorSpecs.Resources(a.Spec)).Select(g => KeyValuePair.Create(g.Key, g.Count()))];
            }
        }
    }

    private void TryPlace(ActorRecord actor, List<(ActorCall, TaskResult)> completions)
    {
        if (!actor.HoldsResources)
        {
            var resources = ActorSpecs.Resources(actor.Spec);
            if (!_resources.TryAcquire(resources))
            {
                if (!_waitingForResources.Contains(actor))
                {
                    _waitingForResources.Add(actor);
                    _resources.SetActorsWaiting(true);
                }

                return;
            }

            actor.HoldsResources = true;
        }

        var job = Job(actor.Id.Job);
        if (actor.Spec.DedicatedProcess)
        {
            job.WaitingForDedicated.Enqueue(actor);
            _startWorker(actor.Id.Job, WorkerKind.Dedicated);
            return;
        }

        // Actors share actor workers, never task workers. Up to the node's limit, a new actor starts a new actor
        // worker while every running one already hosts actors, so actors spread over processes (and crash domains).
        WorkerHandle? best = null;
        var actorWorkers = 0;
        foreach (var (worker, actors) in _workers)
        {
            if (worker.Kind == WorkerKind.Actor && worker.Job == actor.Id.Job)
            {
                actorWorkers++;
                if (best is null || actors.Count < _workers[best].Count)
                {
                    best = worker;
                }
            }
        }

        var wantsAnother = best is null || _workers[best].Count > 0;
        if (wantsAnother && actorWorkers + job.Starting < _maxActorWorkers && _startWorker(actor.Id.Job, WorkerKind.Actor))
        {
            job.Starting++;
            if (best is null)
            {
                job.WaitingForActorWorker.Enqueue(actor);
                return;
            }
        }

        if (best is null)
        {
            if (job.Starting == 0)
            {
                Kill(actor, ActorDied(actor, "no worker process could be started for it (the node is stopping, or the worker binary could not be run)"), completions);
                return;
            }

            // A worker is starting; the actor is placed when it registers.
            job.WaitingForActorWorker.Enqueue(actor);
            return;
        }

        Place(actor, best, completions);
    }

    private void PlaceWaitingForResources()
    {
        var completions = RentCompletions();
        lock (_lock)
        {
            var waiting = _waitingForResources.ToArray();
            _waitingForResources.Clear();
            _resources.SetActorsWaiting(false);
            foreach (var actor in waiting)
            {
                if (actor.State == ActorState.Placing)
                {
                    TryPlace(actor, completions);
                }
            }
        }

        Complete(completions);
    }

    private void Place(ActorRecord actor, WorkerHandle worker, List<(ActorCall, TaskResult)> completions)
    {
        var create = actor.Spec.Clone();
        create.Args.Clear();
        create.Contained.Clear();
        LocalScheduler.Resolve(actor.ConstructorArguments, create.Args, _objects, pin: false);

        actor.Worker = worker;
        actor.State = ActorState.Alive;
        _workers[worker].Add(actor);
        worker.Send(new RayletMessage { CreateActor = create });
        Pump(actor, completions);
    }

    /// <summary>Sends queued calls whose arguments are ready, stopping at the first that is not, to keep order.</summary>
    private void Pump(ActorRecord actor, List<(ActorCall, TaskResult)> completions)
    {
        if (actor.State != ActorState.Alive || actor.Worker is not { } worker)
        {
            return;
        }

        // Pump runs under the lock and never re-enters itself, so one list serves every pass.
        var ready = _readyCalls;
        actor.Pending.TakeReady(ready);
        try
        {
            foreach (var call in ready)
            {
                if (FailedArgument(call.Arguments) is { } error)
                {
                    completions.Add((call, TaskResult.Failure(error)));
                    continue;
                }

                var execute = new ExecuteActorTask
                {
                    TaskId = call.Spec.ReturnId,
                    ActorId = call.Spec.ActorId,
                    MethodId = call.Spec.MethodId,
                    MethodName = call.Spec.MethodName,
                    AssemblyName = call.Spec.AssemblyName,
                };
                if (call.Spec.Generator is { } generator)
                {
                    // A retry after a restart goes on after the items earlier attempts delivered.
                    if (call.StreamItems > 0)
                    {
                        _logger.StreamResumed(call.Spec.MethodName, call.Attempts + 1, call.StreamItems);
                    }

                    execute.Generator = new GeneratorExecution { SkipItems = call.StreamItems, BackpressureNumObjects = generator.BackpressureNumObjects, Consumed = call.StreamConsumed };
                }

                LocalScheduler.Resolve(call.Arguments, execute.Args, _objects, pin: false);

                call.Attempts++;
                actor.InFlight[call.Id] = call;
                worker.Send(new RayletMessage { ExecuteActorTask = execute });
            }
        }
        finally
        {
            ready.Clear();
        }
    }

    private void RequeueOrFailInFlight(ActorRecord actor, ErrorInfo cause, List<(ActorCall, TaskResult)> completions)
    {
        // Calls in flight go back to the front of the queue, in their original order, while retries remain.
        var retry = new List<ActorCall>();
        foreach (var call in actor.InFlight.Values)
        {
            if (call.Attempts <= actor.Spec.MaxTaskRetries)
            {
                retry.Add(call);
            }
            else
            {
                completions.Add((call, TaskResult.Failure(cause)));
            }
        }

        actor.InFlight.Clear();
        actor.Pending.RequeueFront(retry);
    }

    private void Kill(ActorRecord actor, ErrorInfo cause, List<(ActorCall, TaskResult)> completions)
    {
        _deaths.Enqueue((actor.Id, cause.Reason));
        // A dead actor never restarts, so its constructor's arguments may go. Freeing takes no lock of the manager's.
        _objects.ReleaseAll(actor.References, ReferenceKind.Task);
        var worker = actor.Worker;
        actor.State = ActorState.Dead;
        actor.DeathCause = cause;
        actor.Worker = null;
        if (worker is not null)
        {
            worker.Send(new RayletMessage { KillActor = new KillActor { ActorId = actor.Id.Value.ToProto() } });
            if (_workers.TryGetValue(worker, out var actors))
            {
                actors.Remove(actor);
            }

            if (worker.Kind == WorkerKind.Dedicated)
            {
                // The process existed for this actor alone.
                _retireWorker(worker);
            }
        }

        if (actor.HoldsResources)
        {
            actor.HoldsResources = false;
            _resources.ReleaseFromActor(ActorSpecs.Resources(actor.Spec));
        }

        foreach (var call in actor.InFlight.Values)
        {
            completions.Add((call, TaskResult.Failure(cause)));
        }

        foreach (var call in actor.Pending.TakeAll())
        {
            completions.Add((call, TaskResult.Failure(cause)));
        }

        actor.InFlight.Clear();
    }

    private JobActors Job(JobId job)
    {
        if (!_jobs.TryGetValue(job, out var state))
        {
            _jobs[job] = state = new JobActors();
        }

        return state;
    }

    /// <summary>One job's actors waiting for a process, and how its actor workers are starting. Guarded by the manager's lock.</summary>
    private sealed class JobActors
    {
        public Queue<ActorRecord> WaitingForDedicated { get; } = new();

        public Queue<ActorRecord> WaitingForActorWorker { get; } = new();

        /// <summary>Actor workers started and not registered yet.</summary>
        public int Starting { get; set; }

        /// <summary>Actor workers that failed to start in a row.</summary>
        public int FailedStarts { get; set; }
    }
}
