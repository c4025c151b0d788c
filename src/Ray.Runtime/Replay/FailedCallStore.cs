using System.Globalization;
using System.Threading.Channels;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.Infrastructure;
using Ray.Logging;
using Ray.ObjectStore;
using Ray.Runtime.Protocol;

namespace Ray.Replay;

/// <summary>
/// The failed calls a node keeps for replay, per job (the node owns the calls its processes submit): bounded by count,
/// bytes of arguments and age, oldest evicted first, each job by its driver's <see cref="CaptureSettings"/>. A kept call
/// holds a <see cref="ReferenceKind.Task"/> reference to every object it takes (future and large arguments, references
/// inside values), so those stay readable while it is kept. With a directory, each failure is also written to a file by a
/// background writer, off the raylet's threads. Calls evicted or refused leave a short note, so a replay asked for later
/// says why it cannot run.
/// </summary>
internal sealed class FailedCallStore : IDisposable
{
    /// <summary>How many notes on evicted calls a job keeps.</summary>
    private const int NotesPerJob = 1024;

    private static readonly TimeSpan ExpiryPeriod = TimeSpan.FromSeconds(5);

    private readonly object _lock = new();
    private readonly ObjectTable _objects;
    private readonly Guid _node;
    private readonly ILogger _logger;
    private readonly Dictionary<JobId, JobFailures> _jobs = [];
    private readonly Channel<FileJob> _files = Channel.CreateUnbounded<FileJob>(new UnboundedChannelOptions { SingleReader = true });
    private Task? _writer;
    private Timer? _expiry;
    private int _pendingFiles;

    public FailedCallStore(ObjectTable objects, Guid node, ILogger logger)
    {
        _objects = objects;
        _node = node;
        _logger = logger;
    }

    /// <summary>Sets how <paramref name="job"/>'s failures are kept (from its driver's options).</summary>
    public void Configure(JobId job, CaptureSettings settings)
    {
        lock (_lock)
        {
            Job(job).Settings = settings;
        }
    }

    /// <summary>How <paramref name="job"/>'s failures are kept.</summary>
    public CaptureSettings SettingsOf(JobId job)
    {
        lock (_lock)
        {
            return _jobs.TryGetValue(job, out var failures) ? failures.Settings : CaptureSettings.Default;
        }
    }

    /// <summary>How many failed calls of <paramref name="job"/> are kept, and the bytes of their arguments.</summary>
    public (int Count, long Bytes) Usage(JobId job)
    {
        lock (_lock)
        {
            return _jobs.TryGetValue(job, out var failures) ? (failures.Calls.Count, failures.Bytes) : (0, 0);
        }
    }

    /// <summary>
    /// Keeps a call that threw. Called by the call's owner once the call is settled and before its own references to
    /// the call's objects are released (so they are still alive to be counted here); off the scheduler's lock.
    /// </summary>
    public void Capture(CapturedCall call)
    {
        CaptureSettings settings;
        lock (_lock)
        {
            settings = Job(call.Job).Settings;
        }

        if (!settings.Enabled)
        {
            return;
        }

        if (settings.Directory is not null)
        {
            // The writer holds the objects of its own until the file is written, whatever memory keeps.
            Interlocked.Increment(ref _pendingFiles);
            _files.Writer.TryWrite(new FileJob(call, settings, Hold(call.References)));
            EnsureWriter();
        }

        var bytes = ArgumentBytes(call);
        if (settings.MaxFailures == 0 || bytes > settings.MaxBytes)
        {
            lock (_lock)
            {
                Job(call.Job).Note(call.TaskId, settings.MaxFailures == 0
                    ? "RayOptions.FailedTaskCapture.MaxFailures is 0, so no failed call is kept in memory"
                    : $"its arguments ({ByteSize.Format(bytes)}) are more than RayOptions.FailedTaskCapture.MaxBytes ({ByteSize.Format(settings.MaxBytes)}), so it was not kept");
            }

            return;
        }

        var kept = new KeptCall(call, bytes, Hold(call.References));
        List<KeptCall>? evicted = null;
        lock (_lock)
        {
            var failures = Job(call.Job);
            failures.Add(kept);
            while (failures.Calls.Count > settings.MaxFailures)
            {
                (evicted ??= []).Add(failures.EvictOldest(
                    $"it was evicted: the node keeps the last {settings.MaxFailures} failed calls (RayOptions.FailedTaskCapture.MaxFailures)"));
            }

            while (failures.Bytes > settings.MaxBytes)
            {
                (evicted ??= []).Add(failures.EvictOldest(
                    $"it was evicted to keep the kept failures' arguments within {ByteSize.Format(settings.MaxBytes)} (RayOptions.FailedTaskCapture.MaxBytes)"));
            }

            _expiry ??= new Timer(static state => ((FailedCallStore)state!).Expire(), this, ExpiryPeriod, ExpiryPeriod);
        }

        _logger.FailedCallCaptured(call.FunctionName, call.TaskId, ByteSize.Format(bytes));
        Release(evicted);
    }

    /// <summary>
    /// The call that threw as <paramref name="taskId"/>, with its arguments read (stored ones copied out of the store),
    /// for a process of <paramref name="job"/> that replays it.
    /// </summary>
    /// <exception cref="ReplayUnavailableException">The call is not kept here; the message says why.</exception>
    public async Task<FailedCallRecord> FetchAsync(ObjectId taskId, JobId job, CancellationToken cancellationToken)
    {
        KeptCall kept;
        CaptureSettings settings;
        ObjectId[] held;
        List<KeptCall>? expired = null;
        try
        {
            lock (_lock)
            {
                expired = ExpireLocked(DateTime.UtcNow);
                (kept, settings) = Find(taskId, job);

                // Evicting it meanwhile must not free what is being read.
                held = Hold(kept.Call.References);
            }
        }
        finally
        {
            Release(expired);
        }

        try
        {
            return await ReadAsync(kept.Call, settings, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _objects.ReleaseAll(held, ReferenceKind.Task);
        }
    }

    /// <summary>The job ended: its kept failures go, and the objects they held with them.</summary>
    public void EndJob(JobId job)
    {
        JobFailures? failures;
        lock (_lock)
        {
            _jobs.Remove(job, out failures);
        }

        Release(failures?.Calls.Values.ToList());
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _expiry?.Dispose();
            _expiry = null;
        }

        _files.Writer.TryComplete();
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) until every failure captured so far is written to its file.</summary>
    public async Task FlushFilesAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Volatile.Read(ref _pendingFiles) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10).ConfigureAwait(false);
        }
    }

    private static ReplayUnavailableException Unavailable(ObjectId taskId, string reason) =>
        new($"Call {taskId} cannot be replayed: {reason}.");

    /// <summary>The kept call, or why there is none. Under the lock.</summary>
    private (KeptCall Kept, CaptureSettings Settings) Find(ObjectId taskId, JobId job)
    {
        if (taskId.Job != job)
        {
            throw Unavailable(taskId, $"it belongs to job {taskId.Job}, not to this process's job {job}");
        }

        if (!_jobs.TryGetValue(job, out var failures))
        {
            throw Unavailable(taskId, $"node {_node:n} keeps no failed call of job {job}");
        }

        var settings = failures.Settings;
        if (!failures.Calls.TryGetValue(taskId, out var kept))
        {
            throw Unavailable(taskId, failures.Notes.GetValueOrDefault(taskId) ?? (settings.Enabled
                ? $"node {_node:n} has no record of it: a call is kept by the node of the process that submitted it (its owner), and only while " +
                  $"its bounds allow (RayOptions.FailedTaskCapture: the last {settings.MaxFailures} failures, {ByteSize.Format(settings.MaxBytes)}, {settings.MaxAge})"
                : "failed-call capture is disabled for this job (RayOptions.FailedTaskCapture.Enabled is false)"));
        }

        return (kept, settings);
    }

    private JobFailures Job(JobId job)
    {
        if (!_jobs.TryGetValue(job, out var failures))
        {
            _jobs[job] = failures = new JobFailures(CaptureSettings.Default);
        }

        return failures;
    }

    /// <summary>Counts a reference to each object that still exists; returns the ones counted, to release later.</summary>
    private ObjectId[] Hold(ObjectId[] ids)
    {
        if (ids.Length == 0)
        {
            return ids;
        }

        var held = new List<ObjectId>(ids.Length);
        foreach (var id in ids)
        {
            if (_objects.AddReference(id, ReferenceKind.Task))
            {
                held.Add(id);
            }
        }

        return [.. held];
    }

    private void Release(List<KeptCall>? calls)
    {
        if (calls is null)
        {
            return;
        }

        foreach (var call in calls)
        {
            _objects.ReleaseAll(call.Held, ReferenceKind.Task);
        }
    }

    /// <summary>The bytes a call's arguments hold: inline values, and the sizes of the objects it takes.</summary>
    private long ArgumentBytes(CapturedCall call)
    {
        long bytes = 0;
        foreach (var argument in call.Arguments)
        {
            bytes += argument.Value.Length;
        }

        foreach (var argument in call.ConstructorArguments ?? [])
        {
            bytes += argument.Value.Length;
        }

        foreach (var id in call.References)
        {
            if (_objects.TryGet(id, out var entry) && entry.IsReady)
            {
                bytes += entry.Size;
            }
        }

        return bytes;
    }

    private void Expire()
    {
        List<KeptCall>? expired;
        lock (_lock)
        {
            expired = ExpireLocked(DateTime.UtcNow);
        }

        Release(expired);
    }

    private List<KeptCall>? ExpireLocked(DateTime now)
    {
        List<KeptCall>? expired = null;
        foreach (var failures in _jobs.Values)
        {
            while (failures.Oldest is { } oldest && now - oldest.Call.FailedAt > failures.Settings.MaxAge)
            {
                (expired ??= []).Add(failures.EvictOldest($"it was evicted after {failures.Settings.MaxAge} (RayOptions.FailedTaskCapture.MaxAge)"));
            }
        }

        return expired;
    }

    private void EnsureWriter()
    {
        lock (_lock)
        {
            _writer ??= Task.Run(WriteFilesAsync);
        }
    }

    private async Task WriteFilesAsync()
    {
        await foreach (var job in _files.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                var record = await ReadAsync(job.Call, job.Settings, CancellationToken.None).ConfigureAwait(false);
                var path = await FailedCallFile.WriteAsync(job.Settings.Directory!, record, CancellationToken.None).ConfigureAwait(false);
                _logger.FailedCallWritten(job.Call.FunctionName, job.Call.TaskId, path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ReplayUnavailableException or RayException)
            {
                _logger.FailedCallNotWritten(job.Call.FunctionName, job.Call.TaskId, job.Settings.Directory!, e.Message);
            }
            finally
            {
                _objects.ReleaseAll(job.Held, ReferenceKind.Task);
                Interlocked.Decrement(ref _pendingFiles);
            }
        }
    }

    /// <summary>The record of a kept call: its arguments as values, read from this node's objects.</summary>
    private async Task<FailedCallRecord> ReadAsync(CapturedCall call, CaptureSettings settings, CancellationToken cancellationToken)
    {
        var record = new FailedCallRecord
        {
            FormatVersion = FailedCallFile.FormatVersion,
            TaskId = call.TaskId.ToProto(),
            FunctionId = call.FunctionId,
            FunctionName = call.FunctionName,
            AssemblyName = call.AssemblyName,
            Error = call.Error.Clone(),
            AppDirectory = settings.AppDirectory,
            NodeId = _node.ToString("n"),
            FailedAtUnixMs = new DateTimeOffset(call.FailedAt).ToUnixTimeMilliseconds(),
            SubmitterPid = call.SubmitterPid,
        };
        await AddValuesAsync(record.Args, call.Arguments, call, cancellationToken).ConfigureAwait(false);
        if (call.Actor is { } actor)
        {
            record.ActorClass = actor.ClassName;
            record.ConstructorId = actor.ConstructorId;
            record.ConstructorName = actor.ConstructorName;
            record.ConstructorAssembly = actor.AssemblyName;
            await AddValuesAsync(record.ConstructorArgs, call.ConstructorArguments ?? [], call, cancellationToken).ConfigureAwait(false);
        }

        return record;
    }

    private async Task AddValuesAsync(Google.Protobuf.Collections.RepeatedField<ByteString> values, TaskArgument[] arguments, CapturedCall call, CancellationToken cancellationToken)
    {
        for (var i = 0; i < arguments.Length; i++)
        {
            var argument = arguments[i];
            values.Add(argument.IsReference
                ? await ReadObjectAsync(argument.Reference, i, call, cancellationToken).ConfigureAwait(false)
                : UnsafeByteOperations.UnsafeWrap(argument.Value));
        }
    }

    /// <summary>The value of an argument that was an object (a future, or a large value stored once).</summary>
    private async Task<ByteString> ReadObjectAsync(ObjectId id, int index, CapturedCall call, CancellationToken cancellationToken)
    {
        if (!_objects.TryGet(id, out var entry) || !entry.IsReady)
        {
            throw Unavailable(call.TaskId, $"argument {index.ToString(CultureInfo.InvariantCulture)} (object {id}) is gone from node {_node:n}");
        }

        if (entry.Error is not null)
        {
            throw Unavailable(call.TaskId, $"argument {index.ToString(CultureInfo.InvariantCulture)} (object {id}) holds an error, not a value");
        }

        if (entry.Stored is { } stored)
        {
            var store = _objects.Store!;
            await store.PinAsync(stored, cancellationToken).ConfigureAwait(false);
            try
            {
                return ByteString.CopyFrom(store.Read(stored).Span);
            }
            finally
            {
                store.Unpin(stored);
            }
        }

        if (entry.Remote is not null)
        {
            throw Unavailable(call.TaskId, $"argument {index.ToString(CultureInfo.InvariantCulture)} (object {id}) is a large object whose copies are on other nodes");
        }

        return UnsafeByteOperations.UnsafeWrap(entry.Value);
    }

    /// <summary>A kept call: its bytes (towards the job's bound) and the references it holds.</summary>
    private sealed record KeptCall(CapturedCall Call, long Bytes, ObjectId[] Held);

    /// <summary>A failure to write to a file, with the references that keep its objects until it is written.</summary>
    private sealed record FileJob(CapturedCall Call, CaptureSettings Settings, ObjectId[] Held);

    /// <summary>One job's kept failures, oldest first, and the notes on the ones that went.</summary>
    private sealed class JobFailures(CaptureSettings settings)
    {
        private readonly Queue<KeptCall> _order = new();
        private readonly Queue<ObjectId> _noteOrder = new();

        public CaptureSettings Settings { get; set; } = settings;

        public Dictionary<ObjectId, KeptCall> Calls { get; } = [];

        public Dictionary<ObjectId, string> Notes { get; } = [];

        public long Bytes { get; private set; }

        public KeptCall? Oldest => _order.TryPeek(out var oldest) ? oldest : null;

        public void Add(KeptCall call)
        {
            Calls[call.Call.TaskId] = call;
            _order.Enqueue(call);
            Bytes += call.Bytes;
        }

        public KeptCall EvictOldest(string reason)
        {
            var oldest = _order.Dequeue();
            Calls.Remove(oldest.Call.TaskId);
            Bytes -= oldest.Bytes;
            Note(oldest.Call.TaskId, reason);
            return oldest;
        }

        public void Note(ObjectId taskId, string reason)
        {
            if (Notes.TryAdd(taskId, reason))
            {
                _noteOrder.Enqueue(taskId);
                if (_noteOrder.Count > NotesPerJob)
                {
                    Notes.Remove(_noteOrder.Dequeue());
                }
            }
        }
    }
}
