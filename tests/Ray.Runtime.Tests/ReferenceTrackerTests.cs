using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Ray.Infrastructure;
using Xunit;

namespace Ray.Runtime.Tests;

/// <summary>
/// How collected <see cref="ObjectRef"/>s are released without a finalizer each (<see cref="ReferenceTracker"/>): every
/// dropped reference exactly once, after the collection of its generation, and never one that was released already.
/// </summary>
public sealed class ReferenceTrackerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Dropped_references_are_released_once_each_after_a_collection()
    {
        var core = new CountingCore();
        var ids = Create(core, 10_000);

        WaitUntil(() => core.ReleasedCount == ids.Count, core);

        Assert.True(core.Released.Keys.ToHashSet().SetEquals(ids));
        Assert.All(core.Released.Values, count => Assert.Equal(1, count));
    }

    [Fact]
    public void A_reference_that_is_still_reachable_is_not_released_however_old_it_gets()
    {
        var core = new CountingCore();
        // Held in an array made elsewhere, not in a local, so that clearing it makes it unreachable in a debug build too.
        var holder = Hold(core);
        var id = holder[0].Id;
        Create(core, 1_000);

        for (var i = 0; i < 3; i++)
        {
            Collect(0);
            Collect(1);
            Collect(2);
        }

        WaitUntil(() => core.ReleasedCount == 1_000, core);
        Assert.False(core.Released.ContainsKey(id));
        Assert.Equal(2, GC.GetGeneration(holder[0]));

        holder[0] = null!;
        WaitUntil(() => core.Released.ContainsKey(id), core);
        Assert.Equal(1, core.Released[id]);
    }

    [Fact]
    public void A_reference_released_explicitly_is_not_released_again_when_it_is_collected()
    {
        var core = new CountingCore();
        var id = ReleaseExplicitly(core);
        Assert.Equal(1, core.Released[id]);

        // A second batch shows that sweeps ran after the explicit release.
        var later = Create(core, 100);
        WaitUntil(() => later.All(core.Released.ContainsKey), core);
        Collect(2);
        Assert.Equal(1, core.Released[id]);
    }

    [Fact]
    public void References_made_on_a_thread_that_ended_are_released()
    {
        var core = new CountingCore();
        List<ObjectId>? ids = null;
        var thread = new Thread(() => ids = Create(core, 500));
        thread.Start();
        Assert.True(thread.Join(Timeout), "the thread did not end");

        WaitUntil(() => core.ReleasedCount == 500, core);
        Assert.True(core.Released.Keys.ToHashSet().SetEquals(ids!));
    }

    [Fact]
    public void A_runtime_that_refuses_a_release_does_not_stop_the_others()
    {
        var refusing = new CountingCore { Refuse = true };
        var core = new CountingCore();
        Create(refusing, 100);
        var ids = Create(core, 100);

        WaitUntil(() => core.ReleasedCount == ids.Count, core);
        Assert.Equal(100, refusing.Attempts);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<ObjectId> Create(IRayCore core, int count)
    {
        var ids = new List<ObjectId>(count);
        for (var i = 0; i < count; i++)
        {
            ids.Add(ObjectRef<int>.Adopt(ObjectId.New(), core).Id);
        }

        return ids;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ObjectRef<int>[] Hold(IRayCore core) => [ObjectRef<int>.Create(ObjectId.New(), core)];

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ObjectId ReleaseExplicitly(IRayCore core)
    {
        var reference = ObjectRef<int>.Adopt(ObjectId.New(), core);
        reference.Release();
        reference.Release();
        return reference.Id;
    }

    private static void Collect(int generation)
    {
        GC.Collect(generation, GCCollectionMode.Forced, blocking: true);
        GC.WaitForPendingFinalizers();
    }

    private static void WaitUntil(Func<bool> condition, CountingCore core)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out: {core.ReleasedCount} released so far.");
            Collect(2);
            Thread.Sleep(10);
        }
    }

    private sealed class CountingCore : IRayCore
    {
        private int _attempts;

        public ConcurrentDictionary<ObjectId, int> Released { get; } = new();

        public int ReleasedCount => Released.Count;

        public int Attempts => Volatile.Read(ref _attempts);

        public bool Refuse { get; init; }

        public void ReleaseReference(ObjectId id)
        {
            Interlocked.Increment(ref _attempts);
            if (Refuse)
            {
                throw new InvalidOperationException("This runtime was disposed.");
            }

            Released.AddOrUpdate(id, 1, static (_, count) => count + 1);
        }

        public ObjectId SubmitTask(RemoteFunctionDescriptor function, TaskOptions? options, TaskArgument[] arguments) =>
            throw new NotSupportedException();

        public ValueTask<T> GetAsync<T>(ObjectRef reference, CancellationToken cancellationToken) => throw new NotSupportedException();

        public T Get<T>(ObjectRef reference, TimeSpan? timeout) => throw new NotSupportedException();

        public ValueTask WaitReadyAsync(ObjectRef reference, CancellationToken cancellationToken) => throw new NotSupportedException();

        public void WaitReady(ObjectRef reference, TimeSpan? timeout) => throw new NotSupportedException();
    }
}
