using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.ObjectStore;
using Ray.Runtime.Protocol;
using Ray.Scheduling;

namespace Ray.ObjectManager;

/// <summary>
/// Makes objects local (Ray's pull manager): a ready object whose copies are all on other nodes is pulled from them
/// (<see cref="ObjectPuller"/>) into this node's store when a task here, a read or a view needs it, and the copy is
/// attached to its entry, where it lives as long as the entry does. The owner is told of the copy so that later pullers
/// can use it as a source. A pull that fails leaves the object as it was and fails the read with the reason.
/// </summary>
internal sealed class PullManager
{
    private readonly Guid _self;
    private readonly ObjectTable _objects;
    private readonly ObjectPuller _puller;
    private readonly ClusterView _view;
    private readonly Action<ObjectEntry> _copied;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();

    /// <param name="self">This node.</param>
    /// <param name="objects">This node's objects.</param>
    /// <param name="puller">Copies objects into this node's store.</param>
    /// <param name="view">The cluster's nodes, for the addresses of the copies.</param>
    /// <param name="copied">Tells the owner of a borrowed object that this node has a copy now.</param>
    /// <param name="logger">Where failed pulls are logged.</param>
    public PullManager(Guid self, ObjectTable objects, ObjectPuller puller, ClusterView view, Action<ObjectEntry> copied, ILogger logger)
    {
        _self = self;
        _objects = objects;
        _puller = puller;
        _view = view;
        _copied = copied;
        _logger = logger;
    }

    /// <summary>Whether a ready entry's value is on another node only, so that reading it here needs a pull.</summary>
    public static bool NeedsPull(ObjectEntry entry) => entry is { IsReady: true, Stored: null, Error: null, Remote: not null };

    /// <summary>
    /// Makes the ready object <paramref name="entry"/> local: completes with null at once when it already is (or
    /// travels inline, or failed), else when the pulled copy is attached; with the error a reader should get when no
    /// node could deliver it.
    /// </summary>
    public Task<ErrorInfo?> MakeLocalAsync(ObjectEntry entry)
    {
        if (!NeedsPull(entry))
        {
            return Task.FromResult<ErrorInfo?>(null);
        }

        return PullAsync(entry);
    }

    /// <summary>Starts making <paramref name="entry"/> local without waiting: a task queued here will read it soon.</summary>
    public void Prefetch(ObjectEntry entry)
    {
        if (NeedsPull(entry))
        {
            _ = PullAsync(entry);
        }
    }

    /// <summary>Stops the pulls in flight; their readers get an error.</summary>
    public void Stop() => _stopping.Cancel();

    private async Task<ErrorInfo?> PullAsync(ObjectEntry entry)
    {
        // Where its task left it, and (for an object this node owns) the nodes that pulled a copy since.
        var remote = entry.Remote!;
        var locations = entry.Locations(_self);
        var addresses = new List<string>(locations.Length);
        foreach (var node in locations)
        {
            if (node != _self && _view.IsAlive(node) && _view.AddressOf(node) is { Length: > 0 } address)
            {
                addresses.Add(address);
            }
        }

        if (addresses.Count == 0)
        {
            return RayErrors.Lost(entry.Id, locations.Length == 0
                ? "no node holds a copy of it"
                : $"every node that held a copy of it has left the cluster ({string.Join(", ", locations.Select(n => n.ToString("n")))})");
        }

        StoredObject copy;
        try
        {
            copy = await _puller.PullAsync(entry.Id, remote.Size, addresses, _stopping.Token).ConfigureAwait(false);
        }
        catch (ObjectPullException e)
        {
            _logger.PullFailed(e.Message);
            if (e.ObjectLost)
            {
                return RayErrors.Lost(entry.Id, "no node that was said to hold a copy has one any more");
            }

            // Unreachable rather than without a copy: lost when the cluster has learnt meanwhile that those nodes died.
            return locations.All(node => !_view.IsAlive(node))
                ? RayErrors.Lost(entry.Id, $"every node that held a copy of it has left the cluster ({string.Join(", ", locations.Select(n => n.ToString("n")))})")
                : RayErrors.System(string.Empty, e.Message);
        }
        catch (ObjectStoreFullException e)
        {
            return RayErrors.FromStore(e);
        }
        catch (OperationCanceledException)
        {
            return RayErrors.System(string.Empty, $"the node stopped while it pulled object {entry.Id}");
        }

        if (_objects.AttachCopy(entry, copy))
        {
            if (entry.IsBorrowed)
            {
                _copied(entry);
            }

            return null;
        }

        // Freed meanwhile (nothing reads it any more), or a twin pull attached first: either way no one waits for this copy.
        return entry.Stored is null && !entry.IsFreed ? RayErrors.System(string.Empty, $"object {entry.Id} could not be kept after it was pulled") : null;
    }
}
