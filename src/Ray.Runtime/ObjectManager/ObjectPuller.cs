using System.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Ray.Core;
using Ray.ObjectStore;

namespace Ray.ObjectManager;

/// <summary>How the puller splits a transfer: into ranges pulled side by side, or (the default) not at all.</summary>
internal sealed record ObjectPullOptions
{
    /// <summary>How many ranges of a large object are pulled side by side, each over a connection of its own.</summary>
    public int Streams { get; init; } = 1;

    /// <summary>Objects smaller than this are pulled over one connection: more would only add per-connection work.</summary>
    public long MinSplitSize { get; init; } = 64L << 20;
}

/// <summary>
/// Copies objects from other nodes into this node's store (Ray's object manager pull). The region for the copy is
/// taken first and the object stream reads the bytes straight into it (<see cref="ObjectStreamClient"/>), so a copy
/// costs no buffer of its size; the object is sealed only once every byte arrived, so a reader never sees part of one.
/// A location that fails midway (the connection drops, the node has no copy, it sends something wrong) is replaced by
/// the next, which resumes where the failed one stopped; when every location failed the region is given back and the
/// pull fails with <see cref="ObjectPullException"/>. Concurrent pulls of one object share one transfer.
/// </summary>
/// <param name="store">This node's store, which receives the copies.</param>
/// <param name="client">The object stream's client, which keeps the connections to the nodes; the puller does not dispose it.</param>
/// <param name="logger">Where retries and failures are logged.</param>
/// <param name="options">How transfers are split; null for the defaults.</param>
internal sealed class ObjectPuller(NodeObjectStore store, ObjectStreamClient client, ILogger logger, ObjectPullOptions? options = null)
{
    private readonly ObjectPullOptions _options = options ?? new ObjectPullOptions();
    private readonly Dictionary<ObjectId, Transfer> _inFlight = [];

    /// <summary>
    /// Pulls object <paramref name="id"/> of <paramref name="size"/> payload bytes from the first of
    /// <paramref name="locations"/> that can deliver it, into this node's store, and returns the sealed copy (unpinned).
    /// A pull of an object already being pulled joins that transfer: every caller gets the same copy, and the caller
    /// registers it with the object's owner once. The transfer stops only when every caller has cancelled.
    /// </summary>
    /// <param name="id">The object.</param>
    /// <param name="size">Its payload size, as its owner recorded it; a copy of another size is refused.</param>
    /// <param name="locations">The addresses (<c>host:port</c>) of the nodes that hold a copy, best first.</param>
    /// <param name="cancellationToken">Ends this caller's wait.</param>
    /// <exception cref="ObjectPullException">No location could deliver the object; the message says why, location by location.</exception>
    /// <exception cref="ObjectStoreFullException">This node's store has no room for the object.</exception>
    public async Task<StoredObject> PullAsync(ObjectId id, long size, IReadOnlyList<string> locations, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, NodeObjectStore.MaxPayloadSize);
        ArgumentNullException.ThrowIfNull(locations);
        cancellationToken.ThrowIfCancellationRequested();
        Transfer transfer;
        lock (_inFlight)
        {
            if (!_inFlight.TryGetValue(id, out transfer!))
            {
                transfer = new Transfer(id);
                _inFlight.Add(id, transfer);
                string[] sources = [.. locations];
                transfer.Task = Task.Run(() => RunAsync(transfer, size, sources), CancellationToken.None);
            }

            transfer.Waiters++;
        }

        try
        {
            return await transfer.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (_inFlight)
            {
                transfer.Waiters--;
                if (!transfer.Delivered && transfer.Waiters == 0)
                {
                    // Nobody wants the object any more: stop the transfer (which gives its region back).
                    transfer.Abandoned = true;
                    _inFlight.Remove(id);
                    transfer.Cancellation.Cancel();
                }

                if (!transfer.Delivered || transfer.Waiters > 0)
                {
                    throw;
                }
            }

            // The copy was sealed just as the last caller gave up: it takes the copy, or nobody would free it.
            return await transfer.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Runs one transfer for all its callers, and hands its copy over unless they all left meanwhile.</summary>
    private async Task<StoredObject> RunAsync(Transfer transfer, long size, string[] locations)
    {
        try
        {
            var stored = await CopyAsync(transfer.Id, size, locations, transfer.Cancellation.Token).ConfigureAwait(false);
            lock (_inFlight)
            {
                if (!transfer.Abandoned)
                {
                    transfer.Delivered = true;
                    return stored;
                }
            }

            store.Free(stored);
            throw new OperationCanceledException(transfer.Cancellation.Token);
        }
        finally
        {
            lock (_inFlight)
            {
                if (_inFlight.TryGetValue(transfer.Id, out var current) && current == transfer)
                {
                    _inFlight.Remove(transfer.Id);
                }
            }
        }
    }

    /// <summary>Allocates the region, fills it from the locations (in ranges side by side when large), and seals it.</summary>
    private async Task<StoredObject> CopyAsync(ObjectId id, long size, string[] locations, CancellationToken cancellationToken)
    {
        if (locations.Length == 0)
        {
            throw new ObjectPullException(id, size, []);
        }

        var stopwatch = Stopwatch.StartNew();

        // May block while the store spills or waits for memory to be freed: this runs on the thread pool.
        var region = store.Allocate(size);
        try
        {
            var payload = store.Arena.Region(region.Offset + StoredObjectLayout.HeaderSize, checked((int)size));
            var sources = new Sources(locations);
            var ranges = Split(size);
            if (ranges.Length == 1)
            {
                await PullRangeAsync(id, size, ranges[0], 0, sources, payload, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await PullRangesAsync(id, size, ranges, sources, payload, cancellationToken).ConfigureAwait(false);
            }

            store.Arena.Seal(region.Offset, id, size);
            var stored = store.Seal(id, region);
            logger.ObjectPulled(id, size, stopwatch.Elapsed.TotalMilliseconds, ranges.Length);
            return stored;
        }
        catch (Exception e)
        {
            // Nothing partial stays: the region goes back unsealed (a region Seal refused is already back).
            store.Abort(region);
            if (e is ObjectPullException)
            {
                logger.PullFailed(e.Message);
            }

            throw;
        }
    }

    /// <summary>Pulls the ranges side by side; the first that fails everywhere stops the others, and its error is the pull's.</summary>
    private async Task PullRangesAsync(ObjectId id, long size, Range[] ranges, Sources sources, Memory<byte> payload, CancellationToken cancellationToken)
    {
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pulls = new Task[ranges.Length];
        for (var i = 0; i < ranges.Length; i++)
        {
            var (range, index) = (ranges[i], i);
            pulls[i] = Task.Run(
                async () =>
                {
                    try
                    {
                        await PullRangeAsync(id, size, range, index, sources, payload, failed.Token).ConfigureAwait(false);
                    }
                    catch
                    {
                        await failed.CancelAsync().ConfigureAwait(false);
                        throw;
                    }
                },
                CancellationToken.None);
        }

        try
        {
            // Every range must have stopped before the region can be given back.
            await Task.WhenAll(pulls).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A sibling's cancellation surfaced first; the range that failed says why.
            foreach (var pull in pulls)
            {
                if (pull.Exception?.InnerException is { } cause and not OperationCanceledException)
                {
                    throw cause;
                }
            }

            throw;
        }
    }

    /// <summary>
    /// Fills one range from the locations in turn, starting at a location of its own (so that ranges spread over the
    /// nodes that hold copies), each resuming where the previous one stopped.
    /// </summary>
    private async Task PullRangeAsync(ObjectId id, long size, Range range, int index, Sources sources, Memory<byte> payload, CancellationToken cancellationToken)
    {
        var target = new PullTarget(payload, size, range.Start, range.End);
        for (var attempt = 0; attempt < sources.Count; attempt++)
        {
            var location = (index + attempt) % sources.Count;
            if (sources.HasFailed(location))
            {
                continue;
            }

            var startedAt = target.Position;
            try
            {
                await client.PullAsync(sources[location], id, target, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && IsLocationFailure(e))
            {
                var failure = Describe(sources[location], e, target.Position - startedAt, range.End - startedAt);
                sources.Fail(location, failure);
                logger.PullRetrying(id, sources[location], target.Position, failure.Reason);
            }
        }

        throw new ObjectPullException(id, size, sources.Failures());
    }

    /// <summary>What a location did wrong, as opposed to this pull being cancelled or this node failing.</summary>
    private static bool IsLocationFailure(Exception e) =>
        e is RpcException or IOException or InvalidDataException or OperationCanceledException or RayException;

    private static PullFailure Describe(string location, Exception e, long received, long wanted)
    {
        var reason = e switch
        {
            RpcException { StatusCode: StatusCode.NotFound } rpc => rpc.Status.Detail,
            RpcException rpc => $"{rpc.StatusCode}: {rpc.Status.Detail}",
            _ => e.Message,
        };

        // Reasons are joined into one sentence.
        reason = reason.TrimEnd('.');
        if (received > 0)
        {
            reason += $" (after {ByteSize.Format(received)} of {ByteSize.Format(wanted)})";
        }

        return new PullFailure(location, reason, e is RpcException { StatusCode: StatusCode.NotFound });
    }

    /// <summary>The object's ranges: one, or <see cref="ObjectPullOptions.Streams"/> of equal size for a large object.</summary>
    private Range[] Split(long size)
    {
        var streams = size >= _options.MinSplitSize ? Math.Max(1, _options.Streams) : 1;
        if (streams == 1)
        {
            return [new Range(0, size)];
        }

        var length = (size + streams - 1) / streams;
        var ranges = new List<Range>(streams);
        for (long start = 0; start < size; start += length)
        {
            ranges.Add(new Range(start, Math.Min(size, start + length)));
        }

        return [.. ranges];
    }

    /// <summary>One transfer and the callers waiting for it; guarded by the puller's lock.</summary>
    private sealed class Transfer(ObjectId id)
    {
        public ObjectId Id { get; } = id;

        public Task<StoredObject> Task { get; set; } = null!;

        /// <summary>Cancelled when every caller has left; never disposed, as a late leaver may still cancel it.</summary>
        public CancellationTokenSource Cancellation { get; } = new();

        public int Waiters { get; set; }

        /// <summary>The copy is sealed and goes to the callers.</summary>
        public bool Delivered { get; set; }

        /// <summary>Every caller left before the copy was sealed.</summary>
        public bool Abandoned { get; set; }
    }

    /// <summary>The locations of one pull and those that failed, shared by its ranges, so that none retries a failed one.</summary>
    private sealed class Sources(string[] locations)
    {
        private readonly PullFailure?[] _failures = new PullFailure?[locations.Length];
        private readonly List<PullFailure> _order = [];

        public int Count => locations.Length;

        public string this[int index] => locations[index];

        public bool HasFailed(int index)
        {
            lock (_order)
            {
                return _failures[index] is not null;
            }
        }

        public void Fail(int index, PullFailure failure)
        {
            lock (_order)
            {
                if (_failures[index] is null)
                {
                    _failures[index] = failure;
                    _order.Add(failure);
                }
            }
        }

        public PullFailure[] Failures()
        {
            lock (_order)
            {
                return [.. _order];
            }
        }
    }

    /// <summary>Payload bytes [Start, End) of the object.</summary>
    private readonly record struct Range(long Start, long End);
}
