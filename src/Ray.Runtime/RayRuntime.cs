using MemoryPack;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Ray.Core;
using Ray.Hosting;
using Ray.Infrastructure;
using Ray.Logging;
using Ray.Raylet;
using Ray.Replay;
using Ray.Runtime.Protocol;

namespace Ray;

/// <summary>
/// The RayGen runtime of this process. In the driver, <see cref="InitAsync"/> starts an embedded node (the
/// raylet plus a pool of worker processes); inside tasks, <see cref="Current"/> is the worker's runtime, so
/// remote code can <see cref="Put{T}"/>, <see cref="WaitAsync{TRef}"/> and submit tasks too.
/// </summary>
/// <example><code>
/// await using var ray = await RayRuntime.InitAsync();
/// ObjectRef&lt;int&gt; sum = Work.Remote.Add(1, 2);
/// Console.WriteLine(await sum);
/// </code></example>
public sealed class RayRuntime : IAsyncDisposable
{
    private static RayRuntime? s_current;
    private static int s_starting;

    private readonly NodeHost? _host;
    private readonly ClusterDriver? _cluster;
    private readonly ILoggerFactory? _ownedLoggerFactory;
    private int _disposed;

    private RayRuntime(CoreWorker core, NodeHost? host, ClusterDriver? cluster, ILoggerFactory? ownedLoggerFactory)
    {
        Core = core;
        _host = host;
        _cluster = cluster;
        _ownedLoggerFactory = ownedLoggerFactory;
    }

    /// <summary>The runtime of this process: the driver's after <see cref="InitAsync"/>, or the worker's inside a task.</summary>
    /// <exception cref="InvalidOperationException">RayGen has not been started in this process.</exception>
    public static RayRuntime Current => s_current ?? throw new InvalidOperationException(
        "RayGen is not initialized in this process: call 'await RayRuntime.InitAsync()' first.");

    /// <summary>Whether this process is the driver (it started the runtime) rather than a worker.</summary>
    public bool IsDriver => _host is not null || _cluster is not null;

    /// <summary>Whether this driver is connected to a cluster (<see cref="RayOptions.Address"/>) rather than hosting an embedded node.</summary>
    public bool IsConnectedToCluster => _cluster is not null;

    /// <summary>
    /// The node this process runs on, or submits through for a driver connected to a cluster from outside it (Ray's
    /// <c>get_runtime_context().get_node_id()</c>): 32 hex digits, as <see cref="NodeInfo.NodeId"/> gives it.
    /// </summary>
    public string NodeId => Core.LocalOwner.Node.ToString("n");

    /// <summary>The process ids of the embedded node's task worker processes (empty in a worker and in a cluster driver).</summary>
    public IReadOnlyCollection<int> WorkerProcessIds => Node?.Pool.TaskProcessIds ?? [];

    /// <summary>The process ids of the embedded node's processes that host actors (empty in a worker and in a cluster driver).</summary>
    public IReadOnlyCollection<int> ActorWorkerProcessIds => Node?.Pool.ActorProcessIds ?? [];

    /// <summary>The process ids of every worker process of the embedded node, task and actor workers alike.</summary>
    public IReadOnlyCollection<int> AllWorkerProcessIds => Node?.Pool.ProcessIds ?? [];

    /// <summary>
    /// The resources of the cluster, by name (<c>CPU</c>, <c>GPU</c>, custom): the sum over its live nodes (Ray's
    /// <c>ray.cluster_resources()</c>). In the driver of an embedded node and inside tasks alike.
    /// </summary>
    public IReadOnlyDictionary<string, double> ClusterResources
    {
        get
        {
            ThrowIfDisposed();
            return Node?.Scheduler.Total.Amounts.ToDictionary(a => a.Key, a => a.Value) ?? Sum(LiveNodes(), n => n.Total);
        }
    }

    /// <summary>
    /// The resources not in use right now (exactly, on an embedded node; as the nodes last reported, on a cluster), summed
    /// over the live nodes (Ray's <c>ray.available_resources()</c>).
    /// </summary>
    public IReadOnlyDictionary<string, double> AvailableResources
    {
        get
        {
            ThrowIfDisposed();
            return Node?.Scheduler.Available.Amounts.ToDictionary(a => a.Key, a => a.Value) ?? Sum(LiveNodes(), n => n.Available);
        }
    }

    internal CoreWorker Core { get; }

    /// <summary>The embedded node's Unix domain socket (driver only).</summary>
    internal string? RayletSocketPath => Node?.SocketPath;

    /// <summary>The embedded node (driver only).</summary>
    internal RayletNode? Node => _host?.Node;

    /// <summary>The embedded node's host (driver only).</summary>
    internal NodeHost? Host => _host;

    /// <summary>
    /// Starts RayGen in this process. Without an address (<see cref="RayOptions.Address"/>, <c>$RAYGEN_ADDRESS</c>), it
    /// starts an embedded single-node cluster: the raylet on a Unix domain socket and <see cref="RayOptions.NumWorkers"/>
    /// worker processes, pre-started and reused, and returns once every worker has registered. With one, it connects to
    /// that cluster: the application directory is uploaded to the cluster (nodes never need it on their disk) and the
    /// driver's job starts on the node it submits through.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; checked before anything starts.</exception>
    /// <exception cref="RayException">A worker could not be started, or the cluster refused or could not be reached; the message says why.</exception>
    public static async Task<RayRuntime> InitAsync(RayOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RayOptions();
        OptionsValidation.Validate(options);

        // One start at a time: two at once would both see no runtime, and the node of the one that lost would keep running.
        if (Interlocked.CompareExchange(ref s_starting, 1, 0) != 0)
        {
            throw new InvalidOperationException("RayGen is already being initialized in this process by another InitAsync call; await that one instead.");
        }

        try
        {
            return await StartAsync(options, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref s_starting, 0);
        }
    }

    private static async Task<RayRuntime> StartAsync(RayOptions options, CancellationToken cancellationToken)
    {
        if (s_current is not null)
        {
            throw new InvalidOperationException("RayGen is already initialized in this process; dispose the current runtime first.");
        }

        var ownedLoggerFactory = options.LoggerFactory is null ? CreateDefaultLoggerFactory() : null;
        var loggerFactory = options.LoggerFactory ?? ownedLoggerFactory!;
        RayRuntime runtime;
        try
        {
            var session = ClusterSession.Current;
            runtime = session.ResolveAddress(options.Address) is { } address
                ? await ConnectAsync(address, options, session, loggerFactory, ownedLoggerFactory, cancellationToken).ConfigureAwait(false)
                : await StartEmbeddedAsync(options, loggerFactory, ownedLoggerFactory, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            ownedLoggerFactory?.Dispose();
            throw;
        }

        runtime.Install();
        AppDomain.CurrentDomain.ProcessExit += runtime.OnProcessExit;
        return runtime;
    }

    /// <summary>The nodes of the cluster (Ray's <c>ray.nodes()</c>): an embedded node's one, or every node a cluster ever had, dead ones included.</summary>
    public async Task<IReadOnlyList<NodeInfo>> GetNodesAsync(CancellationToken cancellationToken = default) =>
        (await ClusterNodesAsync(cancellationToken).ConfigureAwait(false)).Select(NodeInfo.From).ToArray();

    private async Task<IReadOnlyList<GcsNodeInfo>> ClusterNodesAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        if ((_cluster?.Gcs ?? _host?.Gcs) is { } gcs)
        {
            return await gcs.GetNodesAsync(cancellationToken).ConfigureAwait(false);
        }

        // Inside a task: the worker asks its raylet, which asks the GCS.
        return (await ((ConnectedCoreWorker)Core).QueryAsync(NodeQueryKind.Nodes, cancellationToken).ConfigureAwait(false)).Nodes;
    }

    private IReadOnlyList<GcsNodeInfo> LiveNodes()
    {
        if (Core is ConnectedCoreWorker connected && _cluster is null)
        {
            return connected.Query(NodeQueryKind.Nodes).Nodes.Where(n => n.IsAlive).ToArray();
        }

        return ClusterNodesAsync(CancellationToken.None).GetAwaiter().GetResult().Where(n => n.IsAlive).ToArray();
    }

    private static Dictionary<string, double> Sum(IReadOnlyList<GcsNodeInfo> nodes, Func<GcsNodeInfo, IDictionary<string, double>> amounts)
    {
        var sum = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            foreach (var (name, amount) in amounts(node))
            {
                sum[name] = sum.GetValueOrDefault(name) + amount;
            }
        }

        return sum;
    }

    /// <summary>
    /// Stores <paramref name="value"/> as an object and returns a reference to it, to pass to many tasks without copying
    /// it into each call. A small value is kept by the raylet; one larger than <see cref="RayOptions.MaxInlineObjectSize"/>
    /// is written once into the node's shared-memory object store, where workers read it in place. The object is freed
    /// when no reference to it remains.
    /// </summary>
    /// <exception cref="RaySerializationException">The value could not be serialized.</exception>
    /// <exception cref="ObjectStoreFullException">The value is large and the object store has no room for it.</exception>
    public ObjectRef<T> Put<T>(T value)
    {
        ThrowIfDisposed();
        try
        {
            return Core.Put(value);
        }
        catch (Exception e) when (e is not RayException)
        {
            throw new RaySerializationException($"The value of type {typeof(T)} could not be serialized: {e.Message}", e);
        }
    }

    /// <summary>Waits for all <paramref name="references"/> and returns their values in order; the first failure is rethrown.</summary>
    public Task<T[]> GetAsync<T>(IEnumerable<ObjectRef<T>> references, CancellationToken cancellationToken = default) =>
        GetAsync(references, null, cancellationToken);

    /// <summary>
    /// Waits for all <paramref name="references"/> and returns their values in order, or throws
    /// <see cref="GetTimeoutException"/> naming the first that was not ready after <paramref name="timeout"/>.
    /// </summary>
    public async Task<T[]> GetAsync<T>(IEnumerable<ObjectRef<T>> references, TimeSpan? timeout, CancellationToken cancellationToken = default)
    {
        var list = List(references);
        var values = new T[list.Count];
        var deadline = Deadline.Start(timeout);
        if (PendingAll(list, timeout, cancellationToken) is { } all)
        {
            await all.ConfigureAwait(false);
        }

        for (var i = 0; i < values.Length; i++)
        {
            var pending = list[i].GetAsync(cancellationToken);
            values[i] = pending.IsCompleted ? pending.Result : await deadline.WaitAsync(this, list[i], pending.AsTask()).ConfigureAwait(false);
        }

        return values;
    }

    /// <summary>
    /// Waits for all <paramref name="references"/> of remote calls that return no value (<c>void</c> or <c>Task</c>);
    /// the first failure is rethrown.
    /// </summary>
    public Task GetAsync(IEnumerable<ObjectRef> references, CancellationToken cancellationToken = default) =>
        GetAsync(references, null, cancellationToken);

    /// <summary>
    /// Waits for all <paramref name="references"/> of remote calls that return no value, or throws
    /// <see cref="GetTimeoutException"/> naming the first that was not ready after <paramref name="timeout"/>.
    /// </summary>
    public async Task GetAsync(IEnumerable<ObjectRef> references, TimeSpan? timeout, CancellationToken cancellationToken = default)
    {
        var list = List(references);
        var deadline = Deadline.Start(timeout);
        if (PendingAll(list, timeout, cancellationToken) is { } all)
        {
            await all.ConfigureAwait(false);
        }

        foreach (var reference in list)
        {
            var pending = reference.WaitAsync(cancellationToken);
            if (!pending.IsCompletedSuccessfully)
            {
                await deadline.WaitAsync(this, reference, pending.AsTask()).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Blocks until all <paramref name="references"/> are ready and returns their values in order.</summary>
    public T[] Get<T>(IEnumerable<ObjectRef<T>> references) => Get(references, null);

    /// <summary>
    /// Blocks until all <paramref name="references"/> are ready and returns their values in order, or throws
    /// <see cref="GetTimeoutException"/> naming the first that was not ready after <paramref name="timeout"/>.
    /// </summary>
    public T[] Get<T>(IEnumerable<ObjectRef<T>> references, TimeSpan? timeout)
    {
        var list = List(references);
        var values = new T[list.Count];
        var deadline = Deadline.Start(timeout);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = deadline.Remaining is { } remaining ? list[i].Get(remaining) : list[i].Get();
        }

        return values;
    }

    /// <summary>Blocks until all <paramref name="references"/> of remote calls that return no value are ready.</summary>
    public void Get(IEnumerable<ObjectRef> references) => Get(references, null);

    /// <summary>
    /// Blocks until all <paramref name="references"/> of remote calls that return no value are ready, or throws
    /// <see cref="GetTimeoutException"/> naming the first that was not ready after <paramref name="timeout"/>.
    /// </summary>
    public void Get(IEnumerable<ObjectRef> references, TimeSpan? timeout)
    {
        var deadline = Deadline.Start(timeout);
        foreach (var reference in List(references))
        {
            if (deadline.Remaining is { } remaining)
            {
                reference.Wait(remaining);
            }
            else
            {
                reference.Wait();
            }
        }
    }

    /// <summary>
    /// Waits until <paramref name="numReturns"/> of <paramref name="references"/> are ready or
    /// <paramref name="timeout"/> passes, and splits them into ready and not ready, each in input order.
    /// A failed task counts as ready: its error is thrown when its reference is awaited. As in Ray, at most
    /// <paramref name="numReturns"/> references are returned as ready; <c>timeout: TimeSpan.Zero</c> polls. As in Ray, an
    /// empty list returns at once with nothing in either part, and a reference listed twice is refused.
    /// </summary>
    /// <exception cref="ArgumentException">A reference is listed more than once.</exception>
    public async Task<WaitResult<TRef>> WaitAsync<TRef>(
        IReadOnlyList<TRef> references,
        int numReturns = 1,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
        where TRef : ObjectRef
    {
        ArgumentNullException.ThrowIfNull(references);
        if (references.Count == 0)
        {
            return new WaitResult<TRef>([], []);
        }

        var distinct = new HashSet<ObjectId>(references.Count);
        foreach (var reference in references)
        {
            if (!distinct.Add(reference.Id))
            {
                throw new ArgumentException($"WaitAsync takes each reference once, but {reference.Id} is listed more than once.", nameof(references));
            }
        }

        if (numReturns < 1 || numReturns > references.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(numReturns), numReturns, $"numReturns must be between 1 and the number of references ({references.Count}).");
        }

        var stopping = Core.Stopping;
        using var linked = cancellationToken.CanBeCanceled && stopping.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping) : null;
        var ready = new Task[references.Count];
        var remaining = numReturns;
        var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        for (var i = 0; i < ready.Length; i++)
        {
            ready[i] = Core.WhenReady(references[i].Id);
            _ = ready[i].ContinueWith(
                _ =>
                {
                    if (Interlocked.Decrement(ref remaining) == 0)
                    {
                        enough.TrySetResult();
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        using (Core.EnterBlocked())
        {
            try
            {
                await enough.Task.WaitAsync(timeout ?? Timeout.InfiniteTimeSpan, linked?.Token ?? (stopping.CanBeCanceled ? stopping : cancellationToken)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Not enough were ready in time: return what is ready now, as Ray does.
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                throw CoreWorker.Disposed();
            }
        }

        var readyList = new List<TRef>();
        var notReady = new List<TRef>();
        for (var i = 0; i < ready.Length; i++)
        {
            (ready[i].IsCompleted && readyList.Count < numReturns ? readyList : notReady).Add(references[i]);
        }

        return new WaitResult<TRef>(readyList, notReady);
    }

    /// <summary>
    /// Cancels the task or actor call that produces <paramref name="reference"/>. One that has not started never runs, and
    /// awaiting the reference throws <see cref="TaskCancelledException"/>. One that is running only has its
    /// <see cref="CancellationToken"/> fired: code that never looks at its token runs on, and its result is kept if it
    /// finishes. With <paramref name="force"/> (Ray's <c>force=True</c>), a running task is stopped by ending its worker
    /// process, which is replaced; other tasks that process held run again without losing an attempt. An actor call is
    /// never forced, since its process hosts other actors: only its token fires (use <see cref="Kill{TActor}"/> to stop
    /// an actor).
    /// </summary>
    public void Cancel(ObjectRef reference, bool force = false)
    {
        ArgumentNullException.ThrowIfNull(reference);
        Core.Cancel(reference.Id, force);
    }

    /// <summary>
    /// Cancels the producer of <paramref name="stream"/> (a streaming task or actor call), as <see cref="Cancel(ObjectRef, bool)"/>
    /// cancels a task: its <see cref="CancellationToken"/> fires, and it stops at its next item even if it never looks at
    /// the token. The items it made stay readable; the stream then ends with an item that throws
    /// <see cref="TaskCancelledException"/>. Leaving an <c>await foreach</c> over the stream early does the same.
    /// </summary>
    public void Cancel<T>(ObjectRefStream<T> stream, bool force = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Core.Cancel(stream.Id, force);
    }

    /// <summary>
    /// Returns a handle to the live actor registered under <paramref name="name"/> (see <see cref="ActorOptions.Name"/>),
    /// from the driver or from inside any task or actor of the job.
    /// </summary>
    /// <exception cref="ArgumentException">No live actor has that name, or it is not a <typeparamref name="TActor"/>.</exception>
    public ActorHandle<TActor> GetActor<TActor>(string name)
        where TActor : class =>
        GetActorAsync<TActor>(name).AsTask().GetAwaiter().GetResult();

    /// <inheritdoc cref="GetActor{TActor}(string)"/>
    public async ValueTask<ActorHandle<TActor>> GetActorAsync<TActor>(string name, CancellationToken cancellationToken = default)
        where TActor : class
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var (id, className) = await Core.LookupActorAsync(name, cancellationToken).ConfigureAwait(false);
        var requested = typeof(TActor).FullName?.Replace('+', '.');
        if (!string.Equals(className, requested, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The actor named '{name}' is a {className}, not a {requested}.", nameof(name));
        }

        return ActorHandle<TActor>.Create(id, Core);
    }

    /// <summary>
    /// Stops an actor at once: calls in flight and later calls fail with <see cref="ActorDiedException"/>, and it is
    /// not restarted. Its name becomes free.
    /// </summary>
    public void Kill<TActor>(ActorHandle<TActor> handle)
        where TActor : class
    {
        ArgumentNullException.ThrowIfNull(handle);
        Core.KillActor(handle.Id);
    }

    /// <summary>
    /// Lists the node's objects with their sizes, where they are, which process owns them and what keeps them alive,
    /// largest first (Ray's <c>ray memory</c>). Inside a task or actor, the objects of the node it runs on.
    /// </summary>
    public IReadOnlyList<ObjectInfo> ListObjects()
    {
        ThrowIfDisposed();
        return Node is { } node
            ? node.Objects.List()
            : ((ConnectedCoreWorker)Core).Query(NodeQueryKind.Objects).Objects.Select(NodeQueries.FromProto).ToArray();
    }

    /// <summary>
    /// The state of the node's shared-memory object store: capacity, use, spilling. Inside a task or actor, the store
    /// of the node it runs on.
    /// </summary>
    public ObjectStoreStats GetObjectStoreStats()
    {
        ThrowIfDisposed();
        return Node is { } node
            ? node.Store.Stats()
            : NodeQueries.FromProto(((ConnectedCoreWorker)Core).Query(NodeQueryKind.StoreStats).StoreStats);
    }

    /// <summary>
    /// Stops the embedded node: workers are asked to exit, and killed if they do not within a few seconds, and the
    /// shared-memory object store is deleted; a driver connected to a cluster ends its job there instead. Open
    /// <see cref="ArrayView{T}"/>s are closed. From then on, calls on this runtime and on the references and actor
    /// handles it made throw <see cref="ObjectDisposedException"/>, gets and waits in flight included.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        Uninstall();
        if (IsDriver)
        {
            Core.Shutdown();
        }

        if (_host is not null)
        {
            await _host.DisposeAsync().ConfigureAwait(false);
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync().ConfigureAwait(false);
        }

        _ownedLoggerFactory?.Dispose();
    }

    /// <summary>Makes <paramref name="core"/> the runtime of a worker process.</summary>
    internal static RayRuntime AttachWorker(CoreWorker core)
    {
        var runtime = new RayRuntime(core, null, null, null);
        runtime.Install();
        return runtime;
    }

    internal static ILoggerFactory CreateDefaultLoggerFactory(LogLevel level = LogLevel.Warning) =>
        LoggerFactory.Create(builder => builder
            .SetMinimumLevel(level)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            }));

    private void ThrowIfDisposed()
    {
        if (_disposed != 0)
        {
            throw CoreWorker.Disposed();
        }
    }

    /// <summary>
    /// Before a get of many waits for each in turn: where the core can, one wait for all of them (one wake-up when the
    /// last arrives, not one per result; the loop then finds them ready); null when there is nothing to wait for that
    /// way, or a timeout must name the first unfinished reference.
    /// </summary>
    private Task? PendingAll(IReadOnlyList<ObjectRef> references, TimeSpan? timeout, CancellationToken cancellationToken) =>
        timeout is null && references.Count > 1 && Core.WhenAllReady(references, cancellationToken) is { IsCompleted: false } all ? all : null;

    private static IReadOnlyList<TRef> List<TRef>(IEnumerable<TRef> references)
        where TRef : ObjectRef
    {
        ArgumentNullException.ThrowIfNull(references);
        return references as IReadOnlyList<TRef> ?? references.ToArray();
    }

    private static async Task<RayRuntime> StartEmbeddedAsync(RayOptions options, ILoggerFactory loggerFactory, ILoggerFactory? ownedLoggerFactory, CancellationToken cancellationToken)
    {
        var appDirectory = Path.GetFullPath(options.AppDirectory ?? AppContext.BaseDirectory);
        var capture = CaptureSettings.From(options.FailedTaskCapture, appDirectory);
        var host = await NodeHost.StartAsync(NodeOptions.FromDriver(options), loggerFactory, cancellationToken).ConfigureAwait(false);
        try
        {
            host.Node.FailedCalls.Configure(JobId.Embedded, capture);
            await host.Node.StartJobAsync(JobId.Embedded, appDirectory, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var core = new DriverCoreWorker(host.Node);
        core.Replays.Logger = loggerFactory.CreateLogger(LogCategories.Replay);
        host.Node.AttachDriver(core);
        return new RayRuntime(core, host, null, ownedLoggerFactory);
    }

    private static async Task<RayRuntime> ConnectAsync(string address, RayOptions options, ClusterSession session, ILoggerFactory loggerFactory, ILoggerFactory? ownedLoggerFactory, CancellationToken cancellationToken)
    {
        var cluster = await ClusterDriver.ConnectAsync(address, options, session, loggerFactory, cancellationToken).ConfigureAwait(false);
        cluster.Core.Replays.Logger = loggerFactory.CreateLogger(LogCategories.Replay);
        return new RayRuntime(cluster.Core, null, cluster, ownedLoggerFactory);
    }

    private void Install()
    {
        RayCore.Install(Core);
        s_current = this;
    }

    private void Uninstall()
    {
        RayCore.Uninstall(Core);
        Interlocked.CompareExchange(ref s_current, null, this);
    }

    private void OnProcessExit(object? sender, EventArgs e) =>
        // The driver is exiting without DisposeAsync: take the workers down with it, and the node's files. A cluster's
        // node sees the driver's connection end and ends its job.
        _host?.Abandon();
}
