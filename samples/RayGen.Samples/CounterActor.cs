using Ray;

namespace RayGen.Samples;

/// <summary>
/// Seed IV "From Classes to Actors": <c>Counter.remote()</c>, then <c>get_value</c> (0), two <c>inc</c> calls and
/// <c>get_value</c> again (2). Calls from one caller run in the order they were made, so the second read sees both increments.
/// </summary>
[Remote]
public partial class Counter
{
    private int _x;

    /// <summary>The seed's <c>__init__</c>: the counter starts at 0.</summary>
    public Counter() => _x = 0;

    /// <summary>The seed's <c>inc</c>.</summary>
    public void Inc() => _x += 1;

    /// <summary>The seed's <c>get_value</c>.</summary>
    public int GetValue() => _x;
}

/// <summary>Runs the counter example.</summary>
public static class CounterActor
{
    public const string Name = "counter-actor";

    /// <summary>Runs the sample.</summary>
    /// <param name="output">Where the sample prints.</param>
    public static async Task RunAsync(TextWriter output)
    {
        // Create an actor: one Counter instance now lives in a worker process.
        var c = Counter.Remote();

        // Check the actor's counter value.
        output.WriteLine(await c.GetValue()); // 0

        // Increment the counter twice and check the value again. The increments are fire and forget.
        c.Inc();
        c.Inc();
        output.WriteLine(await c.GetValue()); // 2

        RayRuntime.Current.Kill(c);
    }
}
