using MemoryPack;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Ray.Core;
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
    private static int s_starting;

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

    /// <summary>The process ids of the node's worker processes (driver only; empty in a worker).</summary>
    public IReadOnlyCollection<int> WorkerProcessIds => _node?.Pool.SharedProcessIds ?? [];

    /// <summary>The process ids of every worker process of the node, those dedicated to one actor included.</summary>
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
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; checked before anything starts.</exception>
    /// <exception cref="RayException">A worker could not be started; the message says why.</exception>
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
        RayletNode node;
        try
        {
            node = await RayletNode.StartAsync(options, loggerFactory, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
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
    public async Task<T[]> GetAsync<T>(IEnumerable<ObjectRef<T>> references, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(references);
        var list = references as IReadOnlyList<ObjectRef<T>> ?? references.ToArray();
        var values = new T[list.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = await list[i].GetAsync(cancellationToken).ConfigureAwait(false);
        }

        return values;
    }

    /// <summary>Blocks until all <paramref name="references"/> are ready and returns their values in order.</summary>
    public T[] Get<T>(IEnumerable<ObjectRef<T>> references)
    {
        ArgumentNullException.ThrowIfNull(references);
        return references.Select(r => r.Get()).ToArray();
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

        var stopping = Core is DriverCoreWorker driver ? driver.Stopping : CancellationToken.None;
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
                throw DriverCoreWorker.Disposed();
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
    /// Cancels the task that produces <paramref name="reference"/>: a task that has not started never runs; a
    /// running task's <see cref="CancellationToken"/> fires. Awaiting the reference then throws <see cref="TaskCancelledException"/>.
    /// </summary>
    public void Cancel(ObjectRef reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        Core.Cancel(reference.Id);
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
    /// <see cref="ArrayView{T}"/>s are closed and the shared-memory object store is deleted. From then on, calls on this
    /// runtime and on the references it made throw <see cref="ObjectDisposedException"/>, gets in flight included.
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

    private RayletNode RequireNode()
    {
        ThrowIfDisposed();
        return _node ?? throw new InvalidOperationException(
            "The object table lives in the driver: call this on the driver's runtime, not inside a task or actor.");
    }

    private void ThrowIfDisposed()
    {
        if (_disposed != 0)
        {
            throw DriverCoreWorker.Disposed();
        }
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

    private void OnProcessExit(object? sender, EventArgs e)
    {
        // The driver is exiting without DisposeAsync: take the workers down with it, and the shared memory.
        _node?.Store.Dispose();
        foreach (var pid in AllWorkerProcessIds)
        {
            try
            {
                System.Diagnostics.Process.GetProcessById(pid).Kill();
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already gone.
            }
        }
    }
}
