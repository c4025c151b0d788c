using Ray.ObjectStore;
using Xunit;

namespace Ray.Runtime.Tests.ObjectStore;

public sealed class ArenaAllocatorTests
{
    [Fact]
    public void Regions_are_handed_out_in_order_and_merged_when_returned()
    {
        var allocator = new ArenaAllocator(1000);
        Assert.True(allocator.TryAllocate(100, out var a));
        Assert.True(allocator.TryAllocate(200, out var b));
        Assert.True(allocator.TryAllocate(300, out var c));
        Assert.Equal((0, 100, 300), (a, b, c));
        Assert.Equal(600, allocator.Used);
        Assert.Equal(400, allocator.LargestFree);

        // Freeing the middle, then its neighbours, leaves one free block again.
        allocator.Free(b, 200);
        Assert.Equal(400, allocator.LargestFree);
        allocator.Free(a, 100);
        Assert.Equal(400, allocator.LargestFree);
        Assert.False(allocator.TryAllocate(500, out _));
        allocator.Free(c, 300);
        Assert.Equal(0, allocator.Used);
        Assert.Equal(1000, allocator.LargestFree);
        Assert.True(allocator.TryAllocate(1000, out var all));
        Assert.Equal(0, all);
    }

    [Fact]
    public void The_smallest_block_that_fits_is_used()
    {
        var allocator = new ArenaAllocator(1000);
        allocator.TryAllocate(100, out var a);
        allocator.TryAllocate(50, out _);
        allocator.TryAllocate(300, out var c);
        allocator.TryAllocate(50, out _);
        allocator.Free(a, 100);
        allocator.Free(c, 300);

        // Free blocks: 100 at 0, 300 at 150, 500 at 500. A 90-byte region goes into the 100-byte hole.
        Assert.True(allocator.TryAllocate(90, out var small));
        Assert.Equal(0, small);
        Assert.True(allocator.TryAllocate(250, out var medium));
        Assert.Equal(150, medium);
    }

    [Fact]
    public void A_region_that_was_not_handed_out_cannot_be_returned()
    {
        var allocator = new ArenaAllocator(1000);
        allocator.TryAllocate(100, out _);
        Assert.Throws<InvalidOperationException>(() => allocator.Free(500, 100));
        Assert.Throws<InvalidOperationException>(() => allocator.Free(900, 200));
        Assert.Throws<ArgumentOutOfRangeException>(() => allocator.TryAllocate(0, out _));
    }
}
