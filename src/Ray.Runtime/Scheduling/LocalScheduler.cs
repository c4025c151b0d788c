using System.Collections.Concurrent;
using System.Globalization;
using Google.Protobuf.Collections;
using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.Infrastructure;
using Ray.Logging;
using Ray.ObjectStore;
using Ray.Raylet;
using Ray.Runtime.Protocol;

namespace Ray.Scheduling;

/// <summary>
/// The raylet's scheduler: waits for a task's arguments, queues it per scheduling class, grants leases on
/// workers while resources last, pipelines short tasks onto existing leases, and retries the tasks of a worker
/// that died. One lock guards all of its state; objects are completed only after the lock is released, so a
/// completion that wakes dependent tasks never runs inside a scheduling pass.
/// </summary>
internal sealed class LocalScheduler
{
    /// <summary>How much queued work a lease may hold, in microseconds of measured execution time.</summary>
    private const double PipelineBudgetMicros = 10_000;

    /// <summary>The estimate of a function never measured yet: long enough that nothing queues behind it.</summary>
    private const double UnknownMicros = 1e9;

    private const int MaxPipelineDepth = 64;

    /// <summary>Functions that usually run for less than this are run by the worker on its reading thread.</summary>
    private const double InlineMicros = 50;

    [ThreadStatic]
    private static bool t_flushing;

    private readonly object _lock = new();
    private readonly ObjectTable _objects;
    private readonly ILogger _logger;
    private readonly Dictionary<SchedulingClass, Queue<TaskRecord>> _queues = [];
    private readonly Dictionary<SchedulingClass, List<Lease>> _leases = [];
    private readonly Dictionary<ulong, Lease> _leasesById = [];
    private readonly Dictionary<JobId, List<WorkerHandle>> _workers = [];
    private readonly HashSet<JobId> _endedJobs = [];
    private readonly Dictionary<ulong, FunctionStats> _stats = [];
    private readonly Dictionary<ObjectId, TaskRecord> _tasks = [];
    // Results, and items of streaming tasks (Item >= 0), in the order they were accepted; completed outside the lock.
    private readonly ConcurrentQueue<(TaskRecord Task, TaskResult Result, int Item)> _completions = new();
    private readonly NodeResources _resources;
    private readonly Action<WorkerHandle> _killWorker;
    private readonly Dictionary<ResourceSet, int> _queuedShapes = [];
    private ResourceSet _queuedDemand = ResourceSet.Empty;
    private ClusterView? _cluster;
    private ITaskForwarder? _forwarder;
    private PlacementPolicy? _policy;
    private ulong _nextLeaseId;
    private int _batchDepth;
    private bool _scheduleRequested;

    public LocalScheduler(NodeResources resources, ObjectTable objects, Action<WorkerHandle> killWorker, ILogger logger)
    {
        _killWorker = killWorker;
        _resources = resources;
        _objects = objects;
        _logger = logger;
        _resources.ReleasedByActor += () =>
        {
            lock (_lock)
            {
                Schedule();
            }

            Flush();
        };
    }

    /// <summary>Where tasks this node owns that threw are kept for replay; null keeps none.</summary>
    public Replay.FailedCallStore? FailedCalls { get; set; }

    /// <summary>The node's resources.</summary>
    public ResourceSet Total => _resources.Total;

    /// <summary>Resources not held by a lease or an actor right now.</summary>
    public ResourceSet Available => _resources.Available;

    /// <summary>
    /// What new work could have here now: the free resources less what tasks queued here wait for. This is what the
    /// node reports to the cluster, so that other nodes do not send work where work already waits.
    /// </summary>
    public ResourceSet AvailableForNewWork
    {
        get
        {
            ResourceSet queued;
            lock (_lock)
            {
                queued = _queuedDemand;
            }

            return _resources.Available.Minus(queued);
        }
    }

    /// <summary>
    /// The tasks queued here for want of resources, counted by the resources each asks for: the pending demand the
    /// node reports to the cluster, which <c>raygen status</c> shows.
    /// </summary>
    public IReadOnlyList<KeyValuePair<ResourceSet, int>> QueuedDemand
    {
        get
        {
            lock (_lock)
            {
                return _queuedShapes.Count == 0 ? [] : [.. _queuedShapes];
            }
        }
    }

    /// <summary>Tasks not finished yet.</summary>
    public int PendingTaskCount
    {
        get
        {
            lock (_lock)
            {
                return _tasks.Count;
            }
        }
    }

    /// <summary>
    /// Places tasks on the whole cluster from now on: <paramref name="view"/> says what each node has, and
    /// <paramref name="forwarder"/> sends a task to the node chosen for it.
    /// </summary>
    public void UseCluster(ClusterView view, ITaskForwarder forwarder)
    {
        _cluster = view;
        _forwarder = forwarder;
        _policy = new PlacementPolicy(view.Self);
        view.RoomChanged += OnClusterRoomChanged;
    }

    /// <summary>Another node may have room now: tasks queued here for want of it spill there (else they would wait for a local event).</summary>
    private void OnClusterRoomChanged()
    {
        lock (_lock)
        {
            if (_queuedDemand.IsEmpty)
            {
                return;
            }

            Schedule();
        }

        Flush();
    }

    /// <summary>Fails with a clear error when no node of the cluster could ever run a task of this shape and placement.</summary>
    public void EnsureFeasible(string functionName, ResourceSet resources, Placement placement)
    {
        // An embedded node is the whole cluster, and every placement comes down to its total there (below): the common
        // case answers without building a snapshot of the node per task.
        if (_cluster is null && Total.Contains(resources))
        {
            return;
        }

        IReadOnlyList<NodeSnapshot> nodes = _cluster?.LiveNodes() ?? [new NodeSnapshot(Guid.Empty, string.Empty, Total, Available)];
        if (_cluster is null && placement.Kind == PlacementKind.NodeAffinity)
        {
            // An embedded node is the whole cluster: affinity to it is the only kind that can hold.
            placement = placement with { Node = Guid.Empty };
        }

        if (PlacementPolicy.Infeasible(functionName, resources, placement, nodes) is { } reason)
        {
            throw new InfeasibleTaskException(reason);
        }
    }

    /// <summary>
    /// Starts tracking a task: it keeps the objects it references alive until it ends, and it is queued once all its
    /// <see cref="ObjectRef"/> arguments are ready. A future argument that names no object fails the task at once.
    /// </summary>
    public void Submit(TaskRecord task)
    {
        if (HasEnded(task.Id.Job))
        {
            if (task.Result is { } result)
            {
                result.ErrorObserved = true;
                _objects.Fail(result, RayErrors.JobEnded(task.DisplayName, task.Id.Job));
            }
            else
            {
                task.Done?.Invoke(task, TaskResult.Failure(RayErrors.JobEnded(task.DisplayName, task.Id.Job)));
            }

            return;
        }

        var references = 0;
        foreach (var argument in task.Arguments)
        {
            if (argument.IsReference)
            {
                references++;
            }
        }

        foreach (var id in task.References)
        {
            _objects.AddReference(id, ReferenceKind.Task);
        }

        lock (_lock)
        {
            _tasks[task.Id] = task;
            task.State = TaskState.PendingArgs;

            // One extra count so the task cannot be queued before every callback below is registered.
            task.PendingArguments = references + 1;
        }

        if (references > 0)
        {
            WhenArgumentsReady(task);
        }

        OnArgumentReady(task);
    }

    /// <summary>
    /// Counts each of <paramref name="task"/>'s reference arguments off as it becomes ready. Kept apart from
    /// <see cref="Submit"/> so that a task without reference arguments allocates no closure.
    /// </summary>
    private void WhenArgumentsReady(TaskRecord task)
    {
        Action<ObjectEntry> onReady = _ => OnArgumentReady(task);
        foreach (var argument in task.Arguments)
        {
            if (argument.IsReference)
            {
                if (_objects.TryGet(argument.Reference, out var entry))
                {
                    entry.OnReady(onReady);
                }
                else
                {
                    lock (_lock)
                    {
                        Complete(task, RayErrors.NotFound(argument.Reference));
                    }
                }
            }
        }
    }

    /// <summary>
    /// Asks a task to stop: dropped if it has not started, its token fired if it runs; with <paramref name="force"/>, a
    /// running task's worker is ended (the pool replaces it, and the other tasks it held run again without losing an
    /// attempt). False when no pending task makes <paramref name="taskId"/>.
    /// </summary>
    public bool Cancel(ObjectId taskId, bool force)
    {
        lock (_lock)
        {
            if (!_tasks.TryGetValue(taskId, out var task))
            {
                return false;
            }

            task.CancelRequested = true;
            if (task.State is TaskState.PendingArgs or TaskState.Queued)
            {
                Complete(task, RayErrors.Cancelled(task.DisplayName));
            }
            else if (task.State == TaskState.Forwarded)
            {
                _forwarder!.Cancel(task, task.ForwardedTo, force);
            }
            else if (task.State == TaskState.Running && force)
            {
                var worker = task.Lease!.Worker;
                if (!worker.ForceKilled)
                {
                    worker.ForceKilled = true;
                    _logger.TaskForceCancelled(task.DisplayName, worker.ProcessId);
                    _killWorker(worker);
                }
            }
            else if (task.State == TaskState.Running)
            {
                task.Lease!.Worker.Send(new RayletMessage { Cancel = new CancelTask { TaskId = task.Id.ToProto() } });
            }
        }

        Flush();
        return true;
    }

    /// <summary>A sentence on where the task that makes <paramref name="id"/> stands, for timeouts.</summary>
    public string Describe(ObjectId id)
    {
        lock (_lock)
        {
            return _tasks.TryGetValue(id, out var task) ? task.Describe() : "the object is not produced by a pending task";
        }
    }

    /// <summary>Holds scheduling passes back until the returned scope ends, so a whole message batch is one pass.</summary>
    public BatchScope Batch()
    {
        Monitor.Enter(_lock);
        _batchDepth++;
        return new BatchScope(this);
    }

    public void AddWorker(WorkerHandle worker)
    {
        if (worker.Kind != WorkerKind.Task)
        {
            // Actors have processes of their own: a task never runs beside them.
            return;
        }

        lock (_lock)
        {
            if (!_workers.TryGetValue(worker.Job, out var workers))
            {
                _workers[worker.Job] = workers = [];
            }

            workers.Add(worker);
            Schedule();
        }

        Flush();
    }

    /// <summary>A worker is gone: its leases are returned and its tasks retried or failed.</summary>
    public void RemoveWorker(WorkerHandle worker, int? exitCode)
    {
        lock (_lock)
        {
            if (_workers.TryGetValue(worker.Job, out var workers))
            {
                workers.Remove(worker);
            }

            foreach (var lease in worker.Leases.ToArray())
            {
                foreach (var task in lease.Tasks.ToArray())
                {
                    lease.Tasks.Remove(task);
                    task.Lease = null;
                    Unpin(task);
                    if (task.CancelRequested)
                    {
                        Complete(task, RayErrors.Cancelled(task.DisplayName));
                    }
                    else if (_endedJobs.Contains(task.Id.Job))
                    {
                        Complete(task, RayErrors.JobEnded(task.DisplayName, task.Id.Job));
                    }
                    else if (worker.ForceKilled)
                    {
                        // Ended to cancel another task: this one did nothing wrong and keeps its attempts.
                        task.Attempts--;
                        Enqueue(task);
                    }
                    else if (task.Attempts <= task.MaxRetries)
                    {
                        _logger.TaskRetriedAfterWorkerDied(worker.ProcessId, exitCode?.ToString(CultureInfo.InvariantCulture) ?? "unknown", task.DisplayName, task.Attempts + 1, task.MaxRetries + 1);
                        Enqueue(task);
                    }
                    else
                    {
                        Complete(task, RayErrors.WorkerDied(task.DisplayName, worker.ProcessId, exitCode, task.Attempts));
                    }
                }

                CloseLease(lease);
            }

            Schedule();
        }

        Flush();
    }

    /// <summary>
    /// A job ended (its driver went away): its tasks that wait or run fail without a retry, and no task of it is
    /// accepted any more; its workers are stopped next by the node.
    /// </summary>
    public void EndJob(JobId job)
    {
        lock (_lock)
        {
            _endedJobs.Add(job);
            foreach (var task in _tasks.Values.Where(t => t.Id.Job == job && t.State is TaskState.PendingArgs or TaskState.Queued).ToArray())
            {
                Complete(task, RayErrors.JobEnded(task.DisplayName, job));
            }
        }

        Flush();
    }

    /// <summary>Whether the job ended on this node.</summary>
    public bool HasEnded(JobId job)
    {
        lock (_lock)
        {
            return _endedJobs.Contains(job);
        }
    }

    public void OnTaskFinished(WorkerHandle worker, TaskFinished finished, TaskResult result)
    {
        lock (_lock)
        {
            var id = finished.TaskId.ToObjectId();
            if (!_tasks.TryGetValue(id, out var task) || task.Lease is not { } lease || lease.Worker != worker)
            {
                // A result from a worker that was already given up on; the retry owns the task now.
                result.Discard(_objects);
                return;
            }

            lease.Tasks.Remove(task);
            lease.BacklogMicros = lease.Tasks.Count == 0 ? 0 : lease.BacklogMicros - task.EstimateMicros;
            task.Lease = null;
            Unpin(task);
            if (lease.Tasks.Count == 0)
            {
                CloseLease(lease);
            }

            RecordExecutionTime(task.FunctionId, finished.ExecutionMicros);
            if (result.Error is { Kind: ErrorKind.TaskFailed } error && task.RetryExceptions && !task.CancelRequested && task.Attempts <= task.MaxRetries)
            {
                _logger.TaskRetriedAfterException(task.DisplayName, error.ExceptionType, error.Message, task.Attempts + 1, task.MaxRetries + 1);
                Enqueue(task);
            }
            else
            {
                Complete(task, result);
            }

            Schedule();
        }

        Flush();
    }

    public void OnTaskBlocked(WorkerHandle worker, ulong leaseId, bool blocked)
    {
        lock (_lock)
        {
            if (_leasesById.TryGetValue(leaseId, out var lease) && lease.Worker == worker)
            {
                lease.Blocked = Math.Max(0, lease.Blocked + (blocked ? 1 : -1));
                Schedule();
            }
        }

        Flush();
    }

    private void OnArgumentReady(TaskRecord task)
    {
        lock (_lock)
        {
            // The last argument is ready, unless the task was settled meanwhile (an unknown argument, a cancellation).
            if (--task.PendingArguments == 0 && task.State == TaskState.PendingArgs)
            {
                if (FailedArgument(task) is { } error)
                {
                    // Ray semantics: a task whose input failed fails with the same cause, without running.
                    Complete(task, error);
                }
                else
                {
                    Enqueue(task);
                    Schedule();
                }
            }
        }

        Flush();
    }

    private ErrorInfo? FailedArgument(TaskRecord task)
    {
        foreach (var argument in task.Arguments)
        {
            if (argument.IsReference && _objects.TryGet(argument.Reference, out var entry) && entry.Error is { } error)
            {
                // The failure travels on in this task's result.
                entry.ErrorObserved = true;
                return error;
            }
        }

        return null;
    }

    private void Enqueue(TaskRecord task)
    {
        // A task this node owns may run anywhere in the cluster; one forwarded here runs here.
        if (task.Result is not null && _cluster is not null && ChooseNode(task) is { } node && node != _cluster.Self)
        {
            Forward(task, node);
            return;
        }

        if (_objects.Pulls is { } pulls)
        {
            // It runs here: what it reads from other nodes starts coming now, and its worker's read joins that pull.
            foreach (var argument in task.Arguments)
            {
                if (argument.IsReference && _objects.TryGet(argument.Reference, out var entry))
                {
                    pulls.Prefetch(entry);
                }
            }
        }

        task.State = TaskState.Queued;
        _queuedDemand = _queuedDemand.Add(task.Resources);
        _queuedShapes[task.Resources] = _queuedShapes.GetValueOrDefault(task.Resources) + 1;
        var schedulingClass = new SchedulingClass(task.Id.Job, task.Resources);
        if (!_queues.TryGetValue(schedulingClass, out var queue))
        {
            _queues[schedulingClass] = queue = new Queue<TaskRecord>();
        }

        queue.Enqueue(task);
    }

    private void Schedule()
    {
        if (_batchDepth > 0)
        {
            _scheduleRequested = true;
            return;
        }

        foreach (var (schedulingClass, queue) in _queues)
        {
            while (queue.TryPeek(out var task))
            {
                if (task.State != TaskState.Queued)
                {
                    queue.Dequeue();
                    continue;
                }

                var lease = AcquireLease(schedulingClass, Estimate(task.FunctionId));
                if (lease is null)
                {
                    // No room here now: another node with room takes it (Ray's spillback), else it waits here.
                    if (_cluster is not null && SpillTarget(task) is { } node)
                    {
                        queue.Dequeue();
                        LeaveQueue(task);
                        Forward(task, node);
                        continue;
                    }

                    break;
                }

                queue.Dequeue();
                Dispatch(task, lease);
            }
        }
    }

    /// <summary>
    /// A new lease while resources last; else an existing lease of the same class that has room: one whose tasks
    /// are all blocked in a get (which keeps nested tasks from deadlocking), or whose expected backlog plus this
    /// task stays within the pipelining budget (so a short task never queues behind a long one).
    /// </summary>
    private Lease? AcquireLease(SchedulingClass schedulingClass, double estimateMicros)
    {
        if (LeastLoadedWorker(schedulingClass.Job) is { } worker && _resources.TryAcquire(schedulingClass.Resources))
        {
            var lease = new Lease(++_nextLeaseId, worker, schedulingClass);
            _leasesById[lease.Id] = lease;
            worker.Leases.Add(lease);
            if (!_leases.TryGetValue(schedulingClass, out var leases))
            {
                _leases[schedulingClass] = leases = [];
            }

            leases.Add(lease);
            return lease;
        }

        Lease? best = null;
        if (_leases.TryGetValue(schedulingClass, out var existing))
        {
            foreach (var lease in existing)
            {
                var hasRoom = lease.Active == 0 ||
                              (lease.Active < MaxPipelineDepth && lease.BacklogMicros + estimateMicros <= PipelineBudgetMicros);
                if (hasRoom && (best is null || lease.BacklogMicros < best.BacklogMicros))
                {
                    best = lease;
                }
            }
        }

        return best;
    }

    private WorkerHandle? LeastLoadedWorker(JobId job)
    {
        if (!_workers.TryGetValue(job, out var workers))
        {
            return null;
        }

        WorkerHandle? best = null;
        foreach (var worker in workers)
        {
            if (best is null || worker.Leases.Count < best.Leases.Count)
            {
                best = worker;
            }
        }

        return best;
    }

    private void CloseLease(Lease lease)
    {
        if (!_leasesById.Remove(lease.Id))
        {
            return;
        }

        _resources.ReleaseFromTask(lease.Resources);
        lease.Worker.Leases.Remove(lease);
        _leases[lease.Class].Remove(lease);
    }

    private void Dispatch(TaskRecord task, Lease lease)
    {
        LeaveQueue(task);
        task.State = TaskState.Running;
        task.Attempts++;
        task.Lease = lease;
        task.EstimateMicros = Estimate(task.FunctionId);
        lease.Tasks.Add(task);
        lease.BacklogMicros += task.EstimateMicros;

        var execute = new ExecuteTask
        {
            TaskId = task.Id.ToProto(),
            LeaseId = lease.Id,
            FunctionId = task.FunctionId,
            FunctionName = task.FunctionName,
            AssemblyName = task.AssemblyName,
            Attempt = task.Attempts,
            RunInline = IsShort(task.FunctionId),
        };
        if (task.GeneratorBackpressure is { } backpressure)
        {
            // A retry goes on after the items earlier attempts delivered.
            if (task.StreamItems > 0)
            {
                _logger.StreamResumed(task.DisplayName, task.Attempts, task.StreamItems);
            }

            execute.Generator = new GeneratorExecution { SkipItems = task.StreamItems, BackpressureNumObjects = backpressure, Consumed = task.StreamConsumed };
        }

        task.PinnedArguments = Resolve(task.Arguments, execute.Args, _objects, pin: true);
        lease.Worker.Send(new RayletMessage { Execute = execute });
    }

    /// <summary>
    /// The arguments as a worker receives them: values inline; a future replaced by its value when the object is
    /// small. A large object is sent as its location when <paramref name="pin"/> is set and it is in memory (pinned
    /// until the returned pins are released, so the worker reads it with no round trip); else as a reference the
    /// worker reads from the store itself.
    /// </summary>
    internal static List<StoredObject>? Resolve(TaskArgument[] arguments, RepeatedField<TaskArg> into, ObjectTable objects, bool pin)
    {
        List<StoredObject>? pins = null;
        foreach (var argument in arguments)
        {
            if (!argument.IsReference)
            {
                into.Add(new TaskArg { Value = ProtoConversions.Wrap(argument.Value) });
            }
            else if (!objects.TryGet(argument.Reference, out var entry) || entry.Stored is not { } stored)
            {
                // Unknown, or its copies are on other nodes (the worker's read pulls one): by reference; else inline.
                into.Add(entry is null || entry.Remote is not null
                    ? new TaskArg { Reference = argument.Reference.ToProto() }
                    : new TaskArg { Value = ProtoConversions.Wrap(entry.Value) });
            }
            else if (pin && objects.Store!.TryPin(stored))
            {
                (pins ??= []).Add(stored);
                into.Add(new TaskArg { Stored = ProtoArguments.Stored(stored.Id, new StoreRegion(stored.Offset, stored.PayloadSize)) });
            }
            else
            {
                into.Add(new TaskArg { Reference = argument.Reference.ToProto() });
            }
        }

        return pins;
    }

    /// <summary>Ends the pins a task's run held on its stored arguments.</summary>
    private void Unpin(TaskRecord task)
    {
        if (task.PinnedArguments is { } pins)
        {
            task.PinnedArguments = null;
            foreach (var stored in pins)
            {
                _objects.Store!.Unpin(stored);
            }
        }
    }

    /// <summary>
    /// Another node that has room for a task queued here for want of it; null when none has, or the task must stay
    /// (it was forwarded here, or it must run on this node).
    /// </summary>
    private Guid? SpillTarget(TaskRecord task)
    {
        if (task.Result is null || task.Placement is { Kind: PlacementKind.NodeAffinity, Soft: false })
        {
            return null;
        }

        NodeSnapshot? best = null;
        foreach (var node in _cluster!.LiveNodes())
        {
            if (node.Id != _cluster.Self && node.Available.Contains(task.Resources) && (best is null || node.Utilization < best.Utilization))
            {
                best = node;
            }
        }

        return best?.Id;
    }

    /// <summary>A queued task leaves the queue (for a lease, another node, or its end): its demand no longer counts.</summary>
    private void LeaveQueue(TaskRecord task)
    {
        _queuedDemand = _queuedDemand.Minus(task.Resources);
        if (_queuedShapes.TryGetValue(task.Resources, out var count))
        {
            if (count > 1)
            {
                _queuedShapes[task.Resources] = count - 1;
            }
            else
            {
                _queuedShapes.Remove(task.Resources);
            }
        }
    }

    /// <summary>The node for a task this node owns; null when none can run it now (it then waits here).</summary>
    private Guid? ChooseNode(TaskRecord task)
    {
        var nodes = _cluster!.LiveNodes();
        if (nodes.Count <= 1 && task.Placement.Kind == PlacementKind.Default)
        {
            return null;
        }

        return _policy!.Choose(task.Resources, task.Placement, nodes, ArgumentBytes(task), task.SpilledFrom);
    }

    /// <summary>How many bytes of the task's large arguments each node holds.</summary>
    private Dictionary<Guid, long>? ArgumentBytes(TaskRecord task)
    {
        Dictionary<Guid, long>? bytes = null;
        foreach (var argument in task.Arguments)
        {
            if (!argument.IsReference || !_objects.TryGet(argument.Reference, out var entry))
            {
                continue;
            }

            if (entry.Stored is { } stored)
            {
                (bytes ??= [])[_cluster!.Self] = bytes.GetValueOrDefault(_cluster.Self) + stored.PayloadSize;
            }
            else if (entry.Remote is { } remote)
            {
                foreach (var node in remote.Locations)
                {
                    (bytes ??= [])[node] = bytes.GetValueOrDefault(node) + remote.Size;
                }
            }
        }

        return bytes;
    }

    private void Forward(TaskRecord task, Guid node)
    {
        task.State = TaskState.Forwarded;
        task.ForwardedTo = node;
        task.Attempts++;
        _cluster!.Reserve(node, task.Resources);
        _forwarder!.Forward(task, node);
    }

    /// <summary>
    /// The node a task was forwarded to finished it (or gave up on it after its retries there): its outcome is the
    /// task's result. A message for a task that is not running there any more (it was cancelled, or placed again) is
    /// dropped, with what its result holds.
    /// </summary>
    public void OnForwardedDone(Guid node, ObjectId taskId, TaskResult result, int attempts)
    {
        lock (_lock)
        {
            if (!_tasks.TryGetValue(taskId, out var task) || task.State != TaskState.Forwarded || task.ForwardedTo != node)
            {
                result.Discard(_objects);
                return;
            }

            _cluster!.Unreserve(node, task.Resources);
            task.ForwardedTo = Guid.Empty;
            task.Attempts = Math.Max(task.Attempts, attempts);
            if (result.Error is { Kind: ErrorKind.TaskFailed } error && task.RetryExceptions && !task.CancelRequested && task.Attempts <= task.MaxRetries)
            {
                _logger.TaskRetriedAfterException(task.DisplayName, error.ExceptionType, error.Message, task.Attempts + 1, task.MaxRetries + 1);
                Enqueue(task);
            }
            else
            {
                Complete(task, result);
            }

            Schedule();
        }

        Flush();
    }

    /// <summary>A node sent a forwarded task back (it had no room): it is placed again, elsewhere if another node can run it.</summary>
    public void OnSpillback(Guid node, ObjectId taskId)
    {
        lock (_lock)
        {
            if (!_tasks.TryGetValue(taskId, out var task) || task.State != TaskState.Forwarded || task.ForwardedTo != node)
            {
                return;
            }

            _cluster!.Unreserve(node, task.Resources);
            task.ForwardedTo = Guid.Empty;
            task.Attempts--;
            (task.SpilledFrom ??= []).Add(node);
            if (task.CancelRequested)
            {
                Complete(task, RayErrors.Cancelled(task.DisplayName));
            }
            else
            {
                Enqueue(task);
                Schedule();
            }
        }

        Flush();
    }

    /// <summary>
    /// A node died: the tasks this node forwarded there run again while their retries allow (their spec is kept here),
    /// else fail with the reason.
    /// </summary>
    public void OnNodeDied(Guid node, string reason)
    {
        lock (_lock)
        {
            foreach (var task in _tasks.Values.Where(t => t.State == TaskState.Forwarded && t.ForwardedTo == node).ToArray())
            {
                task.ForwardedTo = Guid.Empty;
                (task.SpilledFrom ??= []).Add(node);
                if (task.CancelRequested)
                {
                    Complete(task, RayErrors.Cancelled(task.DisplayName));
                }
                else if (task.Attempts <= task.MaxRetries)
                {
                    _logger.TaskRetriedAfterNodeDied(task.DisplayName, node.ToString("n"), reason, task.Attempts + 1, task.MaxRetries + 1);
                    Enqueue(task);
                }
                else
                {
                    Complete(task, RayErrors.NodeDied(task.DisplayName, node, reason, task.Attempts));
                }
            }

            Schedule();
        }

        Flush();
    }

    private void Complete(TaskRecord task, ErrorInfo error) => Complete(task, TaskResult.Failure(error));

    private void Complete(TaskRecord task, TaskResult result)
    {
        if (task.State == TaskState.Queued)
        {
            LeaveQueue(task);
        }

        task.State = TaskState.Finished;
        _tasks.Remove(task.Id);
        if (result.Error is null && task.Result is { } entry)
        {
            entry.Lineage = task;
        }
        else if (result.Error is { Kind: ErrorKind.TaskFailed, FailedTask: null } error && task.Result is not null)
        {
            // This task threw (a failure passed on from an argument or a nested call already names its call): the
            // exception names it wherever the failure travels, and Flush keeps it for replay.
            error.FailedTask = task.Id.ToProto();
        }

        _completions.Enqueue((task, result, -1));
    }

    /// <summary>Completes objects queued under the lock; runs on the outermost caller only, so chains stay flat.</summary>
    private void Flush()
    {
        if (t_flushing)
        {
            return;
        }

        t_flushing = true;
        try
        {
            while (_completions.TryDequeue(out var completion))
            {
                if (completion.Item >= 0)
                {
                    WriteItem(completion.Task, completion.Item, completion.Result);
                    continue;
                }

                if (completion.Task.Result is { } entry)
                {
                    if (completion.Result.Error is { FailedTask: { } failed } error && failed.Is(completion.Task.Id))
                    {
                        // Before the task's own references go, so that its objects are still there to be held.
                        FailedCalls?.Capture(Replay.CapturedCall.Of(completion.Task, error));
                    }

                    completion.Result.CompleteIn(_objects, entry);
                }
                else
                {
                    // Forwarded here: the outcome goes to the task's owner.
                    completion.Task.Done!(completion.Task, completion.Result);
                }

                // The task no longer needs its arguments: they may be freed now.
                _objects.ReleaseAll(completion.Task.References, ReferenceKind.Task);
            }
        }
        finally
        {
            t_flushing = false;
        }
    }

    /// <summary>
    /// An item a streaming task's worker yielded. It is kept when it comes from the worker that runs the task now and is
    /// the next one expected; an item an earlier attempt already delivered (or one from a worker given up on) is dropped.
    /// </summary>
    public void OnGeneratorItem(WorkerHandle worker, GeneratorItem item, TaskResult result)
    {
        lock (_lock)
        {
            if (!_tasks.TryGetValue(item.TaskId.ToObjectId(), out var task) || task.Lease is not { } lease || lease.Worker != worker ||
                lease.Id != item.LeaseId || !AcceptItem(task, item.Index))
            {
                _logger.StreamItemDropped(item.Index, item.TaskId.ToObjectId(), worker.ToString());
                result.Discard(_objects);
                return;
            }

            _completions.Enqueue((task, result, (int)item.Index));
        }

        Flush();
    }

    /// <summary>An item of a streaming task this node owns, from the node it was forwarded to; kept as <see cref="OnGeneratorItem"/> keeps one.</summary>
    public void OnForwardedItem(Guid node, ObjectId taskId, long index, TaskResult result)
    {
        lock (_lock)
        {
            if (!_tasks.TryGetValue(taskId, out var task) || task.State != TaskState.Forwarded || task.ForwardedTo != node || !AcceptItem(task, index))
            {
                _logger.StreamItemDropped(index, taskId, $"node {node:n}");
                result.Discard(_objects);
                return;
            }

            _completions.Enqueue((task, result, (int)index));
        }

        Flush();
    }

    /// <summary>
    /// The reader of a streaming task's stream has taken <paramref name="consumed"/> items: the worker (or node) running it
    /// is told, so that a producer paused for backpressure goes on.
    /// </summary>
    /// <returns>False when no pending task of this node makes the stream (it may be an actor call's).</returns>
    public bool OnStreamConsumed(ObjectId taskId, long consumed)
    {
        lock (_lock)
        {
            if (!_tasks.TryGetValue(taskId, out var task) || task.GeneratorBackpressure is null)
            {
                return false;
            }

            if (consumed <= task.StreamConsumed)
            {
                return true;
            }

            task.StreamConsumed = consumed;
            if (task.State == TaskState.Running && task.Lease is { } lease)
            {
                lease.Worker.Send(new RayletMessage { GeneratorConsumed = new GeneratorConsumed { TaskId = task.Id.ToProto(), Consumed = consumed } });
            }
            else if (task.State == TaskState.Forwarded)
            {
                _forwarder!.StreamConsumed(task, task.ForwardedTo, consumed);
            }

            return true;
        }
    }

    private bool AcceptItem(TaskRecord task, long index)
    {
        if (task.GeneratorBackpressure is null || index != task.StreamItems)
        {
            return false;
        }

        task.StreamItems++;
        task.Result?.Stream?.Expect(task.StreamItems);
        return true;
    }

    /// <summary>Writes an accepted item: to the stream, when this node owns the task; else to its owner.</summary>
    private void WriteItem(TaskRecord task, int index, TaskResult item)
    {
        if (task.Result?.Stream is { } stream)
        {
            stream.Write(index, item);
        }
        else if (task.ItemDone is { } itemDone)
        {
            itemDone(task, index, item);
        }
        else
        {
            item.Discard(_objects);
        }
    }

    /// <summary>Whether the function's measured run time is short enough to run without a thread hop.</summary>
    private bool IsShort(ulong functionId) =>
        _stats.TryGetValue(functionId, out var stats) && stats.Samples >= 3 && stats.AverageMicros < InlineMicros;

    private double Estimate(ulong functionId) =>
        _stats.TryGetValue(functionId, out var stats) && stats.Samples > 0 ? stats.AverageMicros : UnknownMicros;

    private void RecordExecutionTime(ulong functionId, double micros)
    {
        if (!_stats.TryGetValue(functionId, out var stats))
        {
            _stats[functionId] = stats = new FunctionStats();
        }

        stats.AverageMicros = stats.Samples == 0 ? micros : (0.8 * stats.AverageMicros) + (0.2 * micros);
        stats.Samples++;
    }

    private sealed class FunctionStats
    {
        public double AverageMicros { get; set; }

        public long Samples { get; set; }
    }

    /// <summary>Ends a batch: one scheduling pass, then the lock is released and objects are completed.</summary>
    public readonly struct BatchScope(LocalScheduler scheduler) : IDisposable
    {
        public void Dispose()
        {
            scheduler._batchDepth--;
            if (scheduler._batchDepth == 0 && scheduler._scheduleRequested)
            {
                scheduler._scheduleRequested = false;
                scheduler.Schedule();
            }

            Monitor.Exit(scheduler._lock);
            scheduler.Flush();
        }
    }
}
