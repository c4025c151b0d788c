using Ray.Runtime.Protocol;

namespace Ray.Raylet;

/// <summary>
/// The messages a streaming task or actor call that this node runs for another node sends to its owner: its items in
/// index order, then its outcome. Two of them may be completed here on different threads at once (or wait for different
/// hand-offs), but the owner must see them in order. Guarded by its own lock, under which they are queued on the link,
/// which keeps that order.
/// </summary>
internal sealed class ItemSequence(int first)
{
    private readonly SortedDictionary<int, NodeMessage> _waiting = [];
    private int _next = first;
    private NodeMessage? _done;
    private Action? _finished;
    private int _count = -1;

    public void Add(int index, NodeMessage item, Action<NodeMessage> send)
    {
        lock (_waiting)
        {
            _waiting[index] = item;
            SendReady(send);
        }
    }

    /// <summary>The task ended after <paramref name="count"/> items: <paramref name="done"/> goes after them, and then <paramref name="finished"/> runs.</summary>
    public void Finish(NodeMessage done, int count, Action<NodeMessage> send, Action finished)
    {
        lock (_waiting)
        {
            _done = done;
            _count = count;
            _finished = finished;
            SendReady(send);
        }
    }

    private void SendReady(Action<NodeMessage> send)
    {
        while (_waiting.Remove(_next, out var item))
        {
            send(item);
            _next++;
        }

        if (_done is { } done && _next >= _count)
        {
            _done = null;
            send(done);
            _finished!();
        }
    }
}
