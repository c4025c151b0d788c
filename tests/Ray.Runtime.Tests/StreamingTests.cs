using System.Globalization;
using Xunit;

namespace Ray.Runtime.Tests;

/// <summary>
/// Streaming generators with real workers: tasks and actor methods returning <c>IAsyncEnumerable&lt;T&gt;</c>, read as an
/// <see cref="ObjectRefStream{T}"/>. Producers and the test meet through marker files (<see cref="StreamMarkers"/>); every
/// wait has a timeout.
/// </summary>
[Collection(RuntimeCollection.Name)]
public sealed class StreamingTests(RuntimeFixture fixture) : IDisposable
{
    private static readonly TimeSpan Timeout = RuntimeFixture.Timeout;

    private readonly string _markers = Directory.CreateTempSubdirectory("raygen-stream-").FullName;
    private readonly CancellationTokenSource _timeout = new(Timeout);

    [Fact]
    public async Task Items_arrive_in_order_as_references_and_as_values()
    {
        var references = new List<ObjectRef<int>>();
        await foreach (var item in StreamTasks.Remote.Numbers(50).WithCancellation(_timeout.Token))
        {
            references.Add(item);
        }

        Assert.Equal(Enumerable.Range(0, 50), await fixture.Ray.GetAsync(references).WaitAsync(Timeout));
        Assert.Equal(Enumerable.Range(0, 50), await ReadAllAsync(StreamTasks.Remote.Numbers(50)));
    }

    [Fact]
    public async Task Items_arrive_while_the_producer_still_runs()
    {
        // The producer waits after its first item for a marker the test writes only once it has read that item, so the
        // test could never get the item if items came at the end.
        var stream = StreamTasks.Remote.WaitsForTheReader(_markers);
        await using var items = stream.ReadAllAsync(_timeout.Token).GetAsyncEnumerator();
        Assert.True(await items.MoveNextAsync());
        Assert.Equal("first", items.Current);
        Assert.Throws<GetTimeoutException>(() => stream.Completion.Wait(TimeSpan.Zero));
        await StreamMarkers.WaitForAsync(_markers, "waiting", _timeout.Token);
        StreamMarkers.Write(_markers, "read-1", "1");
        Assert.True(await items.MoveNextAsync());
        Assert.Equal("second", items.Current);
        Assert.True(await items.MoveNextAsync());
        Assert.Equal("third", items.Current);
        Assert.False(await items.MoveNextAsync());
        await stream.Completion.WaitAsync(_timeout.Token);
    }

    [Fact]
    public async Task Large_items_go_through_the_object_store()
    {
        const int Length = 50_000;
        var stream = StreamTasks.Remote.LargeItems(4, Length);
        var index = 0;
        await foreach (var item in stream.WithCancellation(_timeout.Token))
        {
            Assert.Equal(ObjectLocation.SharedMemory, fixture.Ray.ListObjects().Single(o => o.Id == item.Id).Location);
            using var view = await item.GetViewAsync().AsTask().WaitAsync(Timeout);
            Assert.Equal(Length, view.Length);
            Assert.All(view.ToArray(), x => Assert.Equal(index, x));
            index++;
        }

        Assert.Equal(4, index);

        // A task in a worker reads them from the store too.
        Assert.Equal((0 + 1 + 2) * (double)Length, await StreamTasks.Remote.SumLarge(StreamTasks.Remote.LargeItems(3, Length)).GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Backpressure_keeps_the_producer_at_most_N_items_ahead_of_the_reader()
    {
        // N = 2 on the task's attribute. The producer yields as fast as it can; after each item the test takes, it waits
        // until the producer has gone as far as the bound allows, then checks that it went no further.
        const int Count = 20;
        const int Bound = 2;
        var stream = StreamTasks.Remote.Counted(_markers, Count);
        var consumed = 0;
        await foreach (var item in stream.WithCancellation(_timeout.Token))
        {
            Assert.Equal(consumed, await item.GetAsync().AsTask().WaitAsync(Timeout));
            consumed++;
            var allowed = Math.Min(Count, consumed + Bound);
            var yielded = await WaitForYieldedAsync(allowed);
            Assert.True(yielded <= consumed + Bound, $"The producer had yielded {yielded} items when the reader had taken {consumed} (bound {Bound}).");
        }

        Assert.Equal(Count, consumed);
    }

    [Fact]
    public async Task A_bad_backpressure_option_is_a_clear_error()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => StreamTasks.Remote.WithOptions(new() { GeneratorBackpressureNumObjects = 0 }).Numbers(1));
        Assert.Contains("at least 1", error.Message, StringComparison.Ordinal);

        // A per-call option overrides the attribute, and -1 means no limit.
        Assert.Equal(Enumerable.Range(0, 5), await ReadAllAsync(StreamTasks.Remote.WithOptions(new() { GeneratorBackpressureNumObjects = -1 }).Counted(_markers, 5)));
    }

    [Fact]
    public async Task Cancel_stops_the_producer_through_its_token_and_the_stream_ends_with_the_cancellation()
    {
        var stream = StreamTasks.Remote.UntilCancelled(_markers);
        var read = new List<int>();
        await using (var items = stream.ReadAllAsync(_timeout.Token).GetAsyncEnumerator())
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.True(await items.MoveNextAsync());
                read.Add(items.Current);
            }

            fixture.Ray.Cancel(stream);
            var error = await Assert.ThrowsAsync<TaskCancelledException>(async () =>
            {
                while (await items.MoveNextAsync())
                {
                    read.Add(items.Current);
                }
            });
            Assert.Contains("UntilCancelled", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(Enumerable.Range(0, read.Count), read);
        await StreamMarkers.WaitForAsync(_markers, "cancelled", _timeout.Token);
        Assert.Equal("token", StreamMarkers.Read(_markers, "cancelled"));
        await Assert.ThrowsAsync<TaskCancelledException>(() => stream.Completion.WaitAsync(_timeout.Token).AsTask());
    }

    [Fact]
    public async Task Breaking_out_of_the_loop_cancels_the_producer()
    {
        var read = 0;
        await foreach (var item in StreamTasks.Remote.UntilCancelled(_markers).ReadAllAsync(_timeout.Token))
        {
            if (++read == 3)
            {
                break;
            }
        }

        await StreamMarkers.WaitForAsync(_markers, "cancelled", _timeout.Token);
        Assert.Equal("token", StreamMarkers.Read(_markers, "cancelled"));
    }

    [Fact]
    public async Task A_producer_that_ignores_its_token_stops_at_its_next_item()
    {
        var stream = StreamTasks.Remote.IgnoresItsToken();
        await using (var items = stream.GetAsyncEnumerator(_timeout.Token))
        {
            Assert.True(await items.MoveNextAsync());
            fixture.Ray.Cancel(stream);
        }

        await Assert.ThrowsAsync<TaskCancelledException>(() => stream.Completion.WaitAsync(_timeout.Token).AsTask());
    }

    [Fact]
    public async Task An_exception_surfaces_at_the_item_where_it_happened_after_the_items_before_it()
    {
        var read = new List<int>();
        var error = await Assert.ThrowsAsync<RayTaskException>(async () =>
        {
            await foreach (var item in StreamTasks.Remote.FailsAfter(4).ReadAllAsync(_timeout.Token))
            {
                read.Add(item);
            }
        });

        Assert.Equal([0, 1, 2, 3], read);
        Assert.Equal(typeof(InvalidOperationException).FullName, error.RemoteExceptionType);
        Assert.Contains("boom after 4 items", error.Message, StringComparison.Ordinal);

        // As references: the failure is the fifth item, and awaiting it throws.
        var references = new List<ObjectRef<int>>();
        await foreach (var item in StreamTasks.Remote.FailsAfter(2).WithCancellation(_timeout.Token))
        {
            references.Add(item);
        }

        Assert.Equal(3, references.Count);
        Assert.Equal(1, await references[1].GetAsync().AsTask().WaitAsync(Timeout));
        await Assert.ThrowsAsync<RayTaskException>(() => references[2].GetAsync().AsTask().WaitAsync(Timeout));

        // The failure replays here: the generator runs to its exception in this process.
        var replayed = await Assert.ThrowsAsync<InvalidOperationException>(() => error.ReplayAsync().WaitAsync(Timeout));
        Assert.Equal("boom after 4 items", replayed.Message);
    }

    [Fact]
    public async Task A_producer_whose_worker_dies_is_retried_and_the_stream_goes_on_without_repeating_items()
    {
        const int Count = 8;
        var read = new List<int>();
        await foreach (var item in StreamTasks.Remote.DiesOnce(_markers, Count).ReadAllAsync(_timeout.Token))
        {
            read.Add(item);
            if (read.Count == 3)
            {
                // Items 0-2 are delivered: now its first attempt ends its process.
                StreamMarkers.Write(_markers, "read-3", "1");
            }
        }

        Assert.Equal(Enumerable.Range(0, Count), read);
        Assert.NotNull(StreamMarkers.Read(_markers, "attempt-1"));
        Assert.NotEqual(StreamMarkers.Read(_markers, "attempt-1"), StreamMarkers.Read(_markers, "attempt-2"));
    }

    [Fact]
    public async Task A_stream_passed_to_another_task_is_read_there()
    {
        Assert.Equal(Enumerable.Range(0, 100).Sum(), await StreamTasks.Remote.Sum(StreamTasks.Remote.Numbers(100)).GetAsync().AsTask().WaitAsync(Timeout));

        // The stream's position is its owner's: the task goes on where the driver stopped reading.
        var stream = StreamTasks.Remote.Numbers(10);
        var items = stream.GetAsyncEnumerator(_timeout.Token);
        Assert.True(await items.MoveNextAsync());
        Assert.True(await items.MoveNextAsync());
        Assert.Equal(Enumerable.Range(2, 8).Sum(), await StreamTasks.Remote.Sum(stream).GetAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Item_references_are_arguments_of_other_tasks()
    {
        var squares = new List<ObjectRef<int>>();
        await foreach (var item in StreamTasks.Remote.Numbers(10).WithCancellation(_timeout.Token))
        {
            squares.Add(StreamTasks.Remote.Square(item));
        }

        Assert.Equal(Enumerable.Range(0, 10).Select(x => x * x), await fixture.Ray.GetAsync(squares).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Actor_methods_stream_their_items_and_the_actor_serves_calls_after()
    {
        var journal = Journal.Remote();
        foreach (var entry in new[] { "a", "bb", "ccc" })
        {
            journal.Write(entry);
        }

        Assert.Equal(["a", "bb", "ccc"], await ReadAllAsync(journal.Entries()));
        Assert.Equal([1, 2, 3], await ReadAllAsync(journal.Lengths()));
        Assert.Equal(3, await journal.Count().GetAsync().AsTask().WaitAsync(Timeout));
        fixture.Ray.Kill(journal);
    }

    [Fact]
    public async Task Unread_items_are_freed_with_their_stream()
    {
        var stream = StreamTasks.Remote.Numbers(5);
        await stream.Completion.WaitAsync(_timeout.Token);
        var id = stream.Id;
        Assert.Contains(fixture.Ray.ListObjects(), o => o.Id.Task == id.Task && o.UnreadInStream);
        GC.KeepAlive(stream);
        stream = null!;

        var deadline = DateTime.UtcNow + Timeout;
        while (fixture.Ray.ListObjects().Any(o => o.Id.Task == id.Task))
        {
            Assert.True(DateTime.UtcNow < deadline, "The stream's items were not freed with it.");
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_stream_no_one_holds_any_more_cancels_its_producer()
    {
        await StartAndDropAsync(StreamTasks.Remote.UntilCancelled(_markers));
        var deadline = DateTime.UtcNow + Timeout;
        while (StreamMarkers.Read(_markers, "cancelled") is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "The producer of a dropped stream was not cancelled.");
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Delay(20);
        }

        Assert.Equal("token", StreamMarkers.Read(_markers, "cancelled"));
    }

    public void Dispose()
    {
        _timeout.Dispose();
        Directory.Delete(_markers, recursive: true);
    }

    /// <summary>Reads one item (so the producer runs) and lets the stream and its enumerator go without disposing either.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private async Task StartAndDropAsync(ObjectRefStream<int> stream)
    {
        var items = stream.GetAsyncEnumerator(_timeout.Token);
        Assert.True(await items.MoveNextAsync());
    }

    private async Task<List<T>> ReadAllAsync<T>(ObjectRefStream<T> stream)
    {
        var items = new List<T>();
        await foreach (var item in stream.ReadAllAsync(_timeout.Token))
        {
            items.Add(item);
        }

        return items;
    }

    /// <summary>Waits until the producer's record says it yielded at least <paramref name="count"/> items; returns what it says then.</summary>
    private async Task<int> WaitForYieldedAsync(int count)
    {
        while (true)
        {
            if (StreamMarkers.Read(_markers, "yielded") is { } text && int.Parse(text, CultureInfo.InvariantCulture) is var yielded && yielded >= count)
            {
                return yielded;
            }

            _timeout.Token.ThrowIfCancellationRequested();
            await Task.Delay(5);
        }
    }
}
