namespace Ray.Runtime.Tests;

/// <summary>Reads concurrency out of the intervals tasks report.</summary>
internal static class Intervals
{
    /// <summary>The largest number of intervals that were open at the same moment.</summary>
    public static int MaxOverlap(IReadOnlyList<Interval> intervals)
    {
        var events = intervals.SelectMany(i => new[] { (Time: i.Start, Delta: 1), (Time: i.End, Delta: -1) })
            .OrderBy(e => e.Time).ThenBy(e => e.Delta);
        int current = 0, max = 0;
        foreach (var (_, delta) in events)
        {
            current += delta;
            max = Math.Max(max, current);
        }

        return max;
    }
}
