using Ray.ObjectStore;
using Xunit;

namespace Ray.Runtime.Tests.ObjectStore;

/// <summary>
/// What waits for an object: one callback is kept without a list, more in one; each runs once, when the object completes
/// or at once if it already has; and freeing a chain of objects that hold each other frees every link.
/// </summary>
public sealed class ObjectEntryCallbackTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void Every_callback_runs_once_when_the_object_completes(int callbacks)
    {
        var objects = new ObjectTable(store: null);
        var entry = objects.Create(Id(1), Environment.ProcessId, ReferenceKind.Local);
        var calls = new int[callbacks];
        for (var i = 0; i < callbacks; i++)
        {
            var index = i;
            entry.OnReady(ready =>
            {
                Assert.Same(entry, ready);
                calls[index]++;
            });
        }

        Assert.All(calls, count => Assert.Equal(0, count));
        objects.Complete(entry, new byte[] { 1 });
        Assert.All(calls, count => Assert.Equal(1, count));

        // A second completion is refused and runs nothing again.
        Assert.False(entry.TryComplete(new byte[] { 2 }, null, null, null));
        Assert.All(calls, count => Assert.Equal(1, count));
    }

    [Fact]
    public void A_callback_added_after_completion_runs_at_once()
    {
        var objects = new ObjectTable(store: null);
        var entry = objects.Create(Id(2), Environment.ProcessId, ReferenceKind.Local);
        objects.Complete(entry, new byte[] { 1 });

        var ran = false;
        entry.OnReady(_ => ran = true);
        Assert.True(ran);
    }

    [Fact]
    public void Freeing_an_object_frees_the_chain_it_holds()
    {
        var objects = new ObjectTable(store: null);
        var freed = new List<ObjectId>();
        objects.OwnedFreed = entry => freed.Add(entry.Id);

        // outer holds middle, middle holds inner; the driver lets go of middle and inner first.
        var inner = objects.Create(Id(3), Environment.ProcessId, ReferenceKind.Local);
        var middle = objects.Create(Id(4), Environment.ProcessId, ReferenceKind.Local);
        var outer = objects.Create(Id(5), Environment.ProcessId, ReferenceKind.Local);
        objects.Complete(inner, new byte[] { 1 });
        objects.AddReference(inner.Id, ReferenceKind.Contained);
        objects.Complete(middle, new byte[] { 2 }, [inner.Id]);
        objects.AddReference(middle.Id, ReferenceKind.Contained);
        objects.Complete(outer, new byte[] { 3 }, [middle.Id]);
        objects.Release(inner.Id, ReferenceKind.Local);
        objects.Release(middle.Id, ReferenceKind.Local);
        Assert.Empty(freed);

        objects.Release(outer.Id, ReferenceKind.Local);
        Assert.Equal([outer.Id, middle.Id, inner.Id], freed);
        Assert.False(objects.TryGet(inner.Id, out _));
    }

    private static ObjectId Id(int index) => new(new TaskId(new JobId(3), 11, (ulong)index), 1);
}
