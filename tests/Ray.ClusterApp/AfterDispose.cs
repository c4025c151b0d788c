using Ray;

/// <summary>
/// The after-dispose mode: a cluster driver with a get and a wait in flight, an object of each size and an actor is
/// disposed, then every call is tried and its outcome printed as "step: ok VALUE", "step: hung" or "step: Type: message".
/// </summary>
internal static class AfterDispose
{
    private static readonly TimeSpan StepLimit = TimeSpan.FromSeconds(10);

    public static async Task RunAsync(RayRuntime ray)
    {
        var small = ray.Put(1);
        var large = ray.Put(new double[1 << 18]);
        var actor = Holder.Remote();
        await actor.ProcessId();
        var pending = ClusterAppTasks.Remote.RunUntilKilled();
        var awaiting = pending.GetAsync().AsTask();
        var waiting = ray.WaitAsync([pending]);
        await ray.DisposeAsync();

        await StepAsync("awaiting", async () => await awaiting);
        await StepAsync("waiting", async () => (await waiting).Ready.Count);
        await StepAsync("put", () => ray.Put(2));
        await StepAsync("get small", () => small.Get(StepLimit));
        await StepAsync("get large", () => large.Get(StepLimit).Length);
        await StepAsync("get pending", () => pending.Get(StepLimit));
        await StepAsync("wait", async () => (await ray.WaitAsync([pending], timeout: StepLimit)).Ready.Count);
        await StepAsync("cancel", () => ray.Cancel(pending));
        await StepAsync("actor call", async () => await actor.ProcessId());
        await StepAsync("list", () => ray.ListObjects().Count);
        await StepAsync("stats", () => ray.GetObjectStoreStats().UsedBytes);
        await StepAsync("nodes", async () => (await ray.GetNodesAsync()).Count);
        await StepAsync("submit", () => ClusterAppTasks.Remote.Version());
    }

    private static Task StepAsync(string name, Action step) => StepAsync(name, () =>
    {
        step();
        return Task.FromResult("done");
    });

    private static Task StepAsync<T>(string name, Func<T> step) => StepAsync(name, () => Task.FromResult(step()));

    private static async Task StepAsync<T>(string name, Func<Task<T>> step)
    {
        string outcome;
        try
        {
            var running = Task.Run(step);
            outcome = await Task.WhenAny(running, Task.Delay(StepLimit)) == running ? $"ok {await running}" : "hung";
        }
        catch (Exception e)
        {
            outcome = $"{e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}";
        }

        Console.WriteLine($"{name}: {outcome}");
    }
}
