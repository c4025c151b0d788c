namespace RayGen.Samples;

/// <summary>One runnable sample: its command-line name, the seed section it ports, and how to run it.</summary>
/// <param name="Name">The name given on the command line, for example <c>aggregation</c>.</param>
/// <param name="SeedSection">The section of the seed tutorial the sample ports.</param>
/// <param name="RunAsync">Runs the sample with its default parameters against the process's runtime.</param>
/// <param name="RunQuickAsync">Runs it with small parameters (<c>--quick</c>): the same output in seconds, to check that it works.</param>
public sealed record Sample(string Name, string SeedSection, Func<TextWriter, Task> RunAsync, Func<TextWriter, Task> RunQuickAsync);

/// <summary>Every sample, in the order the seed tutorial presents them.</summary>
public static class SampleCatalog
{
    /// <summary>The samples, in the order <c>dotnet run</c> runs them.</summary>
    public static IReadOnlyList<Sample> All { get; } =
    [
        new(ParallelTasks.Name, "II \"Asynchronous Computation in Ray\" (foo/bar) and III \"Parallelism with Tasks\"", output => ParallelTasks.RunAsync(output),
            output => ParallelTasks.RunAsync(output, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(20), barCount: 4)),
        new(TaskDependencies.Name, "III.I \"Task Dependencies\" and II add2.remote(1, ray.put(2))", output => TaskDependencies.RunAsync(output),
            output => TaskDependencies.RunAsync(output, size: 40)),
        new(Aggregation.Name, "III.II \"Aggregating Values Efficiently\" (explicit and while-loop versions)", output => Aggregation.RunAsync(output),
            output => Aggregation.RunAsync(output, TimeSpan.FromMilliseconds(10))),
        new(CounterActor.Name, "IV \"From Classes to Actors\" (Counter: 0, then 2)", output => CounterActor.RunAsync(output),
            output => CounterActor.RunAsync(output)),
        new(MessageActorSample.Name, "IV.I \"Actor Handles\" (MessageActor and three worker tasks)", output => MessageActorSample.RunAsync(output),
            output => MessageActorSample.RunAsync(output, messagesPerWorker: 3, interval: TimeSpan.FromMilliseconds(50))),
        new(MessageStreamSample.Name, "IV.I \"Actor Handles\", the MessageActor streaming its messages instead of being polled", output => MessageStreamSample.RunAsync(output),
            output => MessageStreamSample.RunAsync(output, messagesPerWorker: 3, interval: TimeSpan.FromMilliseconds(20))),
        new(LargeObjects.Name, "I \"Efficiently handling large objects and numerical data\" and the shared-memory object store", output => LargeObjects.RunAsync(output),
            output => LargeObjects.RunAsync(output, length: 1 << 20, slices: 4)),
        new(StressTable.Name, "V \"Tuning and profiling\" and VI \"Summarizing Performance\" (Table 1)", output => StressTable.RunAsync(output),
            output => StressTable.RunAsync(output, [10, 20, 50], rounds: 1, warmUp: TimeSpan.FromSeconds(0.2))),
        new(ParameterServerSample.Name, "beyond the seed: why actors matter (a parameter server for asynchronous SGD)", output => ParameterServerSample.RunAsync(output),
            output => ParameterServerSample.RunAsync(output, workers: 3, steps: 40)),
        new(StreamingPipeline.Name, "beyond the seed: a streaming pipeline (a producer task streaming batches, transforming tasks, a consumer)", output => StreamingPipeline.RunAsync(output),
            output => StreamingPipeline.RunAsync(output, batches: 12, batchSize: 500)),
    ];

    /// <summary>Finds a sample by name (case-insensitive).</summary>
    public static Sample? Find(string name) =>
        All.FirstOrDefault(sample => string.Equals(sample.Name, name, StringComparison.OrdinalIgnoreCase));
}
