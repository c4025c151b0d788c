using Ray.Raylet;
using Ray.Runtime.Protocol;
using Ray.Scheduling;

namespace Ray.Ownership;

/// <summary>
/// Garbage collection across nodes. References are released when the garbage collector of the process holding them
/// runs, and a process on another node may be what keeps an object alive here (a task that took it as an argument, a
/// pulled copy's reader). So when this node's store needs room, the other nodes are asked to collect as well: each
/// collects in its own processes and answers once their releases have arrived there, which puts the releases they send
/// this node (<c>RemoveBorrower</c>) ahead of the answer on the same link. A node that dies is not waited for.
/// </summary>
internal sealed class ClusterGarbage
{
    /// <summary>A collection no node answers in this long is forgotten (the store stopped waiting long before).</summary>
    private static readonly TimeSpan Forget = TimeSpan.FromSeconds(10);

    private readonly Guid _self;
    private readonly ClusterView _view;
    private readonly NodeLinks _links;
    private readonly Func<Task> _collectHere;
    private readonly object _lock = new();
    private Collection? _running;
    private ulong _next;

    public ClusterGarbage(Guid self, ClusterView view, NodeLinks links, Func<Task> collectHere)
    {
        _self = self;
        _view = view;
        _links = links;
        _collectHere = collectHere;
        view.NodeDied += (node, _) => Answered(node, requestId: null);
    }

    /// <summary>Asks every other live node to collect; completes when all have answered (or died). Joins one in progress.</summary>
    public Task CollectElsewhere()
    {
        Collection collection;
        lock (_lock)
        {
            if (_running is { } running && !running.IsStale)
            {
                return running.Done.Task;
            }

            _running?.Done.TrySetResult();
            var others = _view.LiveNodes().Select(n => n.Id).Where(id => id != _self).ToHashSet();
            if (others.Count == 0)
            {
                _running = null;
                return Task.CompletedTask;
            }

            _running = collection = new Collection(++_next, others);
        }

        foreach (var node in collection.Waiting.ToArray())
        {
            if (!_links.Send(node, new NodeMessage { CollectGarbage = new CollectGarbage { RequestId = collection.Id } }))
            {
                Answered(node, collection.Id);
            }
        }

        return collection.Done.Task;
    }

    /// <summary>Handles the collection messages of other nodes; false for other messages.</summary>
    public bool Handle(Guid from, NodeMessage message)
    {
        switch (message.BodyCase)
        {
            case NodeMessage.BodyOneofCase.CollectGarbage:
                _ = AnswerAsync(from, message.CollectGarbage.RequestId);
                return true;
            case NodeMessage.BodyOneofCase.GarbageCollected:
                Answered(from, message.GarbageCollected.RequestId);
                return true;
            default:
                return false;
        }
    }

    private async Task AnswerAsync(Guid from, ulong requestId)
    {
        // Only this node's own processes: a request never travels on, so collections do not echo round the cluster.
        await _collectHere().WaitAsync(Forget).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _links.Send(from, new NodeMessage { GarbageCollected = new GarbageCollected { RequestId = requestId } });
    }

    private void Answered(Guid node, ulong? requestId)
    {
        lock (_lock)
        {
            if (_running is not { } running || (requestId is { } id && id != running.Id) || !running.Waiting.Remove(node) || running.Waiting.Count > 0)
            {
                return;
            }

            _running = null;
            running.Done.TrySetResult();
        }
    }

    private sealed class Collection(ulong id, HashSet<Guid> waiting)
    {
        private readonly long _started = Environment.TickCount64;

        public ulong Id { get; } = id;

        public HashSet<Guid> Waiting { get; } = waiting;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool IsStale => Environment.TickCount64 - _started > Forget.TotalMilliseconds;
    }
}
