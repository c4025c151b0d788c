using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.Gcs;
using Ray.Infrastructure;
using Ray.Logging;
using Ray.ObjectStore;
using Ray.Ownership;
using Ray.Runtime.Protocol;
using Ray.Scheduling;

namespace Ray.Raylet;

/// <summary>
/// Tasks that cross nodes. As the owner: a task the scheduler placed on another node is sent there with its arguments
/// (values inline; large objects by their size and locations) and the references inside them handed over first; its
/// outcome comes back as <see cref="TaskDone"/>, or it is sent back (<see cref="Spillback"/>) and placed again. As the
/// node that runs it: the task is queued for a worker of its job (the job's code is brought here first), retried here
/// if the worker dies, and its outcome goes back to the owner; a large result stays here for the owner.
/// </summary>
internal sealed class ForwardedTasks : ITaskForwarder
{
    private readonly RayletNode _node;
    private readonly NodeLinks _links;
    private readonly ClusterReferences _references;
    private readonly Func<JobId, Task> _startJob;
    private readonly ILogger _logger;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ObjectId, ItemSequence> _sequences = new();

    public ForwardedTasks(RayletNode node, NodeLinks links, ClusterReferences references, Func<JobId, Task> startJob, ILogger logger)
    {
        _node = node;
        _links = links;
        _references = references;
        _startJob = startJob;
        _logger = logger;
    }

    public void Forward(TaskRecord task, Guid node)
    {
        var forward = new ForwardTask
        {
            TaskId = task.Id.ToProto(),
            FunctionId = task.FunctionId,
            FunctionName = task.FunctionName,
            AssemblyName = task.AssemblyName,
            MaxRetries = task.MaxRetries,
            RetryExceptions = task.RetryExceptions,
            Name = task.Name ?? string.Empty,
            Attempt = task.Attempts,
        };
        if (task.GeneratorBackpressure is { } backpressure)
        {
            // The node goes on after the items this node already has.
            forward.Generator = new StreamingGenerator { BackpressureNumObjects = backpressure };
            forward.SkipItems = task.StreamItems;
            forward.Consumed = task.StreamConsumed;
        }

        task.Resources.CopyTo(forward.Resources);
        var objects = _node.Objects;
        foreach (var argument in task.Arguments)
        {
            if (!argument.IsReference)
            {
                forward.Args.Add(new ForwardedArg { Value = ProtoConversions.Wrap(argument.Value) });
            }
            else if (objects.TryGet(argument.Reference, out var entry) && entry.Stored is null && entry.Remote is null && entry.Error is null)
            {
                // A small object travels as its value: the node that runs the task need not ask anyone for it.
                forward.Args.Add(new ForwardedArg { Value = ProtoConversions.Wrap(entry.Value) });
            }
            else
            {
                // A stored object that holds no references is ready to pull as it is: where it is goes along. One that
                // holds some comes with the owner's status, which hands those over first.
                var stored = entry is { Stored: not null } or { Remote: not null } && entry.Contained is not { Length: > 0 } ? _references.StoredInfo(entry) : null;
                forward.Args.Add(new ForwardedArg { Object = new ForwardedObject { Ref = _references.ToRemote(argument.Reference), Stored = stored } });
                forward.Contained.Add(_references.ToRemote(argument.Reference));
            }
        }

        foreach (var id in task.References)
        {
            if (!task.Arguments.Any(a => a.IsReference && a.Reference == id))
            {
                forward.Contained.Add(_references.ToRemote(id));
            }
        }

        _ = SendAsync(task, node, forward);
    }

    public void Cancel(TaskRecord task, Guid node, bool force) =>
        _links.Send(node, new NodeMessage { Cancel = new CancelForwarded { TaskId = task.Id.ToProto(), Force = force } });

    public void StreamConsumed(TaskRecord task, Guid node, long consumed) =>
        _links.Send(node, new NodeMessage { GeneratorConsumed = new ForwardedGeneratorConsumed { TaskId = task.Id.ToProto(), Consumed = consumed } });

    /// <summary>Handles what other nodes send about tasks; false for other messages.</summary>
    public bool Handle(Guid from, NodeMessage message)
    {
        switch (message.BodyCase)
        {
            case NodeMessage.BodyOneofCase.ForwardTask:
                Accept(from, message.ForwardTask);
                return true;
            case NodeMessage.BodyOneofCase.TaskDone:
                OnDone(from, message.TaskDone);
                return true;
            case NodeMessage.BodyOneofCase.Spillback:
                _node.Scheduler.OnSpillback(from, message.Spillback.TaskId.ToObjectId());
                return true;
            case NodeMessage.BodyOneofCase.Cancel:
                _node.Scheduler.Cancel(message.Cancel.TaskId.ToObjectId(), message.Cancel.Force);
                return true;
            case NodeMessage.BodyOneofCase.GeneratorItem when _node.ClusterActors?.IsOutgoingCall(message.GeneratorItem.TaskId.ToObjectId()) != true:
                OnItem(from, message.GeneratorItem);
                return true;
            case NodeMessage.BodyOneofCase.GeneratorConsumed:
                var consumed = message.GeneratorConsumed;
                if (!_node.Scheduler.OnStreamConsumed(consumed.TaskId.ToObjectId(), consumed.Consumed))
                {
                    _node.Actors.OnStreamConsumed(consumed.TaskId.ToObjectId(), consumed.Consumed);
                }

                return true;
            default:
                return false;
        }
    }

    private async Task SendAsync(TaskRecord task, Guid node, ForwardTask forward)
    {
        try
        {
            await _references.HandOffAsync(forward.Contained, node).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RayException or ObjectNotFoundException)
        {
            _node.Scheduler.OnForwardedDone(node, task.Id, TaskResult.Failure(RayErrors.System(task.DisplayName, $"its arguments could not be handed to node {node:n}: {e.Message}")), task.Attempts);
            return;
        }

        if (!_links.Send(node, new NodeMessage { ForwardTask = forward }))
        {
            // The node left the cluster between placement and sending: place the task again.
            _node.Scheduler.OnSpillback(node, task.Id);
        }
    }

    private void Accept(Guid owner, ForwardTask forward)
    {
        var id = forward.TaskId.ToObjectId();
        var resources = ResourceSet.FromMap(forward.Resources);
        if (!_node.Scheduler.Total.Contains(resources))
        {
            _links.Send(owner, new NodeMessage { Spillback = new Spillback { TaskId = forward.TaskId, Reason = $"node {_node.NodeId} has only {_node.Scheduler.Total}" } });
            return;
        }

        // Held here until the scheduler counts the task's own references to them.
        var contained = _references.Receive(forward.Contained, ReferenceKind.Task);
        var arguments = new TaskArgument[forward.Args.Count];
        for (var i = 0; i < arguments.Length; i++)
        {
            var argument = forward.Args[i];
            if (argument.KindCase == ForwardedArg.KindOneofCase.Value)
            {
                arguments[i] = TaskArgument.FromBytes(argument.Value.Memory);
                continue;
            }

            var reference = argument.Object.Ref.Id.ToObjectId();
            arguments[i] = TaskArgument.FromReference(reference);
            if (argument.Object.Stored is { } stored && _node.Objects.TryGet(reference, out var entry) && entry.IsBorrowed && !entry.IsReady)
            {
                // Where the object is came with the task: the pull need not wait for the owner's answer.
                _node.Objects.CompleteRemote(entry, (long)stored.Size, stored.Locations.Select(NodeIds.ToGuid).ToArray(), contained: null);
            }
        }

        var task = new TaskRecord
        {
            Id = id,
            FunctionId = forward.FunctionId,
            FunctionName = forward.FunctionName,
            AssemblyName = forward.AssemblyName,
            Arguments = arguments,
            References = contained,
            Resources = resources,
            MaxRetries = forward.MaxRetries,
            RetryExceptions = forward.RetryExceptions,
            Name = forward.Name.Length > 0 ? forward.Name : null,
            Result = null,
            Done = (done, result) => Reply(owner, done, result),
            Attempts = Math.Max(0, forward.Attempt - 1),
            GeneratorBackpressure = forward.Generator?.BackpressureNumObjects,
            ItemDone = forward.Generator is null ? null : (streaming, index, item) => SendItem(owner, streaming, index, item),
            StreamItems = forward.SkipItems,
            StreamConsumed = forward.Consumed,
        };
        if (forward.Generator is not null)
        {
            _sequences[id] = new ItemSequence(forward.SkipItems);
        }

        if (!_node.Pool.HasJob(id.Job))
        {
            _ = StartJobAsync(owner, id.Job, forward.FunctionName, forward.TaskId);
        }

        // The task holds its arguments' entries here (borrowed from their owners) until it ends.
        try
        {
            _node.Scheduler.Submit(task);
        }
        finally
        {
            _node.Objects.ReleaseAll(contained, ReferenceKind.Task);
        }
    }

    private async Task StartJobAsync(Guid owner, JobId job, string functionName, ObjectIdProto taskId)
    {
        try
        {
            await _startJob(job).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RayException or Grpc.Core.RpcException or IOException or InvalidDataException)
        {
            _logger.LogError("Job {Job} could not start on this node: {Reason}", job, e.Message);
            _node.Scheduler.Cancel(taskId.ToObjectId(), force: false);
        }
    }

    private void Reply(Guid owner, TaskRecord task, TaskResult result)
    {
        // A stored result stays in this node's store; its owner learns the size and that it is here.
        var done = _references.Done(task.Id, owner, task.Attempts, result);
        _ = ReplyAsync(owner, done, result.Stored is null ? result.Contained : null, task.GeneratorBackpressure is null ? null : task.StreamItems);
    }

    private async Task ReplyAsync(Guid owner, TaskDone done, ObjectId[]? contained, int? streamItems)
    {
        try
        {
            await _references.HandOffAsync(done.Contained, owner).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RayException or ObjectNotFoundException)
        {
            _logger.LogWarning("Could not hand the references in the result of task {Task} to its owner: {Reason}", done.TaskId.ToObjectId(), e.Message);
        }

        var message = new NodeMessage { TaskDone = done };
        var taskId = done.TaskId.ToObjectId();
        if (streamItems is { } count && _sequences.TryGetValue(taskId, out var sequence))
        {
            // After the last of its items, whatever order they were completed in here.
            sequence.Finish(message, count, m => _links.Send(owner, m), () => _sequences.TryRemove(new KeyValuePair<ObjectId, ItemSequence>(taskId, sequence)));
        }
        else
        {
            _links.Send(owner, message);
        }

        // The references of an inline result were counted here while it travelled; the owner has them now.
        _node.Objects.ReleaseAll(contained, ReferenceKind.Contained);
    }

    /// <summary>Sends an item of a streaming task this node runs to its owner; a large one stays here for the owner, as a large result does.</summary>
    private void SendItem(Guid owner, TaskRecord task, int index, TaskResult item) =>
        _ = SendItemAsync(owner, task.Id, index, GeneratorItems.Outgoing(_node.Objects, _references, owner, task.Id, index, item), item.Stored is null ? item.Contained : null);

    private async Task SendItemAsync(Guid owner, ObjectId taskId, int index, GeneratorItemDone item, ObjectId[]? contained)
    {
        try
        {
            await _references.HandOffAsync(item.Contained, owner).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RayException or ObjectNotFoundException)
        {
            _logger.StreamItemHandOffFailed(index, taskId, e.Message);
        }

        var message = new NodeMessage { GeneratorItem = item };
        if (_sequences.TryGetValue(taskId, out var sequence))
        {
            sequence.Add(index, message, m => _links.Send(owner, m));
        }
        else
        {
            _links.Send(owner, message);
        }

        _node.Objects.ReleaseAll(contained, ReferenceKind.Contained);
    }

    /// <summary>An item of a streaming task this node forwarded, from the node that runs it.</summary>
    private void OnItem(Guid from, GeneratorItemDone item) =>
        _node.Scheduler.OnForwardedItem(from, item.TaskId.ToObjectId(), item.Index, GeneratorItems.Incoming(_node.Objects, _references, from, item));

    private void OnDone(Guid from, TaskDone done)
    {
        var id = done.TaskId.ToObjectId();
        var result = _references.Result(from, done, _references.Receive(done.Contained, ReferenceKind.Contained));
        _node.Scheduler.OnForwardedDone(from, id, result, done.Attempts);
    }
}
