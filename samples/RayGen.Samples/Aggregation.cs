using System.Diagnostics;
using Ray;

namespace RayGen.Samples;

/// <summary>
/// Seed III.II "Aggregating Values Efficiently": summing 1..8 with <c>add(x, y)</c> tasks as a linear chain
/// (depth 7) and as a tree (depth 3), first written out, then with the seed's two while loops.
/// </summary>
public static partial class Aggregation
{
    public const string Name = "aggregation";

    /// <summary>The seed's <c>add(x, y)</c>, which sleeps 1 s there; here the sleep is an argument so it can be scaled.</summary>
    [Remote]
    public static int Add(int x, int y, int sleepMs)
    {
        Thread.Sleep(sleepMs);
        return x + y;
    }

    /// <summary>Runs the sample.</summary>
    /// <param name="output">Where the sample prints.</param>
    /// <param name="sleep">How long each <c>add</c> sleeps: 0.1 s by default instead of the seed's 1 s.</param>
    public static async Task RunAsync(TextWriter output, TimeSpan? sleep = null)
    {
        var ms = (int)(sleep ?? TimeSpan.FromMilliseconds(100)).TotalMilliseconds;
        var step = NodeInfo.Seconds(TimeSpan.FromMilliseconds(ms));
        var cpus = NodeInfo.Cpus;
        output.WriteLine($"Node: {NodeInfo.Describe()}.");
        output.WriteLine($"add(x, y) sleeps {step}" + (ms == 1000 ? "." : " (the seed sleeps 1 s; scaled down here)."));

        // The tree's levels hold 4, 2 and 1 additions; a level of w additions takes ceil(w / CPUs) steps.
        var treeSteps = new[] { 4, 2, 1 }.Sum(width => (width + cpus - 1) / cpus);
        var linearNote = $"expected about 7 x {step}";
        var treeNote = $"expected about {treeSteps} x {step} on {cpus} CPUs" + (treeSteps == 3 ? string.Empty : "; 3 x with at least 4 CPUs");

        await TimeAsync(output, "approach1 (linear chain, depth 7)", linearNote, () => Approach1(ms));
        await TimeAsync(output, "tree_approach (tree, depth 3)    ", treeNote, () => TreeApproach(ms));
        await TimeAsync(output, "while loop, slow approach        ", linearNote, () => WhileLoop(ms, fast: false));
        await TimeAsync(output, "while loop, fast approach        ", treeNote, () => WhileLoop(ms, fast: true));
    }

    /// <summary>The seed's <c>approach1()</c>: each addition waits for the previous one.</summary>
    public static ObjectRef<int> Approach1(int sleepMs)
    {
        var id1 = Remote.Add(1, 2, sleepMs);
        var id2 = Remote.Add(id1, 3, sleepMs);
        var id3 = Remote.Add(id2, 4, sleepMs);
        var id4 = Remote.Add(id3, 5, sleepMs);
        var id5 = Remote.Add(id4, 6, sleepMs);
        var id6 = Remote.Add(id5, 7, sleepMs);
        var id7 = Remote.Add(id6, 8, sleepMs);
        return id7;
    }

    /// <summary>The seed's <c>tree_approach()</c>: pairs first, then pairs of pairs.</summary>
    public static ObjectRef<int> TreeApproach(int sleepMs)
    {
        var id1 = Remote.Add(1, 2, sleepMs);
        var id2 = Remote.Add(3, 4, sleepMs);
        var id3 = Remote.Add(5, 6, sleepMs);
        var id4 = Remote.Add(7, 8, sleepMs);
        var id5 = Remote.Add(id1, id2, sleepMs);
        var id6 = Remote.Add(id3, id4, sleepMs);
        var id7 = Remote.Add(id5, id6, sleepMs);
        return id7;
    }

    /// <summary>
    /// The seed's while loops. The list mixes plain values and futures, which is exactly what
    /// <see cref="Arg{T}"/> holds. Slow: <c>values = [add.remote(values[0], values[1])] + values[2:]</c>;
    /// fast: <c>values = values[2:] + [add.remote(values[0], values[1])]</c>.
    /// </summary>
    public static ObjectRef<int> WhileLoop(int sleepMs, bool fast)
    {
        List<Arg<int>> values = [1, 2, 3, 4, 5, 6, 7, 8];
        while (values.Count > 1)
        {
            Arg<int> sum = Remote.Add(values[0], values[1], sleepMs);
            values = fast ? [.. values[2..], sum] : [sum, .. values[2..]];
        }

        return values[0].Reference!;
    }

    private static async Task TimeAsync(TextWriter output, string label, string expected, Func<ObjectRef<int>> run)
    {
        var stopwatch = Stopwatch.StartNew();
        var result = await run();
        output.WriteLine($"  {label}: result = {result}, {NodeInfo.Seconds(stopwatch.Elapsed)} ({expected})");
    }
}
