using Ray.Scheduling;
using Xunit;

namespace Ray.Runtime.Tests.ClusterScheduling;

/// <summary>
/// The arithmetic of resource sets, which every lease grant, lease return and queued task does: sets of CPUs and GPUs
/// come from a bounded cache, and sets with custom resources are merged by name; both give the same values.
/// </summary>
public sealed class ResourceSetTests
{
    private static readonly Dictionary<string, double> Special = new() { ["special"] = 0.5 };

    [Fact]
    public void Sums_and_differences_of_cpus_and_gpus_equal_the_sets_create_makes()
    {
        // Whether a result is the cached instance depends on the process-wide cache's room (other tests fill it), so
        // this compares values, which is what scheduling relies on.
        var two = ResourceSet.Create(2, 0, null);
        var one = ResourceSet.Create(1, 0, null);

        Assert.Equal(ResourceSet.Create(3, 0, null), two.Add(one));
        Assert.Equal(one, two.Subtract(one));
        Assert.Equal(one, two.Minus(one));
        Assert.Equal(ResourceSet.Create(2, 1, null), two.Add(ResourceSet.Create(0, 1, null)));
        Assert.Equal(1, two.Subtract(one)[ResourceSet.Cpu]);
        Assert.Equal(0, two.Subtract(one)[ResourceSet.Gpu]);
        Assert.Equal(ResourceSet.Create(2, 1, null).GetHashCode(), two.Add(ResourceSet.Create(0, 1, null)).GetHashCode());
    }

    [Fact]
    public void Create_rejects_amounts_that_are_not_finite_and_non_negative()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ResourceSet.Create(-1, 0, null));
        Assert.Throws<ArgumentOutOfRangeException>(() => ResourceSet.Create(1, double.NaN, null));
        Assert.Throws<ArgumentOutOfRangeException>(() => ResourceSet.Create(double.PositiveInfinity, 0, null));
        Assert.True(ResourceSet.Create(0, 0, null).IsEmpty);
    }

    [Fact]
    public void What_is_used_up_leaves_the_set_and_minus_never_goes_below_zero()
    {
        var one = ResourceSet.Create(1, 0, null);
        var three = ResourceSet.Create(3, 1, null);

        Assert.True(one.Subtract(one).IsEmpty);
        Assert.True(one.Minus(three).IsEmpty);
        Assert.Equal(ResourceSet.Create(0, 1, null), three.Minus(ResourceSet.Create(3, 0, null)));

        // Fractions that sum back to nothing within the tolerance are nothing, not a tiny remainder.
        var tenth = ResourceSet.Create(0.1, 0, null);
        var sum = ResourceSet.Empty;
        for (var i = 0; i < 10; i++)
        {
            sum = sum.Add(tenth);
        }

        Assert.Equal(ResourceSet.Create(1, 0, null), sum);
        for (var i = 0; i < 10; i++)
        {
            sum = sum.Subtract(tenth);
        }

        Assert.True(sum.IsEmpty);
    }

    [Fact]
    public void Custom_resources_are_merged_by_name()
    {
        var special = ResourceSet.Create(1, 0, Special);
        var two = ResourceSet.Create(2, 0, null);

        var sum = special.Add(two);
        Assert.Equal(ResourceSet.Create(3, 0, Special), sum);
        Assert.Equal(0.5, sum["special"]);
        Assert.Equal(two, sum.Subtract(special));
        Assert.Equal(ResourceSet.Create(0, 0, Special), sum.Minus(two.Add(ResourceSet.Create(1, 0, null))));
        Assert.True(special.Subtract(special).IsEmpty);
    }

    [Fact]
    public void Many_distinct_sums_stay_correct_past_the_cache()
    {
        // A queue of thousands of fractional tasks sums to thousands of distinct values: the cache stops growing, the
        // values stay right.
        var piece = ResourceSet.Create(0.25, 0, null);
        var sum = ResourceSet.Empty;
        for (var i = 1; i <= 10_000; i++)
        {
            sum = sum.Add(piece);
        }

        Assert.Equal(2_500, sum[ResourceSet.Cpu], 6);
        Assert.Equal(ResourceSet.Create(2_500, 0, null), sum);
        Assert.Equal(ResourceSet.Create(2_499.75, 0, null), sum.Subtract(piece));
    }
}
