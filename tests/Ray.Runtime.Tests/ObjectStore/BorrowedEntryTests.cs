using Ray.ObjectStore;
using Xunit;

namespace Ray.Runtime.Tests.ObjectStore;

/// <summary>
/// A node takes in a reference another node owns (a stream item, an argument of a forwarded task) and asks the owner for
/// its state; the answer may come on another link's thread before the holder that took the reference in has counted it.
/// The borrowed entry is counted for its holder as it is made, so that answer cannot free it.
/// </summary>
public sealed class BorrowedEntryTests
{
    private static readonly Guid Owner = Guid.NewGuid();

    [Fact]
    public void A_borrowed_entry_outlives_its_owners_answer_until_its_holder_lets_go()
    {
        var (objects, freed) = Table();
        var id = new ObjectId(new TaskId(new JobId(1), 7, 1), 3);

        var (entry, created) = objects.GetOrCreateBorrowed(id, Owner, ownerPid: 42, ReferenceKind.Contained);
        Assert.True(created);

        // The owner's answer comes first: the entry is ready, and still here for whoever takes it from the holder.
        objects.Complete(entry, new byte[] { 1, 2, 3 });
        Assert.True(objects.TryGet(id, out var found));
        Assert.Same(entry, found);
        Assert.True(found.AddReference(ReferenceKind.Borrower));
        objects.Release(id, ReferenceKind.Contained);
        Assert.True(objects.TryGet(id, out _));
        Assert.Empty(freed);

        // The last reference goes: the entry is freed and the owner gets its one hand-off back.
        objects.Release(id, ReferenceKind.Borrower);
        Assert.False(objects.TryGet(id, out _));
        Assert.Equal([(id, 1)], freed);
    }

    [Fact]
    public void A_second_hand_off_of_a_borrowed_object_counts_for_its_own_holder()
    {
        var (objects, freed) = Table();
        var id = new ObjectId(new TaskId(new JobId(1), 7, 2), 2);

        var (first, created) = objects.GetOrCreateBorrowed(id, Owner, ownerPid: 42, ReferenceKind.Task);
        var (second, createdAgain) = objects.GetOrCreateBorrowed(id, Owner, ownerPid: 42, ReferenceKind.Contained);
        Assert.True(created);
        Assert.False(createdAgain);
        Assert.Same(first, second);

        objects.Complete(first, new byte[] { 9 });
        objects.Release(id, ReferenceKind.Task);
        Assert.True(objects.TryGet(id, out _));
        objects.Release(id, ReferenceKind.Contained);
        Assert.False(objects.TryGet(id, out _));
        Assert.Equal([(id, 2)], freed);
    }

    /// <summary>A node's table that records each borrowed object it frees, with the hand-offs it gives back.</summary>
    private static (ObjectTable Objects, List<(ObjectId Id, int Handoffs)> Freed) Table()
    {
        var objects = new ObjectTable(store: null);
        var freed = new List<(ObjectId Id, int Handoffs)>();
        objects.BorrowedFreed = entry => freed.Add((entry.Id, entry.ReceivedHandoffs));
        return (objects, freed);
    }
}
