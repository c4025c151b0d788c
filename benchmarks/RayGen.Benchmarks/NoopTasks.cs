using Ray;

namespace RayGen.Benchmarks;

/// <summary>The remote functions of Ray's microbenchmark: a no-op task, and a "client" that submits many of them.</summary>
public static partial class NoopTasks
{
    /// <summary>Ray's <c>small_value()</c>: returns a small value and does nothing else.</summary>
    [Remote]
    public static int SmallValue() => 0;

    /// <summary>
    /// Ray's <c>Actor.small_value_batch(n)</c> for "multi client tasks async": submits <paramref name="n"/> no-op
    /// tasks from inside a task and waits for all of them. Ray runs it on a zero-CPU actor; here it is a task
    /// submitted with <c>NumCpus = 0</c>, so the clients do not hold the CPUs their no-op tasks need.
    /// </summary>
    [Remote]
    public static async Task<int> SmallValueBatch(int n)
    {
        var references = new ObjectRef<int>[n];
        for (var i = 0; i < n; i++)
        {
            references[i] = Remote.SmallValue();
        }

        var sum = 0;
        foreach (var reference in references)
        {
            sum += await reference;
        }

        return n + sum;
    }

    /// <summary>The in-process baseline's no-op.</summary>
    public static int LocalSmallValue() => 0;
}
