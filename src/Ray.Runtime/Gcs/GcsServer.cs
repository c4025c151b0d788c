using System.Collections.Concurrent;
using System.Threading.Channels;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.Logging;
using Ray.Runtime.Protocol;

namespace Ray.Gcs;

/// <summary>
/// The Global Control Service (Ray's GCS), on the head node, in memory: the node table with health checks (a node whose
/// reports stop for <see cref="HealthCheckTimeout"/> is marked dead, and every node is told), the cluster's resource
/// view (each node's free resources as it last reported them, sent to every node), the job table and a key-value store.
/// It is off the task path: nodes talk to each other directly and to the GCS only to join, report and look things up.
/// </summary>
internal sealed class GcsServer : IAsyncDisposable
{
    private readonly object _lock = new();
    private readonly Dictionary<ByteString, NodeEntry> _nodes = [];
    private readonly Dictionary<uint, JobInfo> _jobs = [];
    private readonly Dictionary<ByteString, ActorInfo> _actors = [];
    private readonly Dictionary<string, ByteString> _actorNames = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Namespace, string Key), ByteString> _kv = new();
    private readonly List<Channel<GcsEvent>> _subscribers = [];
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _healthCheck;
    private uint _nextJob;

    public GcsServer(TimeSpan healthCheckTimeout, ILogger logger)
    {
        if (healthCheckTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(healthCheckTimeout), healthCheckTimeout, "The health-check timeout must be positive.");
        }

        HealthCheckTimeout = healthCheckTimeout;

        // Several reports fit in a timeout, so one late report (a busy node, a GC pause) never looks like a death.
        HeartbeatPeriod = TimeSpan.FromMilliseconds(Math.Clamp(healthCheckTimeout.TotalMilliseconds / 5, 20, 1000));
        _logger = logger;
        _healthCheck = CheckHealthAsync(_stopping.Token);
    }

    /// <summary>How long a node may go without reporting before it is declared dead.</summary>
    public TimeSpan HealthCheckTimeout { get; }

    /// <summary>How often nodes report.</summary>
    public TimeSpan HeartbeatPeriod { get; }

    /// <summary>Adds a node to the table; the reply says why when it may not join.</summary>
    public RegisterNodeReply RegisterNode(RegisterNodeRequest request)
    {
        var reply = new RegisterNodeReply
        {
            HeartbeatPeriodMs = (long)HeartbeatPeriod.TotalMilliseconds,
            HealthCheckTimeoutMs = (long)HealthCheckTimeout.TotalMilliseconds,
        };
        if (RuntimeVersion.Mismatch(request.ProtocolVersion, request.RuntimeVersion, "node", "head") is { } mismatch)
        {
            reply.Error = mismatch;
            return reply;
        }

        var info = request.Node.Clone();
        info.IsAlive = true;
        info.Available.Clear();
        info.Available.Add(info.Total);
        lock (_lock)
        {
            if (_nodes.TryGetValue(info.NodeId, out var existing) && existing.Info.IsAlive)
            {
                reply.Error = $"A live node with id {NodeIds.Format(info.NodeId)} is already in the cluster.";
                return reply;
            }

            _nodes[info.NodeId] = new NodeEntry(info) { LastReport = Environment.TickCount64 };
            reply.Nodes.Add(_nodes.Values.Select(n => n.Info.Clone()));
        }

        _logger.NodeJoined(NodeIds.Format(info.NodeId), info.Address, info.IsHead);
        Publish(new GcsEvent { NodeChanged = info.Clone() });
        return reply;
    }

    /// <summary>A node's report: it lives, and this is what it has free and what waits.</summary>
    public void Report(NodeReport report)
    {
        lock (_lock)
        {
            if (!_nodes.TryGetValue(report.NodeId, out var node) || !node.Info.IsAlive)
            {
                return;
            }

            node.LastReport = Environment.TickCount64;
            node.Info.Available.Clear();
            node.Info.Available.Add(report.Available);
            node.Demand = [.. report.Demand];
        }
    }

    /// <summary>Marks a node dead now (it left, or its session broke for good), and tells every node.</summary>
    public void MarkDead(ByteString nodeId, string reason)
    {
        GcsNodeInfo? changed = null;
        lock (_lock)
        {
            if (_nodes.TryGetValue(nodeId, out var node) && node.Info.IsAlive)
            {
                node.Info.IsAlive = false;
                node.Info.DeathReason = reason;
                node.Info.Available.Clear();
                changed = node.Info.Clone();
            }
        }

        if (changed is not null)
        {
            _logger.NodeDied(NodeIds.Format(nodeId), changed.Address, reason);
            Publish(new GcsEvent { NodeChanged = changed });
        }
    }

    public IReadOnlyList<GcsNodeInfo> Nodes()
    {
        lock (_lock)
        {
            return _nodes.Values.Select(n => n.Info.Clone()).ToArray();
        }
    }

    public ClusterStatus Status()
    {
        var status = new ClusterStatus();
        lock (_lock)
        {
            status.Nodes.Add(_nodes.Values.Select(n => n.Info.Clone()));
            foreach (var node in _nodes.Values.Where(n => n.Info.IsAlive))
            {
                status.Pending.Add(node.Demand.Select(d => d.Clone()));
            }

            status.Jobs.Add(_jobs.Values.Select(j => j.Clone()));
        }

        return status;
    }

    /// <summary>Registers a job and gives it the next id (1, 2, …).</summary>
    public JobId AddJob(AddJobRequest request)
    {
        JobInfo job;
        lock (_lock)
        {
            job = new JobInfo
            {
                JobId = ++_nextJob,
                DriverNodeId = request.DriverNodeId,
                DriverPid = request.DriverPid,
                PackageId = request.PackageId,
                Entrypoint = request.Entrypoint,
                StartTimeUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            };
            _jobs[job.JobId] = job;
        }

        _logger.JobAdded(new JobId(job.JobId), request.DriverPid, NodeIds.Format(request.DriverNodeId));
        return new JobId(job.JobId);
    }

    /// <summary>The job's record; null when there is no such job.</summary>
    public JobInfo? GetJob(JobId id)
    {
        lock (_lock)
        {
            return _jobs.TryGetValue(id.Value, out var job) ? job.Clone() : null;
        }
    }

    /// <summary>A job's driver went away: every node is told, so that it stops the job's work and frees its objects.</summary>
    public void MarkJobFinished(JobId id)
    {
        JobInfo? finished = null;
        lock (_lock)
        {
            if (_jobs.TryGetValue(id.Value, out var job) && !job.IsFinished)
            {
                job.IsFinished = true;
                job.EndTimeUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                finished = job.Clone();
            }
        }

        if (finished is not null)
        {
            lock (_lock)
            {
                // The job's actors die with it (its driver went away), so their names are free.
                foreach (var actor in _actors.Values.Where(a => a.JobId == id.Value && !a.IsDead))
                {
                    actor.IsDead = true;
                    actor.DeathReason = $"its job {id} ended";
                }
            }

            Publish(new GcsEvent { JobFinished = finished });
        }
    }

    /// <summary>Adds an actor to the directory; the error says why when its name is taken by a live actor.</summary>
    public string? RegisterActor(ActorInfo actor)
    {
        lock (_lock)
        {
            if (actor.Name.Length > 0)
            {
                if (_actorNames.TryGetValue(actor.Name, out var holder) && _actors.TryGetValue(holder, out var existing) && !existing.IsDead && holder != actor.ActorId)
                {
                    return $"An actor named '{actor.Name}' already exists ({existing.ClassName} {Format(holder)}); names are unique in the cluster. " +
                           "Use ray.GetActor to reach it, or choose another name.";
                }

                _actorNames[actor.Name] = actor.ActorId;
            }

            _actors[actor.ActorId] = actor.Clone();
            return null;
        }
    }

    /// <summary>Records where an actor lives now, or that it died (its name is free then).</summary>
    public void UpdateActor(ActorInfo update)
    {
        lock (_lock)
        {
            if (_actors.TryGetValue(update.ActorId, out var actor))
            {
                actor.NodeId = update.NodeId.Length > 0 ? update.NodeId : actor.NodeId;
                actor.IsDead = update.IsDead;
                actor.DeathReason = update.DeathReason;
            }
        }
    }

    /// <summary>A live actor by name, or any actor by id; null when there is none.</summary>
    public ActorInfo? LookupActor(LookupActorRequest request)
    {
        lock (_lock)
        {
            var id = request.KeyCase == LookupActorRequest.KeyOneofCase.Name
                ? _actorNames.GetValueOrDefault(request.Name)
                : request.ActorId;
            return id is not null && _actors.TryGetValue(id, out var actor) && (request.KeyCase != LookupActorRequest.KeyOneofCase.Name || !actor.IsDead)
                ? actor.Clone()
                : null;
        }
    }

    public bool KvPut(string ns, string key, ByteString value, bool overwrite)
    {
        if (overwrite)
        {
            var added = !_kv.ContainsKey((ns, key));
            _kv[(ns, key)] = value;
            return added;
        }

        return _kv.TryAdd((ns, key), value);
    }

    public ByteString? KvGet(string ns, string key) => _kv.TryGetValue((ns, key), out var value) ? value : null;

    public bool KvDelete(string ns, string key) => _kv.TryRemove((ns, key), out _);

    public IReadOnlyList<string> KvKeys(string ns, string prefix) =>
        _kv.Keys.Where(k => k.Namespace == ns && k.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(k => k.Key).Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// Events for one node session, from now on: node changes, the resource view every heartbeat period, finished jobs.
    /// The first events are the node table as it stands. Dispose of the subscription to end it.
    /// </summary>
    public Subscription Subscribe()
    {
        var channel = Channel.CreateUnbounded<GcsEvent>(new UnboundedChannelOptions { SingleReader = true });
        lock (_lock)
        {
            foreach (var node in _nodes.Values)
            {
                channel.Writer.TryWrite(new GcsEvent { NodeChanged = node.Info.Clone() });
            }

            _subscribers.Add(channel);
        }

        return new Subscription(this, channel);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _healthCheck.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        lock (_lock)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryComplete();
            }

            _subscribers.Clear();
        }

        _stopping.Dispose();
    }

    private static string Format(ByteString actorId) => actorId.Length == ObjectId.Size ? ObjectId.ReadFrom(actorId.Span).ToString() : "?";

    private void Publish(GcsEvent message)
    {
        lock (_lock)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(message);
            }
        }
    }

    /// <summary>Declares dead the nodes that stopped reporting, and sends the resource view, every heartbeat period.</summary>
    private async Task CheckHealthAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(HeartbeatPeriod);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            var now = Environment.TickCount64;
            List<(ByteString Id, long QuietMs)>? quiet = null;
            var view = new ResourceView();
            lock (_lock)
            {
                foreach (var (id, node) in _nodes)
                {
                    if (!node.Info.IsAlive)
                    {
                        continue;
                    }

                    var silence = now - node.LastReport;
                    if (silence > HealthCheckTimeout.TotalMilliseconds)
                    {
                        (quiet ??= []).Add((id, silence));
                    }
                    else
                    {
                        view.Nodes.Add(new NodeAvailability { NodeId = id, Available = { node.Info.Available } });
                    }
                }
            }

            foreach (var (id, silence) in quiet ?? [])
            {
                MarkDead(id, $"it sent no report for {silence / 1000.0:0.0} s (health-check timeout {HealthCheckTimeout.TotalSeconds:0.#} s)");
            }

            Publish(new GcsEvent { Resources = view });
        }
    }

    /// <summary>One node session's events; disposing it stops them.</summary>
    public sealed class Subscription(GcsServer server, Channel<GcsEvent> channel) : IDisposable
    {
        public ChannelReader<GcsEvent> Events => channel.Reader;

        public void Dispose()
        {
            lock (server._lock)
            {
                server._subscribers.Remove(channel);
            }

            channel.Writer.TryComplete();
        }
    }

    private sealed class NodeEntry(GcsNodeInfo info)
    {
        public GcsNodeInfo Info { get; } = info;

        public long LastReport { get; set; }

        public ResourceDemand[] Demand { get; set; } = [];
    }
}
