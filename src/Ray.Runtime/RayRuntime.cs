using MemoryPack;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Ray.Core;
using Ray.Hosting;
using Ray.Infrastructure;
using Ray.Raylet;

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

    private readonly RayletNode? _node;
    private readonly ILoggerFactory? _ownedLoggerFactory;
    private int _disposed;

    private RayRuntime(CoreWorker core, RayletNode? node, ILoggerFactory? ownedLoggerFactory)
    {
        Core = core;
        _node = node;
        _ownedLoggerFactory = ownedLoggerFactory;
    }

    /// <summary>The runtime of this process: the driver's after <see cref="InitAsync"/>, or the worker's inside a task.</summary>
    /// <exception cref="InvalidOperationException">RayGen has not been started in this process.</exception>
    public static RayRuntime Current => s_current ?? throw new InvalidOperationException(
        "RayGen is not initialized in this process: call 'await RayRuntime.InitAsync()' first.");

    /// <summary>Whether this process is the driver (it hosts the node) rather than a worker.</summary>
    public bool IsDriver => _node is not null;

    /// <summary>The process ids of the node's task worker processes (driver only; empty in a worker).</summary>
    public IReadOnlyCollection<int> WorkerProcessIds => _node?.Pool.TaskProcessIds ?? [];

    /// <summary>The process ids of the node's processes that host actors (driver only; empty in a worker).</summary>
    public IReadOnlyCollection<int> ActorWorkerProcessIds => _node?.Pool.ActorProcessIds ?? [];

    /// <summary>The process ids of every worker process of the node, task and actor workers alike.</summary>
    public IReadOnlyCollection<int> AllWorkerProcessIds => _node?.Pool.ProcessIds ?? [];

    /// <summary>The resources of the node, by name (<c>CPU</c>, <c>GPU</c>, custom).</summary>
    public IReadOnlyDictionary<string, double> ClusterResources =>
        _node?.Scheduler.Total.Amounts.ToDictionary(a => a.Key, a => a.Value) ?? new Dictionary<string, double>();

    /// <summary>The resources not reserved by running tasks right now.</summary>
    public IReadOnlyDictionary<string, double> AvailableResources =>
        _node?.Scheduler.Available.Amounts.ToDictionary(a => a.Key, a => a.Value) ?? new Dictionary<string, double>();

    internal CoreWorker Core { get; }

    /// <summary>The raylet's Unix domain socket (driver only).</summary>
    internal string? RayletSocketPath => _node?.SocketPath;

    /// <summary>The embedded node (driver only).</summary>
    internal RayletNode? Node => _node;

    /// <summary>
    /// Starts an embedded single-node cluster in this process: the raylet on a Unix domain socket and
    /// <see cref="RayOptions.NumWorkers"/> worker processes, pre-started and reused. Returns once every worker
    /// has registered.
    /// </summary>
    /// <exception cref="RayException">A worker could not be started; the message says why.</exception>
    public static async Task<RayRuntime> InitAsync(RayOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RayOptions();
        if (s_current is not null)
        {
            throw new InvalidOperationException("RayGen is already initialized in this process; dispose the current runtime first.");
        }

        var ownedLoggerFactory = options.LoggerFactory is null ? CreateDefaultLoggerFactory() : null;
        var loggerFactory = options.LoggerFactory ?? ownedLoggerFactory!;
        RayletNode? node = null;
        try
        {
            node = await RayletNode.StartAsync(NodeOptions.FromDriver(options), loggerFactory, cancellationToken).ConfigureAwait(false);
            await node.StartJobAsync(JobId.Embedded, Path.GetFullPath(options.AppDirectory ?? AppContext.BaseDirectory), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (node is not null)
            {
                await node.DisposeAsync().ConfigureAwait(false);
            }

            ownedLoggerFactory?.Dispose();
            throw;
        }

        var core = new DriverCoreWorker(node);
        node.AttachDriver(core);
        var runtime = new RayRuntime(core, node, ownedLoggerFactory);
        runtime.Install();
        AppDomain.CurrentDomain.ProcessExit += runtime.OnProcessExit;
        return runtime;
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
    /// <paramref name="numReturns"/> references are returned as ready; <c>timeout: TimeSpan.Zero</c> polls.
    /// </summary>
    public async Task<WaitResult<TRef>> WaitAsync<TRef>(
        IReadOnlyList<TRef> references,
        int numReturns = 1,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
        where TRef : ObjectRef
    {
        ArgumentNullException.ThrowIfNull(references);
        if (numReturns < 1 || numReturns > references.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(numReturns), numReturns, $"numReturns must be between 1 and the number of references ({references.Count}).");
        }

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
                await enough.Task.WaitAsync(timeout ?? Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Not enough were ready in time: return what is ready now, as Ray does.
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
    /// largest first (Ray's <c>ray memory</c>). Driver only.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called inside a worker.</exception>
    public IReadOnlyList<ObjectInfo> ListObjects() => RequireNode().Objects.List();

    /// <summary>The state of the node's shared-memory object store: capacity, use, spilling. Driver only.</summary>
    /// <exception cref="InvalidOperationException">Called inside a worker.</exception>
    public ObjectStoreStats GetObjectStoreStats() => RequireNode().Store.Stats();

    /// <summary>
    /// Stops the node: workers are asked to exit, and killed if they do not within a few seconds. Open
    /// <see cref="ArrayView{T}"/>s are closed and the shared-memory object store is deleted.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        Uninstall();
        if (_node is not null)
        {
            ((DriverCoreWorker)Core).Shutdown();
            await _node.DisposeAsync().ConfigureAwait(false);
        }

        _ownedLoggerFactory?.Dispose();
    }

    /// <summary>Makes <paramref name="core"/> the runtime of a worker process.</summary>
    internal static RayRuntime AttachWorker(CoreWorker core)
    {
        var runtime = new RayRuntime(core, null, null);
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

    private static IReadOnlyList<TRef> List<TRef>(IEnumerable<TRef> references)
        where TRef : ObjectRef
    {
        ArgumentNullException.ThrowIfNull(references);
        return references as IReadOnlyList<TRef> ?? references.ToArray();
    }

    private RayletNode RequireNode() => _node ?? throw new InvalidOperationException(
        "The object table lives in the driver: call this on the driver's runtime, not inside a task or actor.");

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
        // The driver is exiting without DisposeAsync: take the workers down with it, and the node's files.
        _node?.Abandon();
}
