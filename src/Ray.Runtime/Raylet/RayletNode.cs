using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ray.Actors;
using Ray.Core;
using Ray.Hosting;
using Ray.Infrastructure;
using Ray.Logging;
using Ray.ObjectStore;
using Ray.Replay;
using Ray.Runtime.Protocol;
using Ray.Scheduling;

namespace Ray.Raylet;

/// <summary>
/// One node: the raylet's gRPC server on a Unix domain socket (its workers, and drivers on this machine), the object
/// table, the scheduler, the actor manager and the worker pool, for any number of jobs. An embedded node runs it in the
/// driver's process for the driver's one job; <c>raygen start</c> runs it as a process of its own.
/// </summary>
internal sealed class RayletNode : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly NodeDirectory _session;
    private readonly string[] _directories;
    private readonly WorkerBinary _workers;

    private DriverCoreWorker? _driverCore;

    private RayletNode(string nodeId, NodeOptions options, WorkerBinary workers, string socketPath, NodeDirectory session, string[] directories, NodeObjectStore store, ILoggerFactory loggerFactory)
    {
        NodeGuid = Guid.ParseExact(nodeId, "n");
        Options = options;
        _workers = workers;
        _session = session;
        _directories = directories;
        SocketPath = socketPath;
        _logger = loggerFactory.CreateLogger(LogCategories.Raylet);
        Store = store;
        store.CollectGarbage = CollectGarbage;
        Objects = new ObjectTable(store);
        var unhandled = loggerFactory.CreateLogger(LogCategories.UnhandledErrors);
        Objects.UnhandledError = entry => unhandled.UnhandledError(entry.Error!.FunctionName, RayErrors.ToException(entry.Error).Message);
        var resources = new NodeResources(ResourceSet.Create(options.Cpus, options.NumGpus, options.Resources));
        Output = new WorkerOutput(options.WorkerOutput ?? Console.Out, options.WorkerErrorOutput ?? Console.Error);
        Pool = new WorkerPool(options.TaskWorkers, Output, loggerFactory.CreateLogger(LogCategories.WorkerPool));
        Scheduler = new LocalScheduler(resources, Objects, Pool.Kill, loggerFactory.CreateLogger(LogCategories.Scheduler));
        Actors = new ActorManager(Objects, resources, options.NumActorWorkers ?? options.TaskWorkers, loggerFactory.CreateLogger(LogCategories.Actors));
        Streams = new Ownership.ObjectRefStreams(Objects);
        ObjectManager = new LocalObjectManager(Objects, store, Streams, () => Pool.Registered, loggerFactory.CreateLogger(LogCategories.ObjectManager));
        FailedCalls = new FailedCallStore(Objects, NodeGuid, loggerFactory.CreateLogger(LogCategories.Replay));
        Scheduler.FailedCalls = FailedCalls;
        Actors.FailedCalls = FailedCalls;
        Actors.UseWorkers(Pool.StartActorWorker, Pool.Retire);
        Streams.Consumed = OnStreamConsumed;

        // A release may come inside the scheduler's lock, and cancelling takes the actor manager's: off this thread.
        Objects.StreamAbandoned = entry => ThreadPool.UnsafeQueueUserWorkItem(static state => state.Node.Cancel(state.Id, force: false), (Node: this, entry.Id), preferLocal: false);
        Pool.ActorWorkerStartFailed += Actors.OnWorkerStartFailed;
        Pool.WorkerRegistered += Scheduler.AddWorker;
        Pool.WorkerRegistered += Actors.AddWorker;
        Pool.WorkerDied += Scheduler.RemoveWorker;
        Pool.WorkerDied += Actors.RemoveWorker;
        Pool.WorkerDied += ObjectManager.RemoveWorker;
    }

    public NodeOptions Options { get; }

    /// <summary>The raylet's own log (category <c>Ray.Raylet</c>), for its gRPC services too.</summary>
    public ILogger Logger => _logger;

    public string NodeId => NodeGuid.ToString("n");

    /// <summary>The node's id, as owner addresses carry it.</summary>
    public Guid NodeGuid { get; }

    public string SocketPath { get; }

    public ObjectTable Objects { get; }

    /// <summary>The node's shared-memory object store.</summary>
    public NodeObjectStore Store { get; }

    public LocalObjectManager ObjectManager { get; }

    /// <summary>The streams of the streaming tasks and actor calls this node's processes submitted.</summary>
    public Ownership.ObjectRefStreams Streams { get; }

    public LocalScheduler Scheduler { get; }

    public ActorManager Actors { get; }

    public WorkerPool Pool { get; }

    /// <summary>The failed calls this node owns, kept for replay.</summary>
    public FailedCallStore FailedCalls { get; }

    /// <summary>Where the lines the node's workers print go.</summary>
    public WorkerOutput Output { get; }

    /// <summary>Starts a node: its store, its socket server; no job runs until <see cref="StartJobAsync"/>.</summary>
    public static async Task<RayletNode> StartAsync(NodeOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var workers = WorkerLocator.Resolve(options);
        var nodeId = Guid.NewGuid().ToString("n");
        var shortId = nodeId[..12];

        // The node's own files (its socket) live in a directory it keeps locked, like its shared memory, so that a
        // node that was killed leaves nothing behind: its orphaned workers or the next node delete the lot.
        var sessionRoot = Path.GetTempPath();
        NodeDirectory.DeleteStale(sessionRoot, loggerFactory.CreateLogger(LogCategories.ObjectStore));
        var session = NodeDirectory.Create(sessionRoot, shortId, string.Empty);
        var socketPath = Path.Combine(session.Path, "raylet.sock");
        NodeObjectStore store;
        RayletNode node;
        try
        {
            store = ObjectStoreSettings.Create(options, loggerFactory.CreateLogger(LogCategories.ObjectStore), shortId);
        }
        catch
        {
            session.Dispose();
            throw;
        }

        try
        {
            var directories = new[] { session.Path, store.MemoryDirectory, store.SpillDirectory }.Distinct().ToArray();
            node = new RayletNode(nodeId, options, workers, socketPath, session, directories, store, loggerFactory);
        }
        catch
        {
            store.Dispose();
            session.Dispose();
            throw;
        }

        try
        {
            node._logger.NodeStarted(nodeId, node.Scheduler.Total.ToString(), ByteSize.Format(store.Capacity), store.MemoryDirectory);
            return node;
        }
        catch
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Starts a job's workers, which load its code from <paramref name="appDirectory"/>, and waits until its first task
    /// workers registered.
    /// </summary>
    /// <exception cref="RayException">A worker could not be started; the message says why.</exception>
    public async Task StartJobAsync(JobId job, string appDirectory, CancellationToken cancellationToken)
    {
        if (Pool.StartJob(job, _workers.ForJob(appDirectory, SocketPath, Options.AuthToken ?? throw new InvalidOperationException("The node has no token."))))
        {
            await Pool.WaitForWorkersAsync(job, Options.WorkerStartTimeout, cancellationToken).ConfigureAwait(false);
            _logger.JobStarted(job, NodeId, Pool.Size, appDirectory);
        }
    }

    /// <summary>
    /// Handles one batch from a worker in order. Runs of task messages share one scheduling pass; actor and object
    /// messages are handled outside the scheduler's lock, since the actor manager and the object table have their own.
    /// </summary>
    public void HandleBatch(WorkerHandle worker, WorkerBatch batch, int skip)
    {
        LocalScheduler.BatchScope? scope = null;
        try
        {
            for (var i = skip; i < batch.Messages.Count; i++)
            {
                var message = batch.Messages[i];
                var objectMessage = LocalObjectManager.Handles(message);
                if (objectMessage || IsActorMessage(message))
                {
                    scope?.Dispose();
                    scope = null;
                    if (objectMessage)
                    {
                        ObjectManager.Handle(worker, message);
                    }
                    else
                    {
                        HandleActorMessage(worker, message);
                    }

                    continue;
                }

                scope ??= Scheduler.Batch();
                HandleTaskMessage(worker, message);
            }
        }
        finally
        {
            scope?.Dispose();
        }
    }

    /// <summary>
    /// Ends a job on this node (its driver went away): its tasks stop, its actors die, its workers exit, its objects are
    /// freed. Nothing of it is left behind.
    /// </summary>
    public async Task EndJobAsync(JobId job, string reason)
    {
        Scheduler.EndJob(job);
        Actors.EndJob(job);
        await Pool.StopJobAsync(job).ConfigureAwait(false);
        FailedCalls.EndJob(job);
        var freed = Objects.FreeJob(job);
        _logger.JobEnded(job, NodeId, $"{reason}; {freed} object(s) freed");
    }

    /// <summary>What a worker learns when it registers: its job, where the job's code and the node's object store are.</summary>
    public WorkerRegistered Registration(WorkerProcess worker) => new()
    {
        AppDirectory = worker.AppDirectory,
        NodeId = NodeId,
        ObjectStorePath = Store.Arena.Path,
        ObjectStoreCapacity = (ulong)Store.Arena.Capacity,
        MaxInlineObjectSize = Options.MaxInlineObjectSize,
        NodeDirectories = { _directories },
        JobId = worker.Job.Value,
    };

    /// <summary>What a cluster driver learns when it registers: its job, and the node's object store if it can map it.</summary>
    public WorkerRegistered Registration(JobId job, bool mapsStore) => new()
    {
        NodeId = NodeId,
        ObjectStorePath = mapsStore ? Store.Arena.Path : string.Empty,
        ObjectStoreCapacity = mapsStore ? (ulong)Store.Arena.Capacity : 0,
        MaxInlineObjectSize = Options.MaxInlineObjectSize,
        JobId = job.Value,
    };

    /// <summary>Lets the store free what the driver's garbage holds, as well as the workers'.</summary>
    public void AttachDriver(DriverCoreWorker core)
    {
        _driverCore = core;
        Objects.ReportsMemoryPressure = true;
    }

    /// <summary>
    /// Asks the other nodes to collect their garbage too (set when the node is part of a cluster): their processes may
    /// borrow objects this node owns or holds, and only their collections release them.
    /// </summary>
    public Func<Task>? CollectGarbageElsewhere { get; set; }

    /// <summary>
    /// Frees what garbage holds on this node: the workers (and connected drivers) collect and release what they no
    /// longer reference, as does the driver in this process; the task ends when the workers' releases have arrived.
    /// </summary>
    public Task CollectGarbageHere()
    {
        var workers = ObjectManager.CollectGarbageInWorkers();
        _driverCore?.CollectGarbage();
        return workers;
    }

    /// <summary>What the store does when it needs room: collect here and, in a cluster, on the other nodes.</summary>
    private Task CollectGarbage() =>
        CollectGarbageElsewhere is { } elsewhere ? Task.WhenAll(CollectGarbageHere(), elsewhere()) : CollectGarbageHere();

    /// <summary>Submits a task from the driver; the return object exists when this returns.</summary>
    public void Submit(ObjectId id, RemoteFunctionDescriptor function, TaskOptions? options, TaskArgument[] arguments)
    {
        var merged = TaskSpecs.Merge(function, options);
        Scheduler.EnsureFeasible(merged.Name ?? function.Name, merged.Resources, merged.Placement);
        var result = Objects.Create(id, Environment.ProcessId, ReferenceKind.Local);
        if (merged.GeneratorBackpressure is { } backpressure)
        {
            Streams.Create(result, backpressure);
        }

        Scheduler.Submit(new TaskRecord
        {
            Id = id,
            FunctionId = function.Id,
            FunctionName = function.Name,
            AssemblyName = function.AssemblyName,
            Arguments = TaskArgument.Detach(arguments),
            References = ProtoArguments.Referenced(arguments, null),
            Resources = merged.Resources,
            MaxRetries = merged.MaxRetries,
            RetryExceptions = merged.RetryExceptions,
            Name = merged.Name,
            Placement = merged.Placement,
            Result = result,
            GeneratorBackpressure = merged.GeneratorBackpressure,
        });
    }

    public async ValueTask DisposeAsync()
    {
        // Capture files of the last failures are written before the store their arguments are read from goes.
        await FailedCalls.FlushFilesAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        FailedCalls.Dispose();
        await Pool.DisposeAsync().ConfigureAwait(false);
        Store.Dispose();
        _session.Dispose();
    }

    /// <summary>
    /// The process is exiting without <see cref="DisposeAsync"/>: there is no time to stop workers cooperatively, so
    /// they are killed, and the node's shared memory and files are deleted.
    /// </summary>
    public void Abandon()
    {
        // The files go first: the workers' connections end as they are killed, and what the raylet does about that on
        // its own threads meanwhile (releasing their pins in the store) must not keep the process from deleting them.
        Store.DeleteFiles();
        _session.Dispose();
        Pool.Kill();
        try
        {
            Store.Dispose();
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"RayGen: the node's store did not close cleanly while the process exited: {e.Message}");
        }
    }

    /// <summary>
    /// Cancels the task or actor call that produces <paramref name="id"/>. With <paramref name="force"/>, a running task's
    /// worker is ended (and replaced); an actor call is never forced, since its process hosts other actors too.
    /// </summary>
    public void Cancel(ObjectId id, bool force)
    {
        if (!Scheduler.Cancel(id, force) && ClusterActors?.Cancel(id) != true)
        {
            Actors.Cancel(id);
        }
    }

    /// <summary>Creates an actor from the driver; the handle is usable at once.</summary>
    public void CreateActor(ActorId id, ActorClassDescriptor actorClass, RemoteFunctionDescriptor constructor, ActorOptions? options, TaskArgument[] arguments) =>
        Actors.Create(ActorSpecs.Create(id, actorClass, constructor, options, arguments));

    /// <summary>Submits an actor call from the driver.</summary>
    public void SubmitActorTask(ObjectId id, ActorId actor, ActorClassDescriptor actorClass, RemoteFunctionDescriptor method, TaskArgument[] arguments)
    {
        var spec = ActorSpecs.Call(id, actor, actorClass, method, arguments);
        var result = Objects.Create(id, Environment.ProcessId, ReferenceKind.Local);
        if (spec.Generator is { } generator)
        {
            Streams.Create(result, generator.BackpressureNumObjects, isActorCall: true);
        }

        Actors.Submit(spec, result, new CallerKey(NodeGuid, Environment.ProcessId));
    }

    /// <summary>
    /// A stream's reader took <paramref name="consumed"/> items: the producer, wherever it runs, may go on. A task's stream
    /// may be read inside the scheduler's lock (an item it completes there goes to a waiting reader), so it is never
    /// taken to the actor manager, whose lock must not be taken inside the scheduler's.
    /// </summary>
    private void OnStreamConsumed(Ownership.OwnedStream stream, int consumed)
    {
        if (!stream.IsActorCall)
        {
            Scheduler.OnStreamConsumed(stream.GeneratorId, consumed);
        }
        else if (!Actors.OnStreamConsumed(stream.GeneratorId, consumed))
        {
            ClusterActors?.StreamConsumed(stream.GeneratorId, consumed);
        }
    }

    private static bool IsActorMessage(WorkerMessage message) => message.BodyCase switch
    {
        WorkerMessage.BodyOneofCase.CreateActor or WorkerMessage.BodyOneofCase.SubmitActorTask or WorkerMessage.BodyOneofCase.ActorReady
            or WorkerMessage.BodyOneofCase.KillActor or WorkerMessage.BodyOneofCase.LookupActor => true,

        // A cancellation may be an actor call's, and the actor manager's lock must never be taken inside the scheduler's.
        WorkerMessage.BodyOneofCase.Cancel or WorkerMessage.BodyOneofCase.Query => true,
        WorkerMessage.BodyOneofCase.Finished => message.Finished.ActorId is not null,
        WorkerMessage.BodyOneofCase.GeneratorItem => message.GeneratorItem.ActorId is not null,
        _ => false,
    };

    private void HandleTaskMessage(WorkerHandle worker, WorkerMessage message)
    {
        switch (message.BodyCase)
        {
            case WorkerMessage.BodyOneofCase.Finished:
                Scheduler.OnTaskFinished(worker, message.Finished, TaskResult.Receive(worker, message.Finished, Objects, ObjectManager));
                break;
            case WorkerMessage.BodyOneofCase.Submit:
                SubmitFromWorker(worker, message.Submit);

                // The submitter owns the result: it gets the value as soon as it exists, without asking.
                ObjectManager.Subscribe(worker, message.Submit.ReturnId.ToObjectId());
                break;
            case WorkerMessage.BodyOneofCase.GeneratorItem:
                Scheduler.OnGeneratorItem(worker, message.GeneratorItem, TaskResult.ReceiveItem(worker, message.GeneratorItem, Objects, ObjectManager));
                break;
            case WorkerMessage.BodyOneofCase.Blocked:
                Scheduler.OnTaskBlocked(worker, message.Blocked.LeaseId, blocked: true);
                break;
            case WorkerMessage.BodyOneofCase.Unblocked:
                Scheduler.OnTaskBlocked(worker, message.Unblocked.LeaseId, blocked: false);
                break;
            default:
                _logger.IgnoredMessage(message.BodyCase.ToString(), worker.ToString());
                break;
        }
    }

    private void HandleActorMessage(WorkerHandle worker, WorkerMessage message)
    {
        switch (message.BodyCase)
        {
            case WorkerMessage.BodyOneofCase.Finished:
                Actors.OnCallFinished(worker, message.Finished, TaskResult.Receive(worker, message.Finished, Objects, ObjectManager));
                break;
            case WorkerMessage.BodyOneofCase.GeneratorItem:
                Actors.OnGeneratorItem(worker, message.GeneratorItem, TaskResult.ReceiveItem(worker, message.GeneratorItem, Objects, ObjectManager));
                break;
            case WorkerMessage.BodyOneofCase.ActorReady:
                Actors.OnActorReady(worker, message.ActorReady);
                break;
            case WorkerMessage.BodyOneofCase.SubmitActorTask:
                var result = ObjectManager.CreateBorrowed(worker, message.SubmitActorTask.ReturnId.ToObjectId());
                if (message.SubmitActorTask.Generator is { } generator)
                {
                    Streams.Create(result, generator.BackpressureNumObjects, isActorCall: true);
                }

                var caller = new CallerKey(NodeGuid, worker.ProcessId);
                if (ClusterActors is { } cluster)
                {
                    cluster.Submit(message.SubmitActorTask, result, caller);
                }
                else
                {
                    Actors.Submit(message.SubmitActorTask, result, caller);
                }

                ObjectManager.Subscribe(worker, message.SubmitActorTask.ReturnId.ToObjectId());
                break;
            case WorkerMessage.BodyOneofCase.KillActor:
                var killed = new ActorId(message.KillActor.ActorId.ToObjectId());
                if (ClusterActors is { } killer)
                {
                    killer.Kill(killed);
                }
                else
                {
                    Actors.Kill(killed);
                }

                break;
            case WorkerMessage.BodyOneofCase.Cancel:
                Cancel(message.Cancel.TaskId.ToObjectId(), message.Cancel.Force);
                break;
            case WorkerMessage.BodyOneofCase.CreateActor when ClusterActors is { } creator:
                creator.Create(message.CreateActor);
                break;
            case WorkerMessage.BodyOneofCase.CreateActor:
                try
                {
                    Actors.Create(message.CreateActor);
                }
                catch (Exception e) when (e is ArgumentException or InfeasibleTaskException)
                {
                    // The worker already holds the handle: its calls fail with this reason.
                    Actors.RecordFailedCreation(message.CreateActor, e.Message);
                }

                break;
            case WorkerMessage.BodyOneofCase.LookupActor when ClusterActors is { } directory:
                _ = LookupAsync(worker, message.LookupActor, directory);
                break;
            case WorkerMessage.BodyOneofCase.LookupActor:
                var reply = new ActorLookupReply { RequestId = message.LookupActor.RequestId };
                if (Actors.Lookup(message.LookupActor.Name) is { } found)
                {
                    reply.ActorId = found.Id.Value.ToProto();
                    reply.ClassName = found.ClassName;
                }
                else
                {
                    reply.Error = ActorSpecs.UnknownName(message.LookupActor.Name);
                }

                worker.Send(new RayletMessage { ActorLookup = reply });
                break;
            case WorkerMessage.BodyOneofCase.Query:
                _ = AnswerAsync(worker, message.Query);
                break;
        }
    }

    /// <summary>The router of actors across the cluster; null for an embedded node, whose actors all live here.</summary>
    public ClusterActors? ClusterActors { get; set; }

    private static async Task LookupAsync(WorkerHandle worker, LookupActor lookup, ClusterActors directory)
    {
        var reply = new ActorLookupReply { RequestId = lookup.RequestId };
        try
        {
            if (await directory.LookupAsync(lookup.Name).ConfigureAwait(false) is { } found)
            {
                reply.ActorId = found.Id.Value.ToProto();
                reply.ClassName = found.ClassName;
            }
            else
            {
                reply.Error = ActorSpecs.UnknownName(lookup.Name);
            }
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or IOException)
        {
            reply.Error = $"The actor directory could not be asked for '{lookup.Name}': {e.Message}";
        }

        worker.Send(new RayletMessage { ActorLookup = reply });
    }

    /// <summary>How the node learns the cluster's nodes for a query (from the GCS); set by its host.</summary>
    public Func<CancellationToken, Task<IReadOnlyList<GcsNodeInfo>>>? ClusterNodes { get; set; }

    private async Task AnswerAsync(WorkerHandle worker, NodeQuery query)
    {
        var reply = new NodeQueryReply { RequestId = query.RequestId };
        try
        {
            switch (query.Kind)
            {
                case NodeQueryKind.Objects:
                    reply.Objects.Add(Objects.List().Select(NodeQueries.ToProto));
                    break;
                case NodeQueryKind.StoreStats:
                    reply.StoreStats = Store.Stats().ToProto();
                    break;
                case NodeQueryKind.Nodes when ClusterNodes is { } nodes:
                    reply.Nodes.Add(await nodes(CancellationToken.None).ConfigureAwait(false));
                    break;
                case NodeQueryKind.FailedCall:
                    try
                    {
                        reply.FailedCall = await FailedCalls.FetchAsync(query.TaskId.ToObjectId(), worker.Job, CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (ReplayUnavailableException e)
                    {
                        reply.Unavailable = e.Message;
                    }

                    break;
                default:
                    reply.Error = $"This node cannot answer a {query.Kind} query.";
                    break;
            }
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or IOException or RayException)
        {
            reply.Error = $"The node could not answer: {e.Message}";
        }

        worker.Send(new RayletMessage { QueryReply = reply });
    }

    private void SubmitFromWorker(WorkerHandle worker, SubmitTask submit)
    {
        var id = submit.ReturnId.ToObjectId();
        var result = ObjectManager.CreateBorrowed(worker, id);
        var displayName = submit.Name.Length > 0 ? submit.Name : submit.FunctionName;
        var resources = ResourceSet.Create(submit.NumCpus, submit.NumGpus, submit.Resources);
        var placement = Placement.From(submit);
        try
        {
            Scheduler.EnsureFeasible(displayName, resources, placement);
        }
        catch (InfeasibleTaskException e)
        {
            Objects.Fail(result, RayErrors.Infeasible(displayName, e.Message));
            return;
        }

        var arguments = ProtoArguments.FromProto(submit.Args);
        if (submit.Generator is { } generator)
        {
            Streams.Create(result, generator.BackpressureNumObjects);
        }

        Scheduler.Submit(new TaskRecord
        {
            Id = id,
            FunctionId = submit.FunctionId,
            FunctionName = submit.FunctionName,
            AssemblyName = submit.AssemblyName,
            Arguments = arguments,
            References = ProtoArguments.Referenced(arguments, submit.Contained),
            Resources = resources,
            MaxRetries = submit.MaxRetries,
            RetryExceptions = submit.RetryExceptions,
            Name = submit.Name.Length > 0 ? submit.Name : null,
            Placement = placement,
            Result = result,
            GeneratorBackpressure = submit.Generator?.BackpressureNumObjects,
        });
    }
}
