using System.Globalization;
using Ray;

namespace RayGen.Benchmarks;

/// <summary>A target from ARCHITECTURE.md section 5, checked against a row's median rate.</summary>
/// <param name="Text">The target as stated.</param>
/// <param name="Check">Whether a rate meets it (given the row's rate and its in-process baseline's), and the rate in the target's terms.</param>
internal sealed record Target(string Text, Func<double, double, (bool Met, string Measured)> Check);

/// <summary>
/// One row of Ray's microbenchmark: the RayGen operation, the same work in-process with <c>Task.Run</c>, and how
/// many of the row's units one operation counts for (Ray's <c>timeit</c> multiplier).
/// </summary>
internal sealed record MicroBenchmark(
    string Name,
    string Unit,
    double? RayFigure,
    double Multiplier,
    Func<Task> RayGen,
    Func<Task> Baseline,
    string Description,
    Target? Target = null)
{
    /// <summary>
    /// Operations run before timing, at least, besides the warm-up time: rows whose operation allocates hundreds of
    /// MiB need several before the garbage collector reuses memory instead of taking fresh pages from the system.
    /// </summary>
    public int MinWarmUpOperations { get; init; } = 1;
}

/// <summary>The rows, named as in Ray's <c>release/perf_metrics/microbenchmark.json</c>.</summary>
internal static class MicroBenchmarks
{
    /// <summary>Ray's <c>single client tasks async</c> and <c>tasks and get batch</c> batch size.</summary>
    private const int Batch = 1000;

    /// <summary>Inner repetitions for operations far shorter than a stopwatch read.</summary>
    private const int Inner = 1000;

    public static IReadOnlyList<MicroBenchmark> All(Settings settings)
    {
        // Ray: n = 10000 tasks per client, m = 4 clients (--quick: 250 per client).
        var perClient = settings.Quick ? 250 : 10_000;
        const int clients = 4;
        var clientOptions = new TaskOptions { NumCpus = 0 };
        ObjectRef<int>? ready = null;
        var readyTask = Task.Run(NoopTasks.LocalSmallValue);

        return
        [
            new(
                "single_client_tasks_sync",
                "tasks/s",
                952.5,
                1,
                async () => await NoopTasks.Remote.SmallValue(),
                async () => await Task.Run(NoopTasks.LocalSmallValue),
                "submit one no-op task and await its result, repeatedly / await Task.Run(no-op), repeatedly",
                new Target("<= 100 us per sync round trip (>= 10,000 tasks/s)", (rate, _) => (1e6 / rate <= 100, $"{(1e6 / rate).ToString("0.0", CultureInfo.InvariantCulture)} us per round trip"))),
            new(
                "single_client_tasks_async",
                "tasks/s",
                7691.0,
                Batch,
                () => SubmitAndGetBatchAsync(RayRuntime.Current, Batch),
                () => RunAndAwaitBatchAsync(Batch),
                $"submit {Batch} no-op tasks, then get all (Ray counts each task) / {Batch} x Task.Run, then await all",
                new Target(">= 50,000 async no-op tasks/s", (rate, _) => (rate >= 50_000, $"{Program.Rate(rate)} tasks/s"))),
            new(
                "single_client_tasks_and_get_batch",
                "batches/s",
                7.99,
                1,
                () => SubmitAndGetBatchAsync(RayRuntime.Current, Batch),
                () => RunAndAwaitBatchAsync(Batch),
                $"the same work as single_client_tasks_async, counted as Ray counts this row: batches of {Batch} tasks per second"),
            new(
                "multi_client_tasks_async",
                "tasks/s",
                22008.6,
                perClient * clients,
                () => MultiClientAsync(clientOptions, clients, perClient),
                () => MultiClientBaselineAsync(clients, perClient),
                $"{clients} client tasks (NumCpus = 0, as Ray's zero-CPU actors) each submit {perClient:N0} no-op tasks and await them / {clients} x Task.Run each running {perClient:N0} x Task.Run"),
            new(
                "single_client_get_calls",
                "gets/s",
                10393.9,
                Inner,
                () =>
                {
                    ready ??= RayRuntime.Current.Put(0);
                    var sum = 0;
                    for (var i = 0; i < Inner; i++)
                    {
                        sum += ready.Get();
                    }

                    return sum == 0 ? Task.CompletedTask : throw new InvalidOperationException("Get returned a wrong value.");
                },
                async () =>
                {
                    var sum = 0;
                    for (var i = 0; i < Inner; i++)
                    {
                        sum += await readyTask;
                    }

                    if (sum != 0)
                    {
                        throw new InvalidOperationException("Wrong value.");
                    }
                },
                "Get() of an object that is already there (ray.Put(0)) / await of a completed Task.Run result"),
            new(
                "single_client_wait_1k_refs",
                "rounds/s",
                5.18,
                1,
                () => WaitDrainAsync(RayRuntime.Current, Batch),
                () => WhenAnyDrainAsync(Batch),
                $"submit {Batch} no-op tasks, then WaitAsync(notReady, numReturns: 1) until none is left, as Ray's loop of ray.wait / the same with Task.WhenAny over Task.Run tasks"),
            .. ActorBenchmarks.All(settings),
            .. ObjectStoreBenchmarks.All(settings),
            .. StreamBenchmarks.All(settings),
            new(
                "single_client_put_calls",
                "puts/s",
                5238.4,
                Inner,
                () =>
                {
                    var ray = RayRuntime.Current;
                    for (var i = 0; i < Inner; i++)
                    {
                        _ = ray.Put(0);
                    }

                    return Task.CompletedTask;
                },
                () =>
                {
                    for (var i = 0; i < Inner; i++)
                    {
                        _ = Task.FromResult(i);
                    }

                    return Task.CompletedTask;
                },
                "ray.Put(0) (a new small object each time) / Task.FromResult(i) (a completed in-process future)")
        ];
    }

    private static async Task SubmitAndGetBatchAsync(RayRuntime ray, int count)
    {
        var references = new ObjectRef<int>[count];
        for (var i = 0; i < count; i++)
        {
            references[i] = NoopTasks.Remote.SmallValue();
        }

        _ = await ray.GetAsync(references);
    }

    private static async Task RunAndAwaitBatchAsync(int count)
    {
        var tasks = new Task<int>[count];
        for (var i = 0; i < count; i++)
        {
            tasks[i] = Task.Run(NoopTasks.LocalSmallValue);
        }

        _ = await Task.WhenAll(tasks);
    }

    private static async Task MultiClientAsync(TaskOptions options, int clients, int perClient)
    {
        var references = new ObjectRef<int>[clients];
        for (var i = 0; i < clients; i++)
        {
            references[i] = NoopTasks.Remote.WithOptions(options).SmallValueBatch(perClient);
        }

        foreach (var reference in references)
        {
            if (await reference != perClient)
            {
                throw new InvalidOperationException("A client task returned a wrong count.");
            }
        }
    }

    private static async Task MultiClientBaselineAsync(int clients, int perClient)
    {
        var tasks = new Task[clients];
        for (var i = 0; i < clients; i++)
        {
            tasks[i] = Task.Run(() => RunAndAwaitBatchAsync(perClient));
        }

        await Task.WhenAll(tasks);
    }

    private static async Task WaitDrainAsync(RayRuntime ray, int count)
    {
        IReadOnlyList<ObjectRef<int>> notReady = Enumerable.Range(0, count).Select(_ => NoopTasks.Remote.SmallValue()).ToArray();
        while (notReady.Count > 0)
        {
            (_, notReady) = await ray.WaitAsync(notReady, numReturns: 1);
        }
    }

    private static async Task WhenAnyDrainAsync(int count)
    {
        var notReady = Enumerable.Range(0, count).Select(_ => Task.Run(NoopTasks.LocalSmallValue)).ToList();
        while (notReady.Count > 0)
        {
            var done = await Task.WhenAny(notReady);
            notReady.Remove(done);
        }
    }
}
