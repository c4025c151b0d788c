using System.Collections.Concurrent;
using Ray.Transport;
using Xunit;

namespace Ray.Runtime.Tests.Transport;

/// <summary>One correlator for every kind of request on a connection: replies, failures, a dropped connection, cancellation, timeouts and concurrency.</summary>
public sealed class RequestCorrelatorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly RequestCorrelator _correlator = new();

    [Fact]
    public async Task A_reply_completes_its_request_and_only_once()
    {
        var (first, firstReply) = _correlator.Begin<string>();
        var (second, secondReply) = _correlator.Begin<string>();
        Assert.NotEqual(0UL, first);
        Assert.NotEqual(first, second);
        Assert.Equal(2, _correlator.Count);

        Assert.True(_correlator.Complete(second, "two"));
        Assert.True(_correlator.Complete(first, "one"));

        Assert.Equal("one", await firstReply.WaitAsync(Timeout));
        Assert.Equal("two", await secondReply.WaitAsync(Timeout));
        Assert.False(_correlator.Complete(first, "again"));
        Assert.False(_correlator.Complete(12345UL, "never asked"));
        Assert.Equal(0, _correlator.Count);
    }

    [Fact]
    public async Task One_correlator_serves_several_reply_types()
    {
        var (text, textReply) = _correlator.Begin<string>();
        var (number, numberReply) = _correlator.Begin<int>();
        var (mismatched, mismatchedReply) = _correlator.Begin<int>();

        Assert.True(_correlator.Complete(number, 42));
        Assert.True(_correlator.Complete(text, "text"));
        Assert.False(_correlator.Complete(mismatched, "a string where an int was expected"));

        Assert.Equal(42, await numberReply.WaitAsync(Timeout));
        Assert.Equal("text", await textReply.WaitAsync(Timeout));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => mismatchedReply.WaitAsync(Timeout));
        Assert.Contains("String", error.Message);
    }

    [Fact]
    public async Task Fail_fails_one_request()
    {
        var (id, reply) = _correlator.Begin<string>();
        var (_, other) = _correlator.Begin<string>();

        Assert.True(_correlator.Fail(id, new RayException("no such actor")));

        Assert.Equal("no such actor", (await Assert.ThrowsAsync<RayException>(() => reply.WaitAsync(Timeout))).Message);
        Assert.False(other.IsCompleted);
        Assert.False(_correlator.Fail(id, new RayException("again")));
    }

    [Fact]
    public async Task FailAll_fails_every_pending_request_and_every_later_one()
    {
        var replies = Enumerable.Range(0, 200).Select(_ => _correlator.Begin<int>().Reply).ToArray();

        Assert.Equal(200, _correlator.FailAll(new RayException("connection lost")));

        foreach (var reply in replies)
        {
            Assert.Equal("connection lost", (await Assert.ThrowsAsync<RayException>(() => reply.WaitAsync(Timeout))).Message);
        }

        Assert.Equal(0, _correlator.Count);
        Assert.Equal(0, _correlator.FailAll(new RayException("again")));
        using var cancel = new CancellationTokenSource();
        var (id, later) = _correlator.Begin<int>(cancel.Token, TimeSpan.FromSeconds(1));
        Assert.Equal("connection lost", (await Assert.ThrowsAsync<RayException>(() => later.WaitAsync(Timeout))).Message);
        Assert.False(_correlator.Complete(id, 7));
    }

    [Fact]
    public async Task Requests_begun_while_the_connection_closes_all_end()
    {
        using var go = new ManualResetEventSlim();
        var requesters = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            go.Wait(Timeout);
            return Enumerable.Range(0, 20_000).Select(_ => _correlator.Begin<int>().Reply).ToArray();
        })).ToArray();

        go.Set();
        Thread.SpinWait(10_000);
        _correlator.FailAll(new RayException("connection lost"));
        var replies = (await Task.WhenAll(requesters).WaitAsync(Timeout)).SelectMany(r => r);

        await Task.WhenAll(replies).ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(Timeout);
        Assert.Equal(0, _correlator.Count);
    }

    [Fact]
    public async Task A_cancelled_wait_forgets_its_request_so_a_late_reply_finds_no_one()
    {
        using var cancel = new CancellationTokenSource();
        var (id, reply) = _correlator.Begin<string>(cancel.Token);

        await cancel.CancelAsync();

        var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reply.WaitAsync(Timeout));
        Assert.Equal(cancel.Token, cancelled.CancellationToken);
        Assert.Equal(0, _correlator.Count);
        Assert.False(_correlator.Complete(id, "late"));
    }

    [Fact]
    public async Task A_token_cancelled_already_cancels_at_once()
    {
        var (id, reply) = _correlator.Begin<string>(new CancellationToken(canceled: true));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reply.WaitAsync(Timeout));
        Assert.False(_correlator.Complete(id, "late"));
    }

    [Fact]
    public async Task A_reply_before_cancellation_wins()
    {
        using var cancel = new CancellationTokenSource();
        var (id, reply) = _correlator.Begin<string>(cancel.Token);

        Assert.True(_correlator.Complete(id, "in time"));
        await cancel.CancelAsync();

        Assert.Equal("in time", await reply.WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_request_times_out_and_is_forgotten()
    {
        var (id, reply) = _correlator.Begin<string>(timeout: TimeSpan.FromMilliseconds(50));
        var (answered, answeredReply) = _correlator.Begin<string>(timeout: TimeSpan.FromMilliseconds(50));
        Assert.True(_correlator.Complete(answered, "quick"));

        var error = await Assert.ThrowsAsync<TimeoutException>(() => reply.WaitAsync(Timeout));

        Assert.Contains($"request {id}", error.Message);
        Assert.Equal("quick", await answeredReply.WaitAsync(Timeout));
        Assert.False(_correlator.Complete(id, "late"));
        Assert.Equal(0, _correlator.Count);
    }

    [Fact]
    public async Task The_completing_thread_does_not_run_the_waiters_code()
    {
        var (id, reply) = _correlator.Begin<int>();
        var continuation = reply.ContinueWith(_ => Environment.CurrentManagedThreadId, TaskContinuationOptions.ExecuteSynchronously);

        _correlator.Complete(id, 1);

        Assert.NotEqual(Environment.CurrentManagedThreadId, await continuation.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Many_long_lived_requests_grow_the_table_and_all_get_their_own_reply()
    {
        var requests = Enumerable.Range(0, 5000).Select(_ => _correlator.Begin<ulong>()).ToArray();
        Assert.Equal(requests.Length, requests.Select(r => r.Id).Distinct().Count());
        Assert.Equal(requests.Length, _correlator.Count);

        foreach (var (id, _) in requests.OrderBy(r => HashCode.Combine(r.Id)))
        {
            Assert.True(_correlator.Complete(id, id * 3));
        }

        foreach (var (id, reply) in requests)
        {
            Assert.Equal(id * 3, await reply.WaitAsync(Timeout));
        }

        Assert.Equal(0, _correlator.Count);
    }

    [Fact]
    public async Task Concurrent_begins_replies_and_cancellations_lose_and_mix_up_nothing()
    {
        const int Threads = 2;
        const int PerThread = 20_000;
        var outstanding = new ConcurrentQueue<ulong>();
        var started = new ConcurrentBag<(ulong Id, Task<ulong> Reply, bool Cancelled)>();

        // Requesters begin requests (every tenth with a token they cancel at once, every hundredth answered only at
        // the end, so the table grows while others come and go) while repliers answer whatever is outstanding, in
        // whatever order they find it.
        var requesters = Enumerable.Range(0, Threads).Select(_ => Task.Run(() =>
        {
            var held = new List<ulong>();
            for (var i = 0; i < PerThread; i++)
            {
                using var cancel = new CancellationTokenSource();
                var cancellable = i % 10 == 0;
                var (id, reply) = _correlator.Begin<ulong>(cancellable ? cancel.Token : default);
                if (cancellable)
                {
                    cancel.Cancel();
                }

                started.Add((id, reply, cancellable));
                if (i % 100 == 1)
                {
                    held.Add(id);
                }
                else
                {
                    outstanding.Enqueue(id);
                }
            }

            held.ForEach(outstanding.Enqueue);
        })).ToArray();
        var repliers = Enumerable.Range(0, Threads).Select(_ => Task.Run(() =>
        {
            while (requesters.Any(r => !r.IsCompleted) || !outstanding.IsEmpty)
            {
                if (outstanding.TryDequeue(out var id))
                {
                    _correlator.Complete(id, id + 1);
                }
                else
                {
                    Thread.Yield();
                }
            }
        })).ToArray();

        await Task.WhenAll(requesters.Concat(repliers)).WaitAsync(Timeout * 3);

        Assert.Equal(Threads * PerThread, started.Count);
        Assert.Equal(started.Count, started.Select(s => s.Id).Distinct().Count());
        foreach (var (id, reply, cancelled) in started)
        {
            if (cancelled)
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reply.WaitAsync(Timeout));
            }
            else
            {
                Assert.Equal(id + 1, await reply.WaitAsync(Timeout));
            }
        }

        Assert.Equal(0, _correlator.Count);
    }
}
