using System.Collections.Concurrent;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Ray.ObjectManager;
using Ray.ObjectStore;
using Ray.Transport;
using Xunit;

namespace Ray.Runtime.Tests.ObjectManager;

/// <summary>
/// Objects pulled between two stores in this process: a Kestrel server on loopback serving one store, the puller
/// filling the other over cluster channels, behind the cluster token.
/// </summary>
public sealed class ObjectTransferTests : IAsyncLifetime
{
    /// <summary>The smallest chunk the server sends, so that small objects span several chunks.</summary>
    private const int Chunk = ObjectTransferService.MinChunkSize;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new();
    private TransferNode _source = null!;
    private TransferNode _destination = null!;

    public async Task InitializeAsync()
    {
        _source = await TransferNode.StartAsync();
        _destination = await TransferNode.StartAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }

        await _source.DisposeAsync();
        await _destination.DisposeAsync();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(Chunk)]
    [InlineData(5 * Chunk)]
    [InlineData((5 * Chunk) + (Chunk / 2) + 3)]
    public async Task An_object_arrives_whole_and_sealed_whatever_its_size(int size)
    {
        var id = ObjectId.New();
        var original = _source.Put(id, size, seed: size);

        var copy = await Puller().PullAsync(id, size, [_source.Address], CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(id, copy.Id);
        Assert.Equal(StoredState.Resident, copy.State);
        Assert.Equal(TransferNode.Bytes(size, seed: size), _destination.Read(copy));
        Assert.Equal(StoredObjectLayout.RegionSize(size), _destination.Store.Stats().UsedBytes);
        var request = Assert.Single(_source.Requests);
        Assert.Equal(0ul, request.Offset);

        // The server's pin ended with the stream.
        Assert.Equal(0, original.Pins);
    }

    [Fact]
    public async Task A_large_object_is_pulled_in_ranges_side_by_side()
    {
        const int size = (3 << 20) + 12345;
        var id = ObjectId.New();
        _source.Put(id, size, seed: 3);
        var puller = Puller(new ObjectPullOptions { ChunkSize = 64 << 10, Streams = 3, MinSplitSize = 1 << 20 });

        var copy = await puller.PullAsync(id, size, [_source.Address], CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(TransferNode.Bytes(size, seed: 3), _destination.Read(copy));
        var requests = _source.Requests.OrderBy(r => r.Offset).ToList();
        Assert.Equal(3, requests.Count);
        Assert.Equal((ulong)size, requests.Sum(r => (long)r.Length) is var total ? (ulong)total : 0);
        Assert.Equal(0ul, requests[0].Offset);
    }

    [Fact]
    public async Task A_missing_object_fails_clearly_and_leaves_nothing_allocated()
    {
        var id = ObjectId.New();

        var error = await Assert.ThrowsAsync<ObjectPullException>(() => Puller().PullAsync(id, 5000, [_source.Address], CancellationToken.None).WaitAsync(Timeout));

        Assert.Contains(id.ToString(), error.Message);
        Assert.Contains(_source.Address, error.Message);
        Assert.Contains("no copy", error.Message);
        Assert.True(error.ObjectLost);
        Assert.Equal(0, _destination.Store.Stats().UsedBytes);
    }

    [Fact]
    public async Task A_location_that_fails_midway_is_replaced_by_the_next_which_resumes_where_it_stopped()
    {
        const int size = (7 * Chunk) + 99;
        var id = ObjectId.New();
        _source.Put(id, size, seed: 7);
        await using var second = await TransferNode.StartAsync();
        second.Put(id, size, seed: 7);
        _source.Fault.AbortAfterChunks = 3;

        var copy = await Puller().PullAsync(id, size, [_source.Address, second.Address], CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(TransferNode.Bytes(size, seed: 7), _destination.Read(copy));

        // The second location resumes at what had arrived (chunks in flight when the connection dropped are lost).
        var resumed = Assert.Single(second.Requests);
        Assert.True(resumed.Offset <= 3 * Chunk && resumed.Offset % Chunk == 0, $"resumed at {resumed.Offset}");
        Assert.Equal((ulong)size - resumed.Offset, resumed.Length);
        Assert.Equal(StoredObjectLayout.RegionSize(size), _destination.Store.Stats().UsedBytes);
    }

    [Fact]
    public async Task A_node_that_dies_mid_stream_is_replaced_by_another()
    {
        const int size = 6 * Chunk;
        var id = ObjectId.New();
        _source.Put(id, size, seed: 6);
        await using var second = await TransferNode.StartAsync();
        second.Put(id, size, seed: 6);
        _source.Fault.HoldAfterChunks = 2;

        var pull = Puller().PullAsync(id, size, [_source.Address, second.Address], CancellationToken.None);
        await _source.Fault.Held.Task.WaitAsync(Timeout);
        await _source.KillServerAsync();
        var copy = await pull.WaitAsync(Timeout);

        Assert.Equal(TransferNode.Bytes(size, seed: 6), _destination.Read(copy));
        var resumed = Assert.Single(second.Requests);
        Assert.True(resumed.Offset <= 2 * Chunk && resumed.Offset % Chunk == 0, $"resumed at {resumed.Offset}");
    }

    [Fact]
    public async Task When_every_location_fails_the_pull_names_each_and_gives_its_region_back()
    {
        const int size = 4 * Chunk;
        var id = ObjectId.New();
        _source.Put(id, size, seed: 4);
        _source.Fault.AbortAfterChunks = 1;
        await using var empty = await TransferNode.StartAsync();
        const string unreachable = "127.0.0.1:1";

        var error = await Assert.ThrowsAsync<ObjectPullException>(
            () => Puller().PullAsync(id, size, [_source.Address, empty.Address, unreachable], CancellationToken.None).WaitAsync(Timeout));

        Assert.Contains(id.ToString(), error.Message);
        Assert.Contains("64 KiB", error.Message);
        Assert.Equal([_source.Address, empty.Address, unreachable], error.Failures.Select(f => f.Location));
        Assert.False(error.Failures[0].NotFound);
        Assert.True(error.Failures[1].NotFound);
        Assert.False(error.ObjectLost);
        Assert.Equal(0, _destination.Store.Stats().UsedBytes);
    }

    [Theory]
    [InlineData(4000, "its payload holds 3000 bytes")]
    [InlineData(2000, "its copy holds 3000 bytes, not the 2000 the object has")]
    public async Task A_copy_of_another_size_is_refused(int expected, string reason)
    {
        var id = ObjectId.New();
        _source.Put(id, 3000, seed: 1);

        var error = await Assert.ThrowsAsync<ObjectPullException>(() => Puller().PullAsync(id, expected, [_source.Address], CancellationToken.None).WaitAsync(Timeout));

        Assert.Contains(reason, error.Message);
        Assert.DoesNotContain("..", error.Message);
        Assert.Equal(0, _destination.Store.Stats().UsedBytes);
    }

    [Fact]
    public async Task Concurrent_pulls_of_one_object_share_one_transfer()
    {
        const int size = 3 * Chunk;
        var id = ObjectId.New();
        _source.Put(id, size, seed: 9);
        _source.Fault.HoldAfterChunks = 1;
        var puller = Puller();

        var pulls = Enumerable.Range(0, 4).Select(_ => puller.PullAsync(id, size, [_source.Address], CancellationToken.None)).ToList();
        await _source.Fault.Held.Task.WaitAsync(Timeout);
        _source.Fault.Release();
        var copies = await Task.WhenAll(pulls).WaitAsync(Timeout);

        Assert.Single(_source.Requests);
        Assert.All(copies, copy => Assert.Same(copies[0], copy));
        Assert.Equal(StoredObjectLayout.RegionSize(size), _destination.Store.Stats().UsedBytes);

        // Once done, a new pull is a new transfer (the caller registers the first copy meanwhile).
        _source.Fault.HoldAfterChunks = null;
        var again = await puller.PullAsync(id, size, [_source.Address], CancellationToken.None).WaitAsync(Timeout);
        Assert.NotSame(copies[0], again);
        Assert.Equal(2, _source.Requests.Count);
    }

    [Fact]
    public async Task A_pull_every_caller_cancelled_gives_its_region_back_and_the_server_unpins()
    {
        const int size = 3 * Chunk;
        var id = ObjectId.New();
        var original = _source.Put(id, size, seed: 5);
        _source.Fault.HoldAfterChunks = 1;
        var puller = Puller();
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();

        var pulls = new[] { puller.PullAsync(id, size, [_source.Address], first.Token), puller.PullAsync(id, size, [_source.Address], second.Token) };
        await _source.Fault.Held.Task.WaitAsync(Timeout);
        await first.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pulls[0].WaitAsync(Timeout));

        // One caller still waits: the transfer goes on.
        Assert.False(pulls[1].IsCompleted);
        await second.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pulls[1].WaitAsync(Timeout));

        await WaitUntilAsync(() => _destination.Store.Stats().UsedBytes == 0 && original.Pins == 0, "the region is given back and the server unpins");
    }

    [Fact]
    public async Task A_wrong_token_is_refused_with_a_clear_error()
    {
        var id = ObjectId.New();
        _source.Put(id, 100, seed: 2);
        using var channel = ClusterChannel.Create(_source.Address, ClusterCredentials.Create(ClusterToken.Generate(), null, null, null));
        var puller = new ObjectPuller(_destination.Store, _ => channel, NullLogger.Instance);

        var error = await Assert.ThrowsAsync<ObjectPullException>(() => puller.PullAsync(id, 100, [_source.Address], CancellationToken.None).WaitAsync(Timeout));

        Assert.Contains("Unauthenticated", error.Message);
        Assert.Contains("token is wrong", error.Message);
        Assert.Equal(0, _destination.Store.Stats().UsedBytes);
    }

    [Fact]
    public async Task A_spilled_object_is_restored_to_be_sent()
    {
        await using var small = await TransferNode.StartAsync(capacity: 1 << 20);
        const int size = 300 << 10;
        var spilled = ObjectId.New();
        var stored = small.Put(spilled, size, seed: 11);

        // Two more objects pass the high-water mark: the oldest goes to disk.
        small.Put(ObjectId.New(), size, seed: 12);
        small.Put(ObjectId.New(), size, seed: 13);
        Assert.Equal(StoredState.Spilled, stored.State);

        var copy = await Puller().PullAsync(spilled, size, [small.Address], CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(TransferNode.Bytes(size, seed: 11), _destination.Read(copy));
        Assert.Equal(1, small.Store.Stats().RestoreCount);
    }

    private ObjectPuller Puller(ObjectPullOptions? options = null) =>
        new(_destination.Store, Channel, NullLogger.Instance, options ?? new ObjectPullOptions { ChunkSize = Chunk });

    private GrpcChannel Channel(string address) =>
        _channels.GetOrAdd(address, a => ClusterChannel.Create(a, ClusterCredentials.Create(TransferNode.Token, null, null, null)));

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out after {Timeout.TotalSeconds} s waiting until {what}.");
            await Task.Delay(10);
        }
    }
}
