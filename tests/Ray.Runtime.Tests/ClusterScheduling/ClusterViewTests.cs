using Ray.Gcs;
using Ray.Runtime.Protocol;
using Ray.Scheduling;
using Xunit;

namespace Ray.Runtime.Tests.ClusterScheduling;

/// <summary>
/// The cluster view placement reads on every task: another node's free resources are its last report less the work this
/// node sent it since, by shape, never below zero, until the work comes back or a report surely includes it.
/// </summary>
public sealed class ClusterViewTests
{
    private static readonly Guid Self = Guid.NewGuid();
    private static readonly Guid Other = Guid.NewGuid();

    private static readonly ResourceSet OneCpu = ResourceSet.Create(1, 0, null);
    private static readonly ResourceSet Special = ResourceSet.Create(1, 0, new Dictionary<string, double> { ["special"] = 1 });

    [Fact]
    public void Work_sent_to_a_node_counts_against_it_by_shape_until_it_comes_back_and_never_below_zero()
    {
        var view = View(total: 4, special: 2);

        view.Reserve(Other, OneCpu);
        view.Reserve(Other, OneCpu);
        view.Reserve(Other, Special);
        Assert.Equal((1, 1), Free(view));

        // More than it has: nothing is left, and nothing goes negative.
        view.Reserve(Other, OneCpu);
        view.Reserve(Other, OneCpu);
        Assert.Equal((0, 1), Free(view));

        // Each return gives back one of its shape; a shape never sent gives back nothing.
        view.Unreserve(Other, OneCpu);
        Assert.Equal((0, 1), Free(view));
        view.Unreserve(Other, OneCpu);
        Assert.Equal((1, 1), Free(view));
        view.Unreserve(Other, ResourceSet.Create(2, 0, null));
        Assert.Equal((1, 1), Free(view));
        view.Unreserve(Other, Special);
        Assert.Equal((2, 2), Free(view));
        view.Unreserve(Other, OneCpu);
        view.Unreserve(Other, OneCpu);
        Assert.Equal((4, 2), Free(view));
        view.Unreserve(Other, OneCpu);
        Assert.Equal((4, 2), Free(view));
    }

    [Fact]
    public void A_burst_of_forwarded_work_is_counted_whole()
    {
        var view = View(total: 20_000, special: 0);
        for (var i = 0; i < 15_000; i++)
        {
            view.Reserve(Other, OneCpu);
        }

        Assert.Equal(5_000, Free(view).Cpus);
        for (var i = 0; i < 14_000; i++)
        {
            view.Unreserve(Other, OneCpu);
        }

        Assert.Equal(19_000, Free(view).Cpus);
    }

    [Fact]
    public void A_report_made_after_the_work_was_sent_replaces_its_reservation()
    {
        var clock = new ManualClock();
        var view = View(total: 4, special: 0, clock);
        view.SetHeartbeatPeriod(TimeSpan.Zero);
        view.Reserve(Other, OneCpu);
        view.Reserve(Other, OneCpu);

        // A report that may predate the work leaves it counted.
        view.OnResources(Report(cpus: 4));
        Assert.Equal(2, Free(view).Cpus);

        // Once the report's lag has passed, the node's own figure is the truth (here it runs one of the two).
        clock.Advance(TimeSpan.FromMilliseconds(200));
        view.OnResources(Report(cpus: 3));
        Assert.Equal(3, Free(view).Cpus);
        view.Unreserve(Other, OneCpu);
        Assert.Equal(3, Free(view).Cpus);
    }

    [Fact]
    public void Resource_arithmetic_keeps_its_canonical_form()
    {
        var set = ResourceSet.Create(2, 1, new Dictionary<string, double> { ["special"] = 0.5 });
        Assert.Equal(ResourceSet.Create(6, 3, new Dictionary<string, double> { ["special"] = 1.5 }), set.Times(3));
        Assert.Same(set, set.Times(1));
        Assert.Equal(ResourceSet.Empty, set.Times(0));

        // Exhausted resources leave the set, so equal amounts are equal sets.
        Assert.Equal(ResourceSet.Create(1, 0, null), set.Minus(ResourceSet.Create(1, 1, new Dictionary<string, double> { ["special"] = 0.5 })));
        Assert.Equal(ResourceSet.Empty, set.Minus(set.Times(2)));
        Assert.Same(set, set.Minus(ResourceSet.Empty));
    }

    private static ClusterView View(double total, double special, TimeProvider? clock = null)
    {
        var local = ResourceSet.Create(1, 0, null);
        var view = new ClusterView(Self, local, () => local, clock);
        var info = new GcsNodeInfo { NodeId = NodeIds.ToBytes(Other), Address = "127.0.0.2:1", IsAlive = true };
        info.Total["CPU"] = total;
        info.Available["CPU"] = total;
        if (special > 0)
        {
            info.Total["special"] = special;
            info.Available["special"] = special;
        }

        view.OnNodeChanged(info);
        return view;
    }

    private static ResourceView Report(double cpus)
    {
        var entry = new NodeAvailability { NodeId = NodeIds.ToBytes(Other) };
        entry.Available["CPU"] = cpus;
        return new ResourceView { Nodes = { entry } };
    }

    private static (double Cpus, double Special) Free(ClusterView view)
    {
        var node = view.Find(Other)!;
        return (node.Available[ResourceSet.Cpu], node.Available["special"]);
    }
}

/// <summary>A clock that moves only when told to.</summary>
internal sealed class ManualClock : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
