using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Ray.Logging;

namespace Ray.Raylet;

/// <summary>
/// Keeps the node's worker processes alive, per job (a worker loads one job's code, so two drivers with different
/// builds of the same assembly never share a process): the pre-started, reused task workers of each job (replaced when
/// one dies, while the job runs), and the actor workers the actor manager asks for (<see cref="StartActorWorker"/>).
/// Registrations and deaths go to the scheduler and the actor manager. Workers that keep failing before they register
/// are reported instead of being restarted in a tight loop.
/// </summary>
internal sealed class WorkerPool : IAsyncDisposable
{
    private const int MaxConsecutiveStartFailures = 3;

    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(2);

    private readonly WorkerOutput _output;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<int, WorkerProcess> _byPid = new();
    private readonly ConcurrentDictionary<int, WorkerHandle> _registered = new();
    private readonly ConcurrentDictionary<JobId, JobWorkers> _jobs = new();
    private readonly int _size;
    private int _nextIndex;
    private volatile bool _stopping;

    /// <param name="size">Task workers per job.</param>
    /// <param name="output">Where the workers' output lines go.</param>
    /// <param name="logger">The pool's log.</param>
    public WorkerPool(int size, WorkerOutput output, ILogger logger)
    {
        _size = size;
        _nextIndex = size;
        _output = output;
        _logger = logger;
    }

    /// <summary>Called with a worker that registered.</summary>
    public event Action<WorkerHandle>? WorkerRegistered;

    /// <summary>Called with a worker that died after registering, with its exit code.</summary>
    public event Action<WorkerHandle, int?>? WorkerDied;

    /// <summary>A process started for actors of a job exited before it registered, with what it wrote.</summary>
    public event Action<JobId, WorkerKind, string>? ActorWorkerStartFailed;

    /// <summary>Task workers per job.</summary>
    public int Size => _size;

    /// <summary>The workers registered now, of every job and kind.</summary>
    public IEnumerable<WorkerHandle> Registered => _registered.Values;

    /// <summary>The pids of the pool's live worker processes.</summary>
    public IReadOnlyCollection<int> ProcessIds => _byPid.Keys.ToArray();

    /// <summary>The pids of the task workers.</summary>
    public IReadOnlyCollection<int> TaskProcessIds => _byPid.Values.Where(p => p.Kind == WorkerKind.Task).Select(p => p.ProcessId).ToArray();

    /// <summary>The pids of the processes that host actors (shared actor workers and dedicated ones).</summary>
    public IReadOnlyCollection<int> ActorProcessIds => _byPid.Values.Where(p => p.Kind != WorkerKind.Task).Select(p => p.ProcessId).ToArray();

    /// <summary>Whether the job has workers here (it started and has not ended).</summary>
    public bool HasJob(JobId job) => _jobs.ContainsKey(job);

    /// <summary>Starts the job's task workers, which load its code as <paramref name="launch"/> says; false if it already runs.</summary>
    public bool StartJob(JobId job, WorkerLaunch launch)
    {
        var workers = new JobWorkers(job, launch, _size);
        if (_stopping || !_jobs.TryAdd(job, workers))
        {
            return false;
        }

        for (var i = 0; i < _size; i++)
        {
            StartWorker(workers, i, WorkerKind.Task);
        }

        return true;
    }

    /// <summary>Completes once every initial task worker of the job registered; fails with the reason when one cannot start.</summary>
    public async Task WaitForWorkersAsync(JobId job, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var workers = _jobs.GetValueOrDefault(job) ?? throw new InvalidOperationException($"Job {job} has no workers on this node.");
        try
        {
            await workers.AllRegistered.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new RayException(
                $"Only {workers.RegisteredTaskWorkers} of {_size} worker processes registered within {timeout.TotalSeconds:0} s. " +
                $"Worker command: {workers.Launch.HostPath} {string.Join(' ', workers.Launch.Arguments)}");
        }
    }

    /// <summary>
    /// Ends a job's workers: they are asked to exit (their streams end), killed if they have not within a moment, and
    /// not replaced. Completes when all have exited.
    /// </summary>
    public async Task StopJobAsync(JobId job)
    {
        if (!_jobs.TryRemove(job, out var workers))
        {
            return;
        }

        workers.Stopping = true;
        await StopAsync(_byPid.Values.Where(p => p.Job == job).ToArray()).ConfigureAwait(false);
    }

    public WorkerProcess? Find(int processId) => _byPid.GetValueOrDefault(processId);

    /// <summary>
    /// Starts a process for actors of <paramref name="job"/> (<see cref="WorkerKind.Actor"/>, shared by many) or for one
    /// actor (<see cref="WorkerKind.Dedicated"/>); it registers like any other and is not replaced when it dies (its
    /// actors restart elsewhere). False when the job or the node is stopping, or the process could not be started.
    /// </summary>
    public bool StartActorWorker(JobId job, WorkerKind kind) =>
        !_stopping && _jobs.TryGetValue(job, out var workers) && !workers.Stopping &&
        StartWorker(workers, Interlocked.Increment(ref _nextIndex), kind);

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
        if (_jobs.TryGetValue(handle.Job, out var workers))
        {
            workers.OnRegistered(handle);
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
        await StopAsync(_byPid.Values.ToArray()).ConfigureAwait(false);
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

    private async Task StopAsync(WorkerProcess[] processes)
    {
        foreach (var process in processes)
        {
            if (_registered.TryGetValue(process.ProcessId, out var handle))
            {
                handle.Outbound.Complete();
            }
        }

        // Workers exit by themselves when their stream ends (within milliseconds); one still running after that is
        // stuck in user code, and is killed.
        var exited = Task.WhenAll(processes.Select(p => p.Exited));
        if (await Task.WhenAny(exited, Task.Delay(StopGrace)).ConfigureAwait(false) != exited)
        {
            foreach (var process in processes)
            {
                process.Kill();
            }

            await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        }
    }

    private bool StartWorker(JobWorkers workers, int index, WorkerKind kind)
    {
        WorkerProcess process;
        try
        {
            process = WorkerProcess.Start(workers.Launch, workers.Job, index, kind, _output);
        }
        catch (Exception e)
        {
            workers.AllRegistered.TrySetException(new RayException($"Could not start worker process '{workers.Launch.HostPath}': {e.Message}", e));
            _logger.LogError(e, "Could not start a worker process.");
            return false;
        }

        _byPid[process.ProcessId] = process;
        _logger.WorkerStarted(kind.ToString().ToLowerInvariant(), index, process.ProcessId);
        _ = MonitorAsync(workers, process);
        return true;
    }

    private async Task MonitorAsync(JobWorkers workers, WorkerProcess process)
    {
        var exitCode = await process.Exited.ConfigureAwait(false);
        _byPid.TryRemove(process.ProcessId, out _);
        var wasRegistered = _registered.TryRemove(process.ProcessId, out var handle);
        if (handle is not null)
        {
            handle.Outbound.Complete();
            WorkerDied?.Invoke(handle, exitCode);
        }

        if (_stopping || workers.Stopping)
        {
            // Workers that exit with their node or job (a Ctrl+C reaches the whole process group, too) are not replaced.
            _logger.WorkerExitedWhileStopping(process.Index, process.ProcessId, exitCode);
            process.Dispose();
            return;
        }

        if (!wasRegistered)
        {
            var failures = Interlocked.Increment(ref workers.ConsecutiveStartFailures);
            var reason = process.RecentErrors;
            var error = new RayException(
                $"Worker process pid {process.ProcessId} exited with code {exitCode} before it registered with the raylet." +
                (reason.Length > 0 ? $" It wrote:{Environment.NewLine}{reason}" : string.Empty));
            workers.AllRegistered.TrySetException(error);
            process.Dispose();
            if (process.Kind != WorkerKind.Task)
            {
                // The actor manager decides whether to try again: it knows which actors wait.
                ActorWorkerStartFailed?.Invoke(workers.Job, process.Kind, error.Message);
                return;
            }

            if (failures >= MaxConsecutiveStartFailures)
            {
                _logger.LogError("Workers keep failing to start; not starting more. Last failure: {Message}", error.Message);
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200 * failures)).ConfigureAwait(false);
        }
        else
        {
            process.Dispose();
            if (process.Kind == WorkerKind.Task)
            {
                _logger.WorkerReplaced(process.Index, process.ProcessId, exitCode);
            }
        }

        if (!_stopping && !workers.Stopping && process.Kind == WorkerKind.Task)
        {
            StartWorker(workers, process.Index, WorkerKind.Task);
        }
    }

    private static async Task KillIfStillRunningAsync(WorkerProcess process)
    {
        if (await Task.WhenAny(process.Exited, Task.Delay(StopGrace)).ConfigureAwait(false) != process.Exited)
        {
            process.Kill();
        }
    }

    /// <summary>One job's workers: how to start them, and whether its first task workers are all up.</summary>
    private sealed class JobWorkers(JobId job, WorkerLaunch launch, int size)
    {
        private int _registeredTaskWorkers;

        public JobId Job { get; } = job;

        public WorkerLaunch Launch { get; } = launch;

        public TaskCompletionSource AllRegistered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int RegisteredTaskWorkers => Volatile.Read(ref _registeredTaskWorkers);

        public volatile bool Stopping;

        public int ConsecutiveStartFailures;

        public void OnRegistered(WorkerHandle handle)
        {
            Interlocked.Exchange(ref ConsecutiveStartFailures, 0);
            if (handle.Kind == WorkerKind.Task && Interlocked.Increment(ref _registeredTaskWorkers) >= size)
            {
                AllRegistered.TrySetResult();
            }
        }
    }
}
