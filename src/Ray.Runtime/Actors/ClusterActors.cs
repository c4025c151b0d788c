using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.Gcs;
using Ray.ObjectStore;
using Ray.Ownership;
using Ray.Raylet;
using Ray.Runtime.Protocol;
using Ray.Scheduling;

namespace Ray.Actors;

/// <summary>
/// Actors across nodes. The node of the process that creates an actor places it on any node (by its resources and
/// placement, the whole cluster in view) and registers it in the GCS's actor directory, which also holds the names of
/// named actors; the chosen node hosts it (<see cref="ActorManager"/>). A call goes to the actor's node from the
/// caller's node, whose link keeps each caller's calls in order; the result comes back to the caller's node, which
/// owns it. Kills and cancellations go to the host; an actor that dies there is marked dead in the directory.
/// </summary>
internal sealed class ClusterActors
{
    private readonly object _lock = new();
    private readonly RayletNode _node;
    private readonly ClusterView _view;
    private readonly NodeLinks _links;
    private readonly ClusterReferences _references;
    private readonly IGcsClient _gcs;
    private readonly Func<JobId, Task> _startJob;
    private readonly ILogger _logger;
    private readonly PlacementPolicy _policy;
    private readonly Dictionary<ActorId, RemoteActor> _remote = [];
    private readonly Dictionary<ObjectId, OutgoingCall> _inFlight = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ObjectId, Raylet.ItemSequence> _sequences = new();

    /// <summary>Actors placed here whose job is still starting, with the calls that arrived for them meanwhile.</summary>
    private readonly Dictionary<ActorId, List<(Guid From, ForwardActorCall Call)>> _hosting = [];

    public ClusterActors(RayletNode node, ClusterView view, NodeLinks links, ClusterReferences references, IGcsClient gcs, Func<JobId, Task> startJob, ILogger logger)
    {
        _node = node;
        _view = view;
        _links = links;
        _references = references;
        _gcs = gcs;
        _startJob = startJob;
        _logger = logger;
        _policy = new PlacementPolicy(node.NodeGuid);
        node.Actors.ActorEnded += OnActorEnded;
        view.NodeDied += OnNodeDied;
    }

    /// <summary>
    /// Creates an actor a process of this node asked for: registered in the directory (a taken name fails the creation,
    /// and calls through the handle say why), then hosted here or on the node placement chose.
    /// </summary>
    public void Create(CreateActor spec)
    {
        // Calls made right after the creation wait here until it is placed.
        lock (_lock)
        {
            var id = new ActorId(spec.ActorId.ToObjectId());
            _remote.TryAdd(id, new RemoteActor(id));
        }

        _ = CreateAsync(spec);
    }

    /// <summary>Sends a call of a process of this node to the actor, wherever it lives.</summary>
    public void Submit(SubmitActorTask spec, ObjectEntry result, CallerKey caller)
    {
        var id = new ActorId(spec.ActorId.ToObjectId());
        RemoteActor? actor;
        var lookup = false;
        lock (_lock)
        {
            // Calls that wait for the actor's placement or location go first, so a caller's order holds.
            if (!_remote.TryGetValue(id, out actor) && !_node.Actors.Hosts(id))
            {
                _remote[id] = actor = new RemoteActor(id);
                lookup = true;
            }

            actor?.Outgoing.Enqueue(new OutgoingCall(spec, result, caller));
        }

        if (actor is null)
        {
            _node.Actors.Submit(spec, result, caller);
        }
        else if (lookup)
        {
            _ = LocateAsync(actor);
        }
        else
        {
            Pump(actor);
        }
    }

    /// <summary>Kills an actor wherever it lives.</summary>
    public void Kill(ActorId id)
    {
        if (_node.Actors.Hosts(id))
        {
            _node.Actors.Kill(id);
            return;
        }

        _ = KillRemoteAsync(id);
    }

    /// <summary>Cancels an actor call this node sent to another; false when it is not one.</summary>
    public bool Cancel(ObjectId callId)
    {
        Guid host;
        lock (_lock)
        {
            if (!_inFlight.TryGetValue(callId, out var call) || call.Host == Guid.Empty)
            {
                return false;
            }

            host = call.Host;
        }

        _links.Send(host, new NodeMessage { CancelActorCall = new CancelForwarded { TaskId = callId.ToProto() } });
        return true;
    }

    /// <summary>Whether <paramref name="callId"/> is a call this node sent to an actor on another node, which has not finished.</summary>
    public bool IsOutgoingCall(ObjectId callId)
    {
        lock (_lock)
        {
            return _inFlight.ContainsKey(callId);
        }
    }

    /// <summary>
    /// The reader of a streaming call this node sent to another node took <paramref name="consumed"/> items: the actor's
    /// node is told; false when it is not such a call.
    /// </summary>
    public bool StreamConsumed(ObjectId callId, long consumed)
    {
        Guid host;
        lock (_lock)
        {
            if (!_inFlight.TryGetValue(callId, out var call) || call.Host == Guid.Empty)
            {
                return false;
            }

            host = call.Host;
        }

        _links.Send(host, new NodeMessage { GeneratorConsumed = new ForwardedGeneratorConsumed { TaskId = callId.ToProto(), Consumed = consumed } });
        return true;
    }

    /// <summary>The live actor of that name anywhere in the cluster, from the directory.</summary>
    public async Task<(ActorId Id, string ClassName)?> LookupAsync(string name)
    {
        var info = await _gcs.LookupActorAsync(new LookupActorRequest { Name = name }, CancellationToken.None).ConfigureAwait(false);
        return info is null ? null : (new ActorId(ObjectId.ReadFrom(info.ActorId.Span)), info.ClassName);
    }

    /// <summary>Handles what other nodes send about actors; false for other messages.</summary>
    public bool Handle(Guid from, NodeMessage message)
    {
        switch (message.BodyCase)
        {
            case NodeMessage.BodyOneofCase.ForwardActor:
                lock (_lock)
                {
                    _hosting[new ActorId(message.ForwardActor.Spec.ActorId.ToObjectId())] = [];
                }

                _ = HostAsync(message.ForwardActor);
                return true;
            case NodeMessage.BodyOneofCase.ForwardActorCall:
                AcceptCall(from, message.ForwardActorCall);
                return true;
            case NodeMessage.BodyOneofCase.ActorCallDone:
                OnCallDone(from, message.ActorCallDone);
                return true;
            case NodeMessage.BodyOneofCase.GeneratorItem:
                OnItem(from, message.GeneratorItem);
                return true;
            case NodeMessage.BodyOneofCase.KillActor:
                _node.Actors.Kill(new ActorId(message.KillActor.ActorId.ToObjectId()));
                return true;
            case NodeMessage.BodyOneofCase.CancelActorCall:
                _node.Actors.Cancel(message.CancelActorCall.TaskId.ToObjectId());
                return true;
            default:
                return false;
        }
    }

    private async Task CreateAsync(CreateActor spec)
    {
        var id = new ActorId(spec.ActorId.ToObjectId());
        var resources = ActorSpecs.Resources(spec);
        var placement = ActorSpecs.Placement(spec);
        var nodes = _view.LiveNodes();
        if (PlacementPolicy.Infeasible($"Actor {spec.ClassName}", resources, placement, nodes) is { } infeasible)
        {
            _node.Actors.RecordFailedCreation(spec, infeasible);
            HandOver(id);
            return;
        }

        var host = _policy.Choose(resources, placement, nodes, null, null) ?? _node.NodeGuid;
        var info = new ActorInfo
        {
            ActorId = ToBytes(id),
            Name = spec.Name,
            ClassName = spec.ClassName,
            JobId = id.Job.Value,
            NodeId = NodeIds.ToBytes(host),
            OwnerNodeId = NodeIds.ToBytes(_node.NodeGuid),
        };
        try
        {
            if (await _gcs.RegisterActorAsync(info, CancellationToken.None).ConfigureAwait(false) is { } taken)
            {
                _node.Actors.RecordFailedCreation(spec, taken);
                HandOver(id);
                return;
            }
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or IOException)
        {
            _node.Actors.RecordFailedCreation(spec, $"the GCS could not register it: {e.Message}");
            HandOver(id);
            return;
        }

        if (host == _node.NodeGuid)
        {
            CreateHere(spec);
            HandOver(id);
            return;
        }

        RemoteActor actor;
        lock (_lock)
        {
            if (!_remote.TryGetValue(id, out actor!))
            {
                _remote[id] = actor = new RemoteActor(id);
            }

            actor.Host = host;
            actor.Spec = spec;
        }

        var forward = new ForwardActor { Spec = spec };
        foreach (var reference in ProtoArguments.Referenced(ProtoArguments.FromProto(spec.Args), spec.Contained))
        {
            forward.Contained.Add(_references.ToRemote(reference));
        }

        await HandOffAsync(forward.Contained, host).ConfigureAwait(false);
        if (!_links.Send(host, new NodeMessage { ForwardActor = forward }))
        {
            MarkDead(actor, $"its node {host:n} left the cluster before it could host it");
        }

        Pump(actor);
    }

    /// <summary>The actor is this node's (or its creation failed here): the calls that waited for it go to the local actor manager.</summary>
    private void HandOver(ActorId id)
    {
        // Under the lock, so that a call made meanwhile cannot overtake those that waited.
        lock (_lock)
        {
            if (!_remote.Remove(id, out var actor))
            {
                return;
            }

            while (actor.Outgoing.TryDequeue(out var call))
            {
                _node.Actors.Submit(call.Spec, call.Result, call.Caller);
            }
        }
    }

    private void CreateHere(CreateActor spec)
    {
        try
        {
            _node.Actors.Create(spec);
        }
        catch (Exception e) when (e is ArgumentException or InfeasibleTaskException)
        {
            _node.Actors.RecordFailedCreation(spec, e.Message);
        }
    }

    /// <summary>Hosts an actor another node placed here: the job's code comes here first, then the actor is created.</summary>
    private async Task HostAsync(ForwardActor forward)
    {
        // Held here while the job starts, until the actor counts its own references to them.
        var contained = _references.Receive(forward.Contained, ReferenceKind.Task);
        try
        {
            try
            {
                await _startJob(new ActorId(forward.Spec.ActorId.ToObjectId()).Job).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RayException or Grpc.Core.RpcException or IOException or InvalidDataException)
            {
                _node.Actors.RecordFailedCreation(forward.Spec, $"its job could not start on node {_node.NodeId}: {e.Message}");
                OnActorEnded(new ActorId(forward.Spec.ActorId.ToObjectId()), e.Message);
                return;
            }

            CreateHere(forward.Spec);
        }
        finally
        {
            Hosted(forward.Spec);
            _node.Objects.ReleaseAll(contained, ReferenceKind.Task);
        }
    }

    /// <summary>The actor is created here (or failed to be): the calls that arrived while its job started go to it, in order.</summary>
    private void Hosted(CreateActor spec)
    {
        lock (_lock)
        {
            if (_hosting.Remove(new ActorId(spec.ActorId.ToObjectId()), out var waiting))
            {
                foreach (var (from, call) in waiting)
                {
                    AcceptCall(from, call);
                }
            }
        }
    }

    private async Task LocateAsync(RemoteActor actor)
    {
        ActorInfo? info = null;
        try
        {
            info = await _gcs.LookupActorAsync(new LookupActorRequest { ActorId = ToBytes(actor.Id) }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or IOException)
        {
            _logger.LogWarning("Could not look actor {Actor} up in the GCS: {Reason}", actor.Id, e.Message);
        }

        if (info is null || info.IsDead)
        {
            MarkDead(actor, info is null ? "it does not exist in this cluster" : info.DeathReason);
            return;
        }

        var host = NodeIds.ToGuid(info.NodeId);
        if (host == _node.NodeGuid)
        {
            HandOver(actor.Id);
            return;
        }

        lock (_lock)
        {
            actor.Host = host;
        }

        Pump(actor);
    }

    /// <summary>Sends an actor's waiting calls to its node in order, one send at a time (a hand-off may have to wait).</summary>
    private void Pump(RemoteActor actor)
    {
        lock (_lock)
        {
            if (actor.Sending || actor.Host == Guid.Empty && actor.DeathCause is null)
            {
                return;
            }

            actor.Sending = true;
        }

        _ = SendAsync(actor);
    }

    private async Task SendAsync(RemoteActor actor)
    {
        while (true)
        {
            OutgoingCall call;
            ErrorInfo? dead;
            Guid host;
            lock (_lock)
            {
                if (!actor.Outgoing.TryDequeue(out call!))
                {
                    actor.Sending = false;
                    return;
                }

                dead = actor.DeathCause;
                host = actor.Host;
                if (dead is null)
                {
                    call.Host = host;
                    _inFlight[call.Spec.ReturnId.ToObjectId()] = call;
                }
            }

            if (dead is not null)
            {
                _node.Objects.Fail(call.Result, dead);
                continue;
            }

            var forward = new ForwardActorCall { Spec = call.Spec, CallerPid = call.Caller.ProcessId };
            foreach (var reference in ProtoArguments.Referenced(ProtoArguments.FromProto(call.Spec.Args), call.Spec.Contained))
            {
                forward.Contained.Add(_references.ToRemote(reference));
            }

            await HandOffAsync(forward.Contained, host).ConfigureAwait(false);
            if (!_links.Send(host, new NodeMessage { ForwardActorCall = forward }))
            {
                MarkDead(actor, $"its node {host:n} is not in the cluster any more");
            }
        }
    }

    private void AcceptCall(Guid from, ForwardActorCall forward)
    {
        lock (_lock)
        {
            if (_hosting.TryGetValue(new ActorId(forward.Spec.ActorId.ToObjectId()), out var waiting))
            {
                waiting.Add((from, forward));
                return;
            }
        }

        // Held here until the call counts its own references to them.
        var references = _references.Receive(forward.Contained, ReferenceKind.Task);
        Action<ActorCall, int, TaskResult>? itemDone = null;
        if (forward.Spec.Generator is not null)
        {
            _sequences[forward.Spec.ReturnId.ToObjectId()] = new Raylet.ItemSequence(0);
            itemDone = (call, index, item) => SendItem(from, call, index, item);
        }

        try
        {
            _node.Actors.Submit(forward.Spec, result: null, new CallerKey(from, forward.CallerPid), (call, result) => ReplyCall(from, call, result), references, itemDone);
        }
        finally
        {
            _node.Objects.ReleaseAll(references, ReferenceKind.Task);
        }
    }

    /// <summary>Sends an item of a streaming call this node's actor runs to the caller's node, in order.</summary>
    private void SendItem(Guid caller, ActorCall call, int index, TaskResult item)
    {
        var message = Raylet.GeneratorItems.Outgoing(_node.Objects, _references, caller, call.Id, index, item);
        _ = SendItemAsync(caller, call.Id, index, message, item.Stored is null ? item.Contained : null);
    }

    private async Task SendItemAsync(Guid caller, ObjectId callId, int index, GeneratorItemDone item, ObjectId[]? contained)
    {
        await HandOffAsync(item.Contained, caller).ConfigureAwait(false);
        var message = new NodeMessage { GeneratorItem = item };
        if (_sequences.TryGetValue(callId, out var sequence))
        {
            sequence.Add(index, message, m => _links.Send(caller, m));
        }
        else
        {
            _links.Send(caller, message);
        }

        _node.Objects.ReleaseAll(contained, ReferenceKind.Contained);
    }

    /// <summary>An item of a streaming call this node sent to an actor on another node: it goes to the call's stream here.</summary>
    private void OnItem(Guid from, GeneratorItemDone item)
    {
        var result = Raylet.GeneratorItems.Incoming(_node.Objects, _references, from, item);
        OwnedStream? stream = null;
        lock (_lock)
        {
            if (_inFlight.TryGetValue(item.TaskId.ToObjectId(), out var call) && call.Host == from)
            {
                stream = call.Result.Stream;
            }
        }

        if (stream is null)
        {
            result.Discard(_node.Objects);
            return;
        }

        stream.Write((int)item.Index, result);
    }

    private void ReplyCall(Guid caller, ActorCall call, TaskResult result)
    {
        var done = _references.Done(call.Id, caller, call.Attempts, result);
        _ = ReplyAsync(caller, done, result.Stored is null ? result.Contained : null, call.Spec.Generator is null ? null : call.StreamItems);
    }

    private async Task ReplyAsync(Guid caller, TaskDone done, ObjectId[]? contained, int? streamItems)
    {
        await HandOffAsync(done.Contained, caller).ConfigureAwait(false);
        var message = new NodeMessage { ActorCallDone = done };
        var callId = done.TaskId.ToObjectId();
        if (streamItems is { } count && _sequences.TryGetValue(callId, out var sequence))
        {
            // After the call's last item.
            sequence.Finish(message, count, m => _links.Send(caller, m), () => _sequences.TryRemove(new KeyValuePair<ObjectId, Raylet.ItemSequence>(callId, sequence)));
        }
        else
        {
            _links.Send(caller, message);
        }

        _node.Objects.ReleaseAll(contained, ReferenceKind.Contained);
    }

    private void OnCallDone(Guid from, TaskDone done)
    {
        OutgoingCall? call;
        CreateActor? creation = null;
        lock (_lock)
        {
            if (!_inFlight.Remove(done.TaskId.ToObjectId(), out call) || call.Host != from)
            {
                call = null;
            }
            else if (_remote.TryGetValue(new ActorId(call.Spec.ActorId.ToObjectId()), out var actor))
            {
                creation = actor.Spec;
            }
        }

        var contained = _references.Receive(done.Contained, ReferenceKind.Contained);
        if (call is null)
        {
            _node.Objects.ReleaseAll(contained, ReferenceKind.Contained);
            return;
        }

        var result = _references.Result(from, done, contained);
        if (done.Error is { Kind: ErrorKind.TaskFailed, FailedTask: null } error)
        {
            Capture(call, creation, error);
        }

        result.CompleteIn(_node.Objects, call.Result);
    }

    /// <summary>
    /// A method of an actor on another node threw, called by a process of this node (which owns the call): the exception
    /// names the call and the actor, and the call is kept for replay, with the actor's constructor when it was created here.
    /// </summary>
    private void Capture(OutgoingCall call, CreateActor? creation, ErrorInfo error)
    {
        var id = call.Spec.ReturnId.ToObjectId();
        error.FailedTask = id.ToProto();
        error.ActorId = call.Spec.ActorId;
        error.ActorClass = call.Spec.ClassName;
        if (_node.FailedCalls is not { } failures)
        {
            return;
        }

        var arguments = ProtoArguments.FromProto(call.Spec.Args);
        var constructorArguments = creation is null ? null : ProtoArguments.FromProto(creation.Args);
        var references = ProtoArguments.Referenced(arguments, call.Spec.Contained);
        if (constructorArguments is not null)
        {
            references = [.. references, .. ProtoArguments.Referenced(constructorArguments, creation!.Contained)];
        }

        failures.Capture(new Replay.CapturedCall
        {
            TaskId = id,
            FunctionId = call.Spec.MethodId,
            FunctionName = call.Spec.MethodName,
            AssemblyName = call.Spec.AssemblyName,
            Arguments = arguments,
            Actor = creation,
            ConstructorArguments = constructorArguments,
            References = references,
            Error = error,
            SubmitterPid = call.Result.OwnerProcessId,
        });
    }

    private async Task KillRemoteAsync(ActorId id)
    {
        Guid host;
        lock (_lock)
        {
            host = _remote.TryGetValue(id, out var known) ? known.Host : Guid.Empty;
        }

        if (host == Guid.Empty)
        {
            try
            {
                var info = await _gcs.LookupActorAsync(new LookupActorRequest { ActorId = ToBytes(id) }, CancellationToken.None).ConfigureAwait(false);
                host = info is { IsDead: false } ? NodeIds.ToGuid(info.NodeId) : Guid.Empty;
            }
            catch (Exception e) when (e is Grpc.Core.RpcException or IOException)
            {
                _logger.LogWarning("Could not look actor {Actor} up to kill it: {Reason}", id, e.Message);
            }
        }

        if (host != Guid.Empty)
        {
            _links.Send(host, new NodeMessage { KillActor = new KillRemoteActor { ActorId = id.Value.ToProto() } });
        }
    }

    /// <summary>An actor this node hosted died for good: the directory learns it (its name is free again).</summary>
    private void OnActorEnded(ActorId id, string reason) =>
        _ = UpdateDirectoryAsync(new ActorInfo { ActorId = ToBytes(id), IsDead = true, DeathReason = reason });

    private async Task UpdateDirectoryAsync(ActorInfo info)
    {
        try
        {
            await _gcs.UpdateActorAsync(info, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or IOException)
        {
            _logger.LogWarning("Could not tell the GCS that actor {Actor} died: {Reason}", ObjectId.ReadFrom(info.ActorId.Span), e.Message);
        }
    }

    /// <summary>A node died: the actors it hosted are dead (a restart on another node is not done yet), and so are the calls sent there.</summary>
    private void OnNodeDied(Guid node, string reason)
    {
        List<OutgoingCall> failed;
        List<RemoteActor> actors;
        lock (_lock)
        {
            actors = _remote.Values.Where(a => a.Host == node).ToList();
            failed = _inFlight.Values.Where(c => c.Host == node).ToList();
            foreach (var call in failed)
            {
                _inFlight.Remove(call.Spec.ReturnId.ToObjectId());
            }
        }

        foreach (var actor in actors)
        {
            MarkDead(actor, $"its node {node:n} died ({reason})");
        }

        foreach (var call in failed)
        {
            _node.Objects.Fail(call.Result, Died(new ActorId(call.Spec.ActorId.ToObjectId()), call.Spec.ClassName, $"its node {node:n} died ({reason}) while the call ran"));
        }
    }

    private void MarkDead(RemoteActor actor, string reason)
    {
        lock (_lock)
        {
            actor.DeathCause ??= Died(actor.Id, string.Empty, reason);
        }

        Pump(actor);
    }

    private async Task HandOffAsync(Google.Protobuf.Collections.RepeatedField<RemoteRef> references, Guid to)
    {
        try
        {
            await _references.HandOffAsync(references, to).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RayException or ObjectNotFoundException)
        {
            _logger.LogWarning("Could not hand references to node {Node}: {Reason}", to.ToString("n"), e.Message);
        }
    }

    private static ErrorInfo Died(ActorId id, string className, string reason) => new()
    {
        Kind = ErrorKind.ActorDied,
        ActorId = id.Value.ToProto(),
        ActorClass = className,
        Reason = reason,
    };

    private static ByteString ToBytes(ActorId id)
    {
        var bytes = new byte[ObjectId.Size];
        id.Value.WriteTo(bytes);
        return ByteString.CopyFrom(bytes);
    }

    /// <summary>An actor another node hosts, as this node routes calls to it.</summary>
    private sealed class RemoteActor(ActorId id)
    {
        public ActorId Id { get; } = id;

        /// <summary>The node that hosts it; empty until the directory answered.</summary>
        public Guid Host { get; set; }

        /// <summary>How it was made, when this node made it (a replayed call makes a new instance with it).</summary>
        public CreateActor? Spec { get; set; }

        public ErrorInfo? DeathCause { get; set; }

        /// <summary>Calls not sent yet, in the order they were made.</summary>
        public Queue<OutgoingCall> Outgoing { get; } = new();

        public bool Sending { get; set; }
    }

    /// <summary>A call of a process of this node to an actor elsewhere; its result is owned here.</summary>
    private sealed class OutgoingCall(SubmitActorTask spec, ObjectEntry result, CallerKey caller)
    {
        public SubmitActorTask Spec { get; } = spec;

        public ObjectEntry Result { get; } = result;

        public CallerKey Caller { get; } = caller;

        public Guid Host { get; set; }
    }
}
