using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Ray.Raylet;

/// <summary>
/// Keeps the node's pre-started, reused worker processes alive: starts them, hands registrations to the
/// scheduler, and replaces a worker that dies. Workers that keep failing before they register are reported
/// instead of being restarted in a tight loop.
/// </summary>
internal sealed class WorkerPool : IAsyncDisposable
{
    private const int MaxConsecutiveStartFailures = 3;

    private readonly WorkerLaunch _launch;
    private readonly TextWriter _output;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<int, WorkerProcess> _byPid = new();
    private readonly ConcurrentDictionary<int, WorkerHandle> _registered = new();
    private readonly TaskCompletionSource _allRegistered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _size;
    private int _consecutiveStartFailures;
    private int _dedicatedStarted;
    private volatile bool _stopping;

    public WorkerPool(int size, WorkerLaunch launch, TextWriter output, ILogger logger)
    {
        _size = size;
        _launch = launch;
        _output = output;
        _logger = logger;
    }

    /// <summary>Called with a worker that registered, or that died after registering (with its exit code).</summary>
    public event Action<WorkerHandle>? WorkerRegistered;

    public event Action<WorkerHandle, int?>? WorkerDied;

    public int Size => _size;

    /// <summary>The workers registered now, dedicated ones included.</summary>
    public IEnumerable<WorkerHandle> Registered => _registered.Values;

    /// <summary>The pids of the pool's live worker processes, dedicated ones included.</summary>
    public IReadOnlyCollection<int> ProcessIds => _byPid.Keys.ToArray();

    /// <summary>The pids of the shared (task) workers.</summary>
    public IReadOnlyCollection<int> SharedProcessIds => _byPid.Values.Where(p => !p.IsDedicated).Select(p => p.ProcessId).ToArray();

    public void Start()
    {
        for (var i = 0; i < _size; i++)
        {
            StartWorker(i, isDedicated: false);
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

    /// <summary>Starts a worker process for one actor; it registers like any other and is not replaced when it dies.</summary>
    public void StartDedicated()
    {
        if (!_stopping)
        {
            StartWorker(_size + Interlocked.Increment(ref _dedicatedStarted), isDedicated: true);
        }
    }

    public void OnRegistered(WorkerHandle handle)
    {
        _registered[handle.ProcessId] = handle;
        Interlocked.Exchange(ref _consecutiveStartFailures, 0);
        if (_registered.Values.Count(h => !h.IsDedicated) >= _size)
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

    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        var processes = _byPid.Values.ToArray();
        foreach (var handle in _registered.Values)
        {
            handle.Outbound.Complete();
        }

        // Workers exit by themselves when their stream ends; anything still running after that is killed.
        var exited = Task.WhenAll(processes.Select(p => p.Exited));
        if (await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false) != exited)
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

    private void StartWorker(int index, bool isDedicated)
    {
        WorkerProcess process;
        try
        {
            process = WorkerProcess.Start(_launch, index, isDedicated, _output);
        }
        catch (Exception e)
        {
            var error = new RayException($"Could not start worker process '{_launch.HostPath}': {e.Message}", e);
            _allRegistered.TrySetException(error);
            _logger.LogError(e, "Could not start a worker process.");
            return;
        }

        _byPid[process.ProcessId] = process;
        _logger.LogDebug("Started worker {Index} with pid {Pid}.", index, process.ProcessId);
        _ = MonitorAsync(process);
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
            if (failures >= MaxConsecutiveStartFailures)
            {
                _logger.LogError("Workers keep failing to start; not starting more. Last failure: {Message}", error.Message);
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200 * failures)).ConfigureAwait(false);
        }
        else
        {
            _logger.LogWarning(
                "Worker {Index} (pid {Pid}) exited with code {ExitCode}; starting a replacement.",
                process.Index, process.ProcessId, exitCode.ToString(CultureInfo.InvariantCulture));
        }

        process.Dispose();
        if (!_stopping && !process.IsDedicated)
        {
            StartWorker(process.Index, isDedicated: false);
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
