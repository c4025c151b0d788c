using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Ray.Logging;

namespace Ray.Raylet;

/// <summary>
/// Keeps the node's worker processes alive: the pre-started, reused task workers (replaced when one dies), and the
/// actor workers it starts when the actor manager asks (<see cref="StartActorWorker"/>). Registrations and deaths go
/// to the scheduler and the actor manager. Workers that keep failing before they register are reported instead of
/// being restarted in a tight loop.
/// </summary>
internal sealed class WorkerPool : IAsyncDisposable
{
    private const int MaxConsecutiveStartFailures = 3;

    private readonly WorkerLaunch _launch;
    private readonly WorkerOutput _output;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<int, WorkerProcess> _byPid = new();
    private readonly ConcurrentDictionary<int, WorkerHandle> _registered = new();
    private readonly TaskCompletionSource _allRegistered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _size;
    private int _consecutiveStartFailures;
    private int _nextIndex;
    private volatile bool _stopping;

    public WorkerPool(int size, WorkerLaunch launch, WorkerOutput output, ILogger logger)
    {
        _size = size;
        _nextIndex = size;
        _launch = launch;
        _output = output;
        _logger = logger;
    }

    /// <summary>Called with a worker that registered, or that died after registering (with its exit code).</summary>
    public event Action<WorkerHandle>? WorkerRegistered;

    public event Action<WorkerHandle, int?>? WorkerDied;

    /// <summary>A process started for actors exited before it registered, with what it wrote.</summary>
    public event Action<WorkerKind, string>? ActorWorkerStartFailed;

    public int Size => _size;

    /// <summary>The workers registered now, dedicated ones included.</summary>
    public IEnumerable<WorkerHandle> Registered => _registered.Values;

    /// <summary>The pids of the pool's live worker processes, dedicated ones included.</summary>
    public IReadOnlyCollection<int> ProcessIds => _byPid.Keys.ToArray();

    /// <summary>The pids of the task workers.</summary>
    public IReadOnlyCollection<int> TaskProcessIds => ProcessIdsOf(WorkerKind.Task);

    /// <summary>The pids of the processes that host actors (shared actor workers and dedicated ones).</summary>
    public IReadOnlyCollection<int> ActorProcessIds => _byPid.Values.Where(p => p.Kind != WorkerKind.Task).Select(p => p.ProcessId).ToArray();

    public void Start()
    {
        for (var i = 0; i < _size; i++)
        {
            StartWorker(i, WorkerKind.Task);
        }
    }

    /// <summary>Completes once every initial worker registered; fails with the reason when one cannot start.</summary>
    public async Task WaitForWorkersAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await _allRegistered.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new RayException(
                $"Only {_registered.Count} of {_size} worker processes registered within {timeout.TotalSeconds:0} s. " +
                $"Worker command: {_launch.HostPath} {string.Join(' ', _launch.Arguments)}");
        }
    }

    public WorkerProcess? Find(int processId) => _byPid.GetValueOrDefault(processId);

    /// <summary>
    /// Starts a process for actors (<see cref="WorkerKind.Actor"/>, shared by many) or for one actor
    /// (<see cref="WorkerKind.Dedicated"/>); it registers like any other and is not replaced when it dies (its actors
    /// restart elsewhere). False when the node is stopping or the process could not be started.
    /// </summary>
    public bool StartActorWorker(WorkerKind kind) => !_stopping && StartWorker(Interlocked.Increment(ref _nextIndex), kind);

    /// <summary>Ends a worker process that is no longer needed (a dedicated actor's, after the actor was killed).</summary>
    public void Retire(WorkerHandle handle)
    {
        handle.Outbound.Complete();
        if (_byPid.TryGetValue(handle.ProcessId, out var process))
        {
            _ = KillIfStillRunningAsync(process);
        }
    }

    public void OnRegistered(WorkerHandle handle)
    {
        _registered[handle.ProcessId] = handle;
        Interlocked.Exchange(ref _consecutiveStartFailures, 0);
        if (_registered.Values.Count(h => h.Kind == WorkerKind.Task) >= _size)
        {
            _allRegistered.TrySetResult();
        }

        WorkerRegistered?.Invoke(handle);
    }

    /// <summary>The worker's connection ended: make sure its process is gone too, which then reports the death.</summary>
    public void OnDisconnected(WorkerHandle handle)
    {
        if (_byPid.TryGetValue(handle.ProcessId, out var process))
        {
            _ = KillIfStillRunningAsync(process);
        }
    }

    /// <summary>Marks the pool as stopping: workers that exit from now on are not replaced.</summary>
    public void BeginStopping() => _stopping = true;

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        var processes = _byPid.Values.ToArray();
        foreach (var handle in _registered.Values)
        {
            handle.Outbound.Complete();
        }

        // Workers exit by themselves when their stream ends (within milliseconds); one still running after that is
        // stuck in user code, and is killed.
        var exited = Task.WhenAll(processes.Select(p => p.Exited));
        if (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false) != exited)
        {
            foreach (var process in processes)
            {
                process.Kill();
            }

            await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        }

        foreach (var process in processes)
        {
            process.Dispose();
        }
    }

    /// <summary>Kills one worker process now (a task on it was cancelled with force); a task worker is replaced.</summary>
    public void Kill(WorkerHandle handle)
    {
        if (_byPid.TryGetValue(handle.ProcessId, out var process))
        {
            process.Kill();
        }
    }

    /// <summary>Kills every worker process now (the node's process is exiting); none is replaced.</summary>
    public void Kill()
    {
        _stopping = true;
        foreach (var process in _byPid.Values)
        {
            process.Kill();
        }
    }

    private IReadOnlyCollection<int> ProcessIdsOf(WorkerKind kind) => _byPid.Values.Where(p => p.Kind == kind).Select(p => p.ProcessId).ToArray();

    private bool StartWorker(int index, WorkerKind kind)
    {
        WorkerProcess process;
        try
        {
            process = WorkerProcess.Start(_launch, index, kind, _output);
        }
        catch (Exception e)
        {
            var error = new RayException($"Could not start worker process '{_launch.HostPath}': {e.Message}", e);
            _allRegistered.TrySetException(error);
            _logger.LogError(e, "Could not start a worker process.");
            return false;
        }

        _byPid[process.ProcessId] = process;
        _logger.WorkerStarted(kind.ToString().ToLowerInvariant(), index, process.ProcessId);
        _ = MonitorAsync(process);
        return true;
    }

    private async Task MonitorAsync(WorkerProcess process)
    {
        var exitCode = await process.Exited.ConfigureAwait(false);
        _byPid.TryRemove(process.ProcessId, out _);
        var wasRegistered = _registered.TryRemove(process.ProcessId, out var handle);
        if (handle is not null)
        {
            handle.Outbound.Complete();
            WorkerDied?.Invoke(handle, exitCode);
        }

        if (_stopping)
        {
            // Workers that exit with the node (a Ctrl+C reaches the whole process group, too) are not replaced.
            _logger.WorkerExitedWhileStopping(process.Index, process.ProcessId, exitCode);
            process.Dispose();
            return;
        }

        if (!wasRegistered)
        {
            var failures = Interlocked.Increment(ref _consecutiveStartFailures);
            var reason = process.RecentErrors;
            var error = new RayException(
                $"Worker process pid {process.ProcessId} exited with code {exitCode} before it registered with the raylet." +
                (reason.Length > 0 ? $" It wrote:{Environment.NewLine}{reason}" : string.Empty));
            _allRegistered.TrySetException(error);
            if (process.Kind != WorkerKind.Task)
            {
                // The actor manager decides whether to try again: it knows which actors wait.
                process.Dispose();
                ActorWorkerStartFailed?.Invoke(process.Kind, error.Message);
                return;
            }

            if (failures >= MaxConsecutiveStartFailures)
            {
                _logger.LogError("Workers keep failing to start; not starting more. Last failure: {Message}", error.Message);
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200 * failures)).ConfigureAwait(false);
        }
        else if (process.Kind == WorkerKind.Task)
        {
            _logger.WorkerReplaced(process.Index, process.ProcessId, exitCode);
        }

        process.Dispose();
        if (!_stopping && process.Kind == WorkerKind.Task)
        {
            StartWorker(process.Index, WorkerKind.Task);
        }
    }

    private static async Task KillIfStillRunningAsync(WorkerProcess process)
    {
        if (await Task.WhenAny(process.Exited, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false) != process.Exited)
        {
            process.Kill();
        }
    }
}
