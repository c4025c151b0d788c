using System.Diagnostics;
using System.Globalization;
using Ray;

namespace RayGen.Benchmarks;

/// <summary>Ray's <c>Actor</c> of the microbenchmark: a no-op method, one with an argument, and an async one.</summary>
[Remote]
public partial class BenchActor
{
    private int _calls;

    /// <summary>Ray's <c>small_value()</c> method.</summary>
    public int SmallValue() => _calls++ & 0;

    /// <summary>Ray's <c>small_value_arg(x)</c>.</summary>
    public int SmallValueArg(int x) => x & 0;

    /// <summary>Ray's async actor method, for the concurrent row.</summary>
    public async Task<int> SmallValueAsync()
    {
        await Task.Yield();
        return 0;
    }
}

/// <summary>Ray's client for the n:n rows: a task that calls its own actor <paramref name="n"/> times.</summary>
public static partial class ActorClients
{
    /// <summary>Submits <paramref name="n"/> calls to <paramref name="actor"/> and waits for them.</summary>
    [Remote(NumCpus = 0)]
    public static async Task<int> CallMany(ActorHandle<BenchActor> actor, int n, bool withArgument)
    {
        var references = new ObjectRef<int>[n];
        for (var i = 0; i < n; i++)
        {
            references[i] = withArgument ? actor.SmallValueArg(i) : actor.SmallValue();
        }

        var sum = 0;
        foreach (var reference in references)
        {
            sum += await reference;
        }

        return sum;
    }
}

/// <summary>The in-process baseline's actor: the same object behind a lock, called through Task.Run.</summary>
internal sealed class LocalActor
{
    private readonly Lock _gate = new();
    private int _calls;

    public int SmallValue()
    {
        lock (_gate)
        {
            return _calls++ & 0;
        }
    }
}

/// <summary>Ray's actor rows, named as in its <c>microbenchmark.json</c>.</summary>
internal static class ActorBenchmarks
{
    private const int Batch = 1000;

    /// <summary>How many grains the Orleans peer's 1_n and n_n rows spread their calls over.</summary>
    private const int PeerActors = 32;

    public static IEnumerable<MicroBenchmark> All(Settings settings)
    {
        var perClient = settings.Quick ? 250 : 2_000;
        const int clients = 4;
        const int actors = 4;
        ActorHandle<BenchActor>? one = null;
        ActorHandle<BenchActor>? concurrent = null;
        ActorHandle<BenchActor>[]? many = null;
        ActorHandle<BenchActor>[]? shared = null;
        var local = new LocalActor();

        ActorHandle<BenchActor> One() => one ??= BenchActor.Remote();
        ActorHandle<BenchActor> Concurrent() => concurrent ??= BenchActor.WithOptions(new ActorOptions { MaxConcurrency = 16 }).Remote();
        ActorHandle<BenchActor>[] Many() => many ??= [.. Enumerable.Range(0, actors).Select(_ => BenchActor.Remote())];
        ActorHandle<BenchActor>[] Shared() => shared ??= [.. Enumerable.Range(0, PeerActors).Select(_ => BenchActor.Remote())];

        yield return new(
            "1_1_actor_calls_sync",
            "calls/s",
            1_989,
            1,
            async () => await One().SmallValue(),
            async () => await Task.Run(local.SmallValue),
            "call one actor's no-op method and await it, repeatedly / await Task.Run(locked no-op), repeatedly",
            new Target("<= 100 us per sync actor call (>= 10,000 calls/s)", (rate, _) => (1e6 / rate <= 100, $"{(1e6 / rate).ToString("0.0", CultureInfo.InvariantCulture)} us per call")));
        yield return new(
            "1_1_actor_calls_async",
            "calls/s",
            8_700,
            Batch,
            () => CallBatchAsync(One(), Batch, a => a.SmallValue()),
            () => LocalBatchAsync(local, Batch),
            $"submit {Batch} calls to one actor, then await all / {Batch} x Task.Run(locked no-op), then await all",
            new Target(">= 100,000 async actor calls/s", (rate, _) => (rate >= 100_000, $"{Program.Rate(rate)} calls/s")));
        yield return new(
            "1_1_actor_calls_concurrent",
            "calls/s",
            null,
            Batch,
            () => CallBatchAsync(Concurrent(), Batch, a => a.SmallValueAsync()),
            () => LocalBatchAsync(local, Batch),
            $"the same against an actor with MaxConcurrency = 16 whose method is async / the same baseline");
        yield return new(
            "1_n_actor_calls_async",
            "calls/s",
            null,
            Batch,
            () => CallSpreadAsync(Many(), Batch),
            () => LocalBatchAsync(local, Batch),
            $"submit {Batch} calls spread over {actors} actors, then await all / the same baseline");
        yield return new(
            "n_n_actor_calls_async",
            "calls/s",
            null,
            clients * perClient,
            () => ClientsAsync(Many(), perClient, withArgument: false),
            () => LocalClientsAsync(local, clients, perClient),
            $"{clients} client tasks each make {perClient:N0} calls to their own actor / {clients} x Task.Run each making {perClient:N0} locked calls");
        yield return new(
            "n_n_actor_calls_async_peer_shape",
            "calls/s",
            null,
            clients * Batch,
            () => Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(() => CallSpreadAsync(Shared(), Batch)))),
            () => LocalClientsAsync(local, clients, Batch),
            $"the Orleans peer's n_n shape: {clients} loops in the driver, each submitting {Batch} calls spread over the same {PeerActors} actors, then awaiting them / {clients} x Task.Run each making {Batch} locked calls");
        yield return new(
            "n_n_actor_calls_with_arg_async",
            "calls/s",
            null,
            clients * perClient,
            () => ClientsAsync(Many(), perClient, withArgument: true),
            () => LocalClientsAsync(local, clients, perClient),
            "the same, each call carrying an int argument");
    }

    /// <summary>Creates <paramref name="count"/> actors, waits until each answers, and measures time and worker memory.</summary>
    public static async Task RunCreationAsync(TextWriter output, RayRuntime runtime, int count)
    {
        var before = WorkerMemoryBytes(runtime);
        var stopwatch = Stopwatch.StartNew();
        var handles = new ActorHandle<BenchActor>[count];
        for (var i = 0; i < count; i++)
        {
            handles[i] = BenchActor.Remote();
        }

        var created = stopwatch.Elapsed;
        await runtime.GetAsync(handles.Select(h => h.SmallValue()));
        var answered = stopwatch.Elapsed;
        var after = WorkerMemoryBytes(runtime);
        output.WriteLine($"actor_creation: {count:N0} actors on one node ({runtime.WorkerProcessIds.Count} worker processes): " +
                         $"Remote() calls took {Seconds(created)}, all {count:N0} answered their first call after {Seconds(answered)} " +
                         $"({Program.Rate(count / answered.TotalSeconds)} actors/s); worker memory {Mib(before)} -> {Mib(after)} " +
                         $"(+{Mib(after - before)}, about {((after - before) / (double)count / 1024).ToString("0.0", CultureInfo.InvariantCulture)} KiB per actor)");
        foreach (var handle in handles)
        {
            runtime.Kill(handle);
        }
    }

    private static async Task CallBatchAsync(ActorHandle<BenchActor> actor, int count, Func<ActorHandle<BenchActor>, ObjectRef<int>> call)
    {
        var references = new ObjectRef<int>[count];
        for (var i = 0; i < count; i++)
        {
            references[i] = call(actor);
        }

        foreach (var reference in references)
        {
            await reference;
        }
    }

    private static async Task CallSpreadAsync(ActorHandle<BenchActor>[] actors, int count)
    {
        var references = new ObjectRef<int>[count];
        for (var i = 0; i < count; i++)
        {
            references[i] = actors[i % actors.Length].SmallValue();
        }

        foreach (var reference in references)
        {
            await reference;
        }
    }

    private static async Task ClientsAsync(ActorHandle<BenchActor>[] actors, int perClient, bool withArgument)
    {
        var clients = actors.Select(actor => ActorClients.Remote.CallMany(actor, perClient, withArgument)).ToList();
        foreach (var client in clients)
        {
            await client;
        }
    }

    private static async Task LocalBatchAsync(LocalActor actor, int count)
    {
        var tasks = new Task<int>[count];
        for (var i = 0; i < count; i++)
        {
            tasks[i] = Task.Run(actor.SmallValue);
        }

        await Task.WhenAll(tasks);
    }

    private static Task LocalClientsAsync(LocalActor actor, int clients, int perClient) =>
        Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(() => LocalBatchAsync(actor, perClient))));

    /// <summary>
    /// The workers' own memory: anonymous resident pages (RssAnon) where Linux reports them, which leaves out the pages
    /// of the shared-memory object store that workers map; else the working set.
    /// </summary>
    internal static long WorkerMemoryBytes(RayRuntime runtime)
    {
        long total = 0;
        foreach (var pid in runtime.AllWorkerProcessIds)
        {
            try
            {
                total += AnonymousResidentBytes(pid) ?? Process.GetProcessById(pid).WorkingSet64;
            }
            catch (ArgumentException)
            {
                // The worker exited meanwhile.
            }
        }

        return total;
    }

    private static long? AnonymousResidentBytes(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("RssAnon:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line["RssAnon:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + " s";

    private static string Mib(long bytes) => (bytes / 1024.0 / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";
}
